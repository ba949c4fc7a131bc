/**
 * What `tenkai apply` would change, from a server-side dry run of each object compared with the
 * live object (server-maintained fields ignored), plus what it would prune. For `tenkai diff`.
 */
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { allObjects, renderKubernetesPlane } from "../render/render.js";
import { serverSideApply, unverifiableInDryRun } from "./apply.js";
import { applySetId, applySetParent, groupKind, objectKey, withPartOf } from "./applyset.js";
import { type Live, listChildren } from "./applyset-live.js";
import type { KubeClient } from "./client.js";
import { APPLIED_HASH_ANNOTATION, withAppliedHash } from "./compare.js";
import { mapLimit } from "./concurrency.js";
import { Discovery, resourcePath } from "./discovery.js";
import { diffObjects, type FieldChange, normalizeObject } from "./object-diff.js";

export interface ObjectDiff {
  readonly ref: string;
  /** create: added; update: modified in place; replace: re-created (an immutable field changes); prune: removed. */
  readonly action: "create" | "update" | "replace" | "prune";
  /** Field changes for `update` and `replace`; empty for create and prune. */
  readonly changes: readonly FieldChange[];
}

export interface KubernetesPlaneDiff {
  readonly context: string;
  readonly objects: readonly ObjectDiff[];
  readonly unchanged: number;
  readonly summary: {
    readonly create: number;
    readonly update: number;
    /** Objects an immutable-field change re-creates (offline diff only; a live dry run reports them as errors). */
    readonly replace?: number;
    readonly prune: number;
    readonly unchanged: number;
  };
}

export interface DiffOptions {
  readonly client: KubeClient;
  /** Requests in flight at once. Default 32. */
  readonly concurrency?: number;
}

export async function diffKubernetesPlane(
  platform: Platform,
  options: DiffOptions,
): Promise<KubernetesPlaneDiff> {
  return diffObjectsAgainstCluster(
    allObjects(renderKubernetesPlane(platform)),
    platform.metadata.name,
    options,
  );
}

export async function diffObjectsAgainstCluster(
  objects: readonly KubeObject[],
  applySetName: string,
  options: DiffOptions,
): Promise<KubernetesPlaneDiff> {
  const { client } = options;
  const limit = options.concurrency ?? 32;
  const id = applySetId(applySetParent(applySetName));
  const discovery = new Discovery(client);
  await discovery.refresh();
  const desired = objects.map((o) => withAppliedHash(withPartOf(o, id)));
  const existing = await listChildren(client, discovery, [...new Set(desired.map(groupKind))], id, limit);
  let unchanged = 0;
  const diffs = await mapLimit(desired, limit, async (o): Promise<ObjectDiff | undefined> => {
    const ref = objectKey(o);
    const listed = existing.get(ref);
    if (!listed) return { ref, action: "create", changes: [] };
    let live: Live = listed;
    try {
      let after = await serverSideApply(client, discovery, o, { dryRun: true, force: true });
      // The dry run answers from the object as it is now; the list may be older. A controller's
      // write in between (an HPA raising replicas to its minimum, say) is not tenkai's change:
      // compare against the object at the dry run's own resourceVersion (re-read, a few times).
      for (let i = 0; i < 3 && resourceVersion(after) !== resourceVersion(live); i++) {
        const r = await discovery.resourceFor(o.apiVersion, o.kind);
        live = (
          await client.request<Live>({
            method: "GET",
            path: resourcePath(r, o.metadata.namespace, o.metadata.name),
          })
        ).body;
        after = await serverSideApply(client, discovery, o, { dryRun: true, force: true });
      }
      // The hash annotation moves with any change: it is bookkeeping, not news.
      const changes = diffObjects(normalizeObject(live), normalizeObject(after)).filter(
        (c) => !c.path.endsWith(APPLIED_HASH_ANNOTATION),
      );
      if (changes.length === 0) {
        unchanged++;
        return undefined;
      }
      return { ref, action: "update", changes };
    } catch (err) {
      if (unverifiableInDryRun(err)) return { ref, action: "create", changes: [] };
      throw err;
    }
  });
  const keep = new Set(desired.map(objectKey));
  const pruned = [...existing.keys()]
    .filter((k) => !keep.has(k))
    .sort()
    .map((ref): ObjectDiff => ({ ref, action: "prune", changes: [] }));
  const out = [...diffs.filter((d): d is ObjectDiff => d !== undefined), ...pruned];
  const n = (a: ObjectDiff["action"]) => out.filter((d) => d.action === a).length;
  return {
    context: client.context,
    objects: out,
    unchanged,
    summary: { create: n("create"), update: n("update"), prune: n("prune"), unchanged },
  };
}

const resourceVersion = (o: Live): string | undefined => o.metadata.resourceVersion;
