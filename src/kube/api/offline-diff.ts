/**
 * The Kubernetes plane compared offline, with no cluster: the objects this spec renders against
 * the manifests a previous `tenkai plan` wrote (`<plan>/manifests/**.yaml`). Objects are matched
 * by group, kind, namespace and name; each is added, removed, modified (field by field) or
 * replaced (a field the API server will not change in place, so apply must re-create it).
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { TenkaiError } from "../../shared/errors.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { allObjects, renderKubernetesPlane } from "../render/render.js";
import { objectKey } from "./applyset.js";
import type { KubernetesPlaneDiff, ObjectDiff } from "./diff.js";
import { diffObjects, type FieldChange } from "./object-diff.js";

/**
 * Fields the API server refuses to change on an existing object (field is immutable): a change
 * to one means delete and create. Kubernetes API reference: Deployment/StatefulSet/DaemonSet
 * `spec.selector`, Job `spec.selector` and `spec.template`, Service `spec.clusterIP`, and any
 * ConfigMap or Secret marked `immutable: true`.
 */
const IMMUTABLE: Readonly<Record<string, readonly string[]>> = {
  Deployment: ["spec.selector"],
  StatefulSet: ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
  DaemonSet: ["spec.selector"],
  Job: ["spec.selector", "spec.template"],
  Service: ["spec.clusterIP", "spec.clusterIPs"],
  PersistentVolumeClaim: ["spec.storageClassName", "spec.accessModes", "spec.volumeName"],
};

function replaces(kind: string, before: KubeObject, changes: readonly FieldChange[]): boolean {
  if ((kind === "ConfigMap" || kind === "Secret") && (before as { immutable?: unknown }).immutable === true)
    return changes.length > 0;
  const fields = IMMUTABLE[kind] ?? [];
  return changes.some((c) =>
    fields.some((f) => c.path === f || c.path.startsWith(`${f}.`) || c.path.startsWith(`${f}[`)),
  );
}

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory()
        ? yamlFiles(join(dir, e.name))
        : Promise.resolve(/\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []),
    ),
  );
  return nested.flat().sort();
}

/** The objects of a previous plan: `dir` is the plan's output directory or its `manifests/`. */
export async function readPlannedObjects(dir: string): Promise<KubeObject[]> {
  const manifests = (await stat(join(dir, "manifests")).catch(() => undefined))?.isDirectory()
    ? join(dir, "manifests")
    : dir;
  const files = await yamlFiles(manifests).catch(() => []);
  if (files.length === 0) {
    throw new TenkaiError(
      "CLI_AGAINST_NOT_A_PLAN",
      `${dir} holds no Kubernetes manifests from a previous plan`,
      "pass the output directory of an earlier `tenkai plan` (it holds manifests/ and cdk.out/)",
    );
  }
  const objects: KubeObject[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, "utf8"))) {
      const o = doc.toJS() as KubeObject | null;
      if (o && typeof o === "object" && typeof o.kind === "string") objects.push(o);
    }
  }
  return objects;
}

/** Compares the objects `platform` renders with `before` (a previous plan's objects). Pure. */
export function diffPlannedObjects(
  before: readonly KubeObject[],
  after: readonly KubeObject[],
  label: string,
): KubernetesPlaneDiff {
  const old = new Map(before.map((o) => [objectKey(o), o]));
  const out: ObjectDiff[] = [];
  let unchanged = 0;
  for (const o of after) {
    const ref = objectKey(o);
    const prior = old.get(ref);
    old.delete(ref);
    if (!prior) {
      out.push({ ref, action: "create", changes: [] });
      continue;
    }
    const changes = diffObjects(JSON.parse(JSON.stringify(prior)), JSON.parse(JSON.stringify(o)));
    if (changes.length === 0) unchanged++;
    else out.push({ ref, action: replaces(o.kind, prior, changes) ? "replace" : "update", changes });
  }
  for (const ref of [...old.keys()].sort()) out.push({ ref, action: "prune", changes: [] });
  const n = (a: ObjectDiff["action"]) => out.filter((d) => d.action === a).length;
  return {
    context: label,
    objects: out,
    unchanged,
    summary: {
      create: n("create"),
      update: n("update"),
      replace: n("replace"),
      prune: n("prune"),
      unchanged,
    },
  };
}

/** The Kubernetes plane of `platform` against a previous plan's manifests in `dir`; no cluster. */
export async function diffKubernetesPlaneOffline(
  platform: Platform,
  dir: string,
): Promise<KubernetesPlaneDiff> {
  const before = await readPlannedObjects(dir);
  return diffPlannedObjects(before, allObjects(renderKubernetesPlane(platform)), `offline, against ${dir}`);
}
