/**
 * Reads the cluster for the API findings: only the kinds the rules name, page by page
 * (limit/continue), and only object metadata (the server's PartialObjectMetadataList form), which
 * holds everything the rules look at — the last-applied annotation and managed fields — at a
 * fraction of the bytes of full objects. Helm release Secrets are read the same way, with their
 * data, filtered by type on the server.
 */
import type { KubeClient } from "../kube/api/client.js";
import { type ApiResource, Discovery, resourcePath } from "../kube/api/discovery.js";
import type { Emit } from "../shared/events.js";
import { type ApiContext, liveObjectFindings, manifestFindings, objectRef } from "./api-findings.js";
import { parseApiVersion } from "./api-rules.js";
import { decodeHelmRelease, HELM_RELEASE_TYPE } from "./helm.js";
import { manifestDocs } from "./manifests.js";
import type { Finding, UpgradeEvent } from "./types.js";

const METADATA_ONLY = "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json";

export interface LiveScanOptions {
  readonly client: KubeClient;
  readonly emit: Emit<UpgradeEvent>;
  /** Objects per page. Default 500 (kubectl's chunk size). */
  readonly pageSize?: number;
  /** Release Secrets per page (they carry the whole release). Default 50. */
  readonly helmPageSize?: number;
}

export interface LiveScanResult {
  readonly findings: Finding[];
  readonly objects: number;
  /** `group/resource` listed. */
  readonly types: string[];
  readonly helmReleases: number;
}

interface ListPage<T> {
  items?: T[];
  metadata?: { continue?: string };
}

interface MetaItem {
  metadata?: import("./api-findings.js").ObjectMeta;
}

/** Lists a collection page by page, calling `each` on each page's items. */
export async function listPaged<T>(
  client: KubeClient,
  path: string,
  query: Readonly<Record<string, string>>,
  accept: string | undefined,
  each: (items: T[]) => void,
): Promise<number> {
  let token: string | undefined;
  let n = 0;
  do {
    const page = await client.request<ListPage<T>>({
      method: "GET",
      path,
      query: { ...query, ...(token ? { continue: token } : {}) },
      ...(accept ? { accept } : {}),
    });
    const items = page.body.items ?? [];
    n += items.length;
    each(items);
    token = page.body.metadata?.continue || undefined;
  } while (token);
  return n;
}

/** The served resources that hold the objects the rules are about: one per group and kind. */
export async function resourcesToScan(ctx: ApiContext, discovery: Discovery): Promise<ApiResource[]> {
  const out = new Map<string, ApiResource>();
  for (const rule of ctx.rules.rules) {
    const groups = new Set<string>([rule.group]);
    let r: string | null | undefined = rule.replacement;
    for (let i = 0; r && i < 5; i++) {
      groups.add(parseApiVersion(r).group);
      r = ctx.rules.find(r, rule.kind)?.replacement;
    }
    for (const group of groups) {
      const res = await discovery.resourceForGroupKind(group ? `${rule.kind}.${group}` : rule.kind);
      if (res?.verbs.includes("list")) out.set(`${res.group}/${res.resource}`, res);
    }
  }
  return [...out.values()].sort((a, b) =>
    `${a.group}/${a.resource}`.localeCompare(`${b.group}/${b.resource}`),
  );
}

export async function scanLive(ctx: ApiContext, opts: LiveScanOptions): Promise<LiveScanResult> {
  const { client, emit } = opts;
  const discovery = new Discovery(client);
  const resources = await resourcesToScan(ctx, discovery);
  const findings: Finding[] = [];
  let objects = 0;
  const types: string[] = [];
  for (const res of resources) {
    const t0 = Date.now();
    const name = `${res.group ? `${res.group}/` : ""}${res.resource}`;
    types.push(name);
    const n = await listPaged<MetaItem>(
      client,
      resourcePath(res),
      { limit: String(opts.pageSize ?? 500) },
      METADATA_ONLY,
      (items) => {
        for (const item of items) {
          if (item.metadata) findings.push(...liveObjectFindings(ctx, res.kind, item.metadata));
        }
        emit("debug", "upgrade.scan.page", `read ${items.length} ${name}`, {
          resource: name,
          objects: items.length,
        });
      },
    );
    objects += n;
    emit("info", "upgrade.scan.type", `${name}: ${n} object(s) checked`, {
      resource: name,
      objects: n,
      ms: Date.now() - t0,
    });
  }

  let helmReleases = 0;
  await listPaged<{ metadata?: { name?: string; namespace?: string }; data?: Record<string, string> }>(
    client,
    "/api/v1/secrets",
    {
      limit: String(opts.helmPageSize ?? 50),
      fieldSelector: `type=${HELM_RELEASE_TYPE}`,
      labelSelector: "owner=helm,status=deployed",
    },
    undefined,
    (items) => {
      for (const secret of items) {
        const where = objectRef("Secret", secret.metadata);
        const data = secret.data?.release;
        if (!data) continue;
        let release: ReturnType<typeof decodeHelmRelease>;
        try {
          release = decodeHelmRelease(data, where);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          emit("warn", "upgrade.helm.unreadable", error, { secret: where, error });
          continue;
        }
        helmReleases++;
        const label = `helm release ${release.namespace}/${release.name} rev ${release.revision}${release.chart ? ` (${release.chart})` : ""}`;
        for (const d of manifestDocs(release.manifest, label)) {
          findings.push(...manifestFindings(ctx, d.doc, "helm", d.location));
        }
      }
    },
  );
  emit("info", "upgrade.scan.helm", `${helmReleases} Helm release(s) checked`, { releases: helmReleases });
  return { findings, objects, types, helmReleases };
}
