/**
 * API discovery through the aggregated discovery endpoint (apidiscovery.k8s.io/v2, GA in 1.30):
 * two requests give every group, version, resource, scope and verb the server serves.
 */
import { TenkaiError } from "../../shared/errors.js";
import type { KubeClient } from "./client.js";

export interface ApiResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Plural resource name used in paths, e.g. `deployments`. */
  readonly resource: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  readonly subresources: readonly { readonly name: string; readonly verbs: readonly string[] }[];
}

interface DiscoveryList {
  items?: {
    metadata?: { name?: string };
    versions?: {
      version: string;
      resources?: {
        resource: string;
        responseKind?: { kind?: string };
        scope?: string;
        verbs?: string[];
        subresources?: { subresource: string; verbs?: string[] }[];
      }[];
    }[];
  }[];
}

const ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

export class Discovery {
  private byKind = new Map<string, ApiResource>();
  private list: ApiResource[] = [];
  private loaded: Promise<void> | undefined;

  constructor(private readonly client: KubeClient) {}

  /** Loads (or reloads, after CRDs were added) what the server serves. */
  refresh(): Promise<void> {
    this.loaded = (async () => {
      const [core, groups] = await Promise.all([
        this.client.request<DiscoveryList>({ method: "GET", path: "/api", accept: ACCEPT }),
        this.client.request<DiscoveryList>({ method: "GET", path: "/apis", accept: ACCEPT }),
      ]);
      const list: ApiResource[] = [];
      const byKind = new Map<string, ApiResource>();
      for (const item of [...(core.body.items ?? []), ...(groups.body.items ?? [])]) {
        const group = item.metadata?.name ?? "";
        // Versions come preferred first: the first version seen for a kind is the one we list with.
        for (const v of item.versions ?? []) {
          for (const r of v.resources ?? []) {
            const res: ApiResource = {
              group,
              version: v.version,
              kind: r.responseKind?.kind ?? r.resource,
              resource: r.resource,
              namespaced: r.scope === "Namespaced",
              verbs: r.verbs ?? [],
              subresources: (r.subresources ?? []).map((s) => ({
                name: s.subresource,
                verbs: s.verbs ?? [],
              })),
            };
            const key = `${group}/${v.version}/${res.kind}`;
            if (!byKind.has(key)) byKind.set(key, res);
            if (!byKind.has(`${group}//${res.kind}`)) {
              byKind.set(`${group}//${res.kind}`, res);
              list.push(res);
            }
          }
        }
      }
      if (list.length === 0)
        throw new TenkaiError(
          "KUBE_DISCOVERY_EMPTY",
          "the API server returned no aggregated discovery (needs Kubernetes 1.30+)",
          "upgrade the cluster to 1.30 or later",
        );
      this.list = list;
      this.byKind = byKind;
    })();
    return this.loaded;
  }

  /** Every resource the server serves, once per group and kind (preferred version). */
  async resources(): Promise<readonly ApiResource[]> {
    await (this.loaded ?? this.refresh());
    return this.list;
  }

  /** The served resource for `Kind` or `Kind.group` (any version), or undefined. */
  async resourceForGroupKind(gk: string): Promise<ApiResource | undefined> {
    await (this.loaded ?? this.refresh());
    const dot = gk.indexOf(".");
    const [kind, group] = dot < 0 ? [gk, ""] : [gk.slice(0, dot), gk.slice(dot + 1)];
    return this.byKind.get(`${group}//${kind}`);
  }

  /** The resource for an object's apiVersion and kind; reloads once on a miss (new CRDs). */
  async resourceFor(apiVersion: string, kind: string): Promise<ApiResource> {
    await (this.loaded ?? this.refresh());
    const [group, version] = apiVersion.includes("/")
      ? (apiVersion.split("/") as [string, string])
      : ["", apiVersion];
    let r = this.byKind.get(`${group}/${version}/${kind}`);
    if (!r) {
      await this.refresh();
      r = this.byKind.get(`${group}/${version}/${kind}`);
    }
    if (!r)
      throw new TenkaiError(
        "KUBE_UNKNOWN_KIND",
        `the cluster does not serve ${kind} in ${apiVersion}`,
        "install the CRD or controller that provides it (tenkai applies the ALB controller CRDs itself)",
      );
    return { ...r, version };
  }
}

/** REST path for a resource (collection when name is undefined; all namespaces when namespace is undefined). */
export function resourcePath(
  r: Pick<ApiResource, "group" | "version" | "resource" | "namespaced">,
  namespace?: string,
  name?: string,
): string {
  const base = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${r.resource}${name ? `/${encodeURIComponent(name)}` : ""}`;
}
