/**
 * The ApplySet as it is in the cluster: its live children (listed cluster-wide per kind with the
 * part-of label), pruning those that left the spec, and the one-platform-per-cluster guard.
 */
import { TenkaiError } from "../../shared/errors.js";
import type { Emit } from "../../shared/events.js";
import { SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { ApplyEvent } from "./apply-events.js";
import { APPLYSET_ID_LABEL, APPLYSET_PART_OF_LABEL, objectKey } from "./applyset.js";
import { isKubeApiError, type KubeClient } from "./client.js";
import { mapLimit } from "./concurrency.js";
import { type Discovery, resourcePath } from "./discovery.js";
import { type Phase, phaseOf } from "./order.js";

export type Live = Record<string, unknown> & {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
};

/**
 * One tenkai platform per cluster: its admission policies, ALB controller and tenkai-system are
 * cluster-wide, so a second platform would silently take them over. Refuse when another
 * platform's ApplySet parent is there.
 */
export async function refuseOtherPlatform(client: KubeClient, ours: string): Promise<void> {
  let items: { metadata: { name: string } }[] = [];
  try {
    const res = await client.request<{ items?: { metadata: { name: string } }[] }>({
      method: "GET",
      path: `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps`,
      query: { labelSelector: APPLYSET_ID_LABEL },
    });
    items = res.body.items ?? [];
  } catch (err) {
    if (!isKubeApiError(err, 404)) throw err;
  }
  const other = items.map((i) => i.metadata.name).find((n) => n.startsWith("tenkai-applyset-") && n !== ours);
  if (other) {
    throw new TenkaiError(
      "KUBE_OTHER_PLATFORM",
      `this cluster (context ${client.context}) already runs tenkai platform "${other.slice("tenkai-applyset-".length)}" (ApplySet ${SYSTEM_NAMESPACE}/${other})`,
      "check --context: a cluster runs one tenkai platform, since its admission policies, ALB controller and tenkai-system are cluster-wide",
    );
  }
}

/** Every live child of the ApplySet, by key, listed cluster-wide per kind with the part-of label. */
export async function listChildren(
  client: KubeClient,
  discovery: Discovery,
  gks: readonly string[],
  id: string,
  limit: number,
): Promise<Map<string, Live>> {
  const out = new Map<string, Live>();
  await mapLimit(gks, limit, async (gk) => {
    const r = await discovery.resourceForGroupKind(gk);
    if (!r?.verbs.includes("list")) return;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    let cont: string | undefined;
    do {
      const page = await client.request<{ items?: Live[]; metadata?: { continue?: string } }>({
        method: "GET",
        path: resourcePath(r),
        query: { labelSelector: `${APPLYSET_PART_OF_LABEL}=${id}`, limit: "500", continue: cont },
      });
      for (const item of page.body.items ?? []) {
        const o = { ...item, apiVersion, kind: r.kind } as Live;
        out.set(objectKey(o as unknown as KubeObject), o);
      }
      cont = page.body.metadata?.continue || undefined;
    } while (cont);
  });
  return out;
}

export async function prune(
  client: KubeClient,
  discovery: Discovery,
  existing: Map<string, Live>,
  keep: Set<string>,
  o: { dryRun: boolean; limit: number; emit: Emit<ApplyEvent> },
): Promise<string[]> {
  const gone = [...existing.entries()].filter(([k]) => !keep.has(k)).map(([k, v]) => ({ key: k, live: v }));
  const goneNamespaces = new Set(
    gone.filter((g) => g.live.kind === "Namespace").map((g) => g.live.metadata.name),
  );
  for (const phase of [2, 1, 0] as Phase[]) {
    const batch = gone.filter((g) => phaseOf(String(g.live.kind)) === phase);
    await mapLimit(batch, o.limit, async ({ key, live }) => {
      o.emit("info", "apply.prune", `${key} pruned${o.dryRun ? " (dry run)" : ""}`, { ref: key });
      // Deleting the namespace deletes what is in it.
      if (live.metadata.namespace && goneNamespaces.has(live.metadata.namespace)) return;
      const r = await discovery.resourceFor(String(live.apiVersion), String(live.kind));
      try {
        await client.request({
          method: "DELETE",
          path: resourcePath(r, live.metadata.namespace, live.metadata.name),
          query: { propagationPolicy: "Background", ...(o.dryRun ? { dryRun: "All" } : {}) },
        });
      } catch (err) {
        if (!isKubeApiError(err, 404)) throw err;
      }
    });
  }
  return gone.map((g) => g.key).sort();
}
