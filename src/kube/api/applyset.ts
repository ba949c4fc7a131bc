/**
 * ApplySet bookkeeping (KEP-3659, the protocol `kubectl apply --prune --applyset` uses): a parent
 * ConfigMap in tenkai-system records the id, the group-kinds and the namespaces of its children;
 * every child carries `applyset.kubernetes.io/part-of: <id>`. Prune lists only those kinds, only
 * with that label, so it never touches an object tenkai did not apply.
 */
import { createHash } from "node:crypto";
import { SYSTEM_NAMESPACE } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";

export const APPLYSET_ID_LABEL = "applyset.kubernetes.io/id";
export const APPLYSET_PART_OF_LABEL = "applyset.kubernetes.io/part-of";
export const APPLYSET_GKS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds";
export const APPLYSET_NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces";
export const APPLYSET_TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling";
export const TOOLING = "tenkai/v1";

export interface ApplySetParentRef {
  readonly name: string;
  readonly namespace: string;
}

export function applySetParent(platformName: string): ApplySetParentRef {
  return { name: `tenkai-applyset-${platformName}`, namespace: SYSTEM_NAMESPACE };
}

/**
 * The KEP's id: `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`, unpadded,
 * for a ConfigMap parent (core group, so the group part is empty).
 */
export function applySetId(parent: ApplySetParentRef): string {
  const hash = createHash("sha256")
    .update(`${parent.name}.${parent.namespace}.ConfigMap.`)
    .digest("base64url");
  return `applyset-${hash}-v1`;
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

/** `Kind` for the core group, `Kind.group` otherwise (the annotation's format). */
export function groupKind(o: Pick<KubeObject, "apiVersion" | "kind">): string {
  const g = groupOf(o.apiVersion);
  return g ? `${o.kind}.${g}` : o.kind;
}

export function parseGroupKinds(annotation: string | undefined): string[] {
  return (annotation ?? "").split(",").filter((s) => s !== "");
}

/** Identity of an object within a cluster: `Kind.group namespace/name` (or `Kind.group name`). */
export function objectKey(o: {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string };
}): string {
  const gk = groupKind(o);
  return o.metadata.namespace
    ? `${gk} ${o.metadata.namespace}/${o.metadata.name}`
    : `${gk} ${o.metadata.name}`;
}

/** The parent ConfigMap recording these children. */
export function parentObject(
  parent: ApplySetParentRef,
  groupKinds: Iterable<string>,
  namespaces: Iterable<string>,
): KubeObject {
  const ns = [...new Set(namespaces)].filter((n) => n !== parent.namespace).sort();
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: parent.name,
      namespace: parent.namespace,
      labels: { [APPLYSET_ID_LABEL]: applySetId(parent) },
      annotations: {
        [APPLYSET_TOOLING_ANNOTATION]: TOOLING,
        [APPLYSET_GKS_ANNOTATION]: [...new Set(groupKinds)].sort().join(","),
        [APPLYSET_NAMESPACES_ANNOTATION]: ns.join(","),
      },
    },
  };
}

/** The object as applied: the part-of label added. */
export function withPartOf(o: KubeObject, id: string): KubeObject {
  return {
    ...o,
    metadata: { ...o.metadata, labels: { ...o.metadata.labels, [APPLYSET_PART_OF_LABEL]: id } },
  };
}
