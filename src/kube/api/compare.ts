/**
 * Deciding, without a write, whether applying an object would change it, and after a write
 * whether it did. Both look only at the fields tenkai sets (the desired object's own keys), so a
 * controller moving other fields (the HPA scaling `spec.replicas`, status writes) is not counted
 * as tenkai's change. Pure.
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "../../shared/planes.js";
import { FIELD_MANAGER_NAME } from "./field-manager.js";

/** Annotation holding a hash of the object as last applied: a changed spec always re-applies. */
export const APPLIED_HASH_ANNOTATION = "tenkai.dev/applied-hash";

export function appliedHash(o: KubeObject): string {
  return createHash("sha256").update(JSON.stringify(o)).digest("base64url").slice(0, 22);
}

/** The object with its applied-hash annotation. */
export function withAppliedHash(o: KubeObject): KubeObject {
  return {
    ...o,
    metadata: {
      ...o.metadata,
      annotations: { ...o.metadata.annotations, [APPLIED_HASH_ANNOTATION]: appliedHash(o) },
    },
  };
}

/** `live` cut down to the keys `desired` has (arrays element by element, extra elements ignored). */
export function project(live: unknown, desired: unknown): unknown {
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return live;
    return desired.map((d, i) => project(live[i], d));
  }
  if (desired !== null && typeof desired === "object") {
    if (live === null || typeof live !== "object" || Array.isArray(live)) return live;
    const out: Record<string, unknown> = {};
    const l = live as Record<string, unknown>;
    for (const k of Object.keys(desired))
      if (k in l) out[k] = project(l[k], (desired as Record<string, unknown>)[k]);
    return out;
  }
  return live;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  return (
    ak.length === bk.length &&
    ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

/** True when every field tenkai sets already has the value it would set. */
export function alreadyApplied(live: Record<string, unknown>, desired: KubeObject): boolean {
  const annotations = (live.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  if (annotations?.[APPLIED_HASH_ANNOTATION] !== desired.metadata.annotations?.[APPLIED_HASH_ANNOTATION])
    return false;
  return deepEqual(project(live, desired), desired);
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/** The fields tenkai owns by apply on this object (its managedFields entry), or undefined. */
export function tenkaiFields(live: Record<string, unknown>): unknown {
  const entries = ((live.metadata as { managedFields?: ManagedFieldsEntry[] } | undefined)?.managedFields ??
    []) as ManagedFieldsEntry[];
  return entries.find((e) => e.manager === FIELD_MANAGER_NAME && e.operation === "Apply" && !e.subresource)
    ?.fieldsV1;
}

/** Whether a server-side apply changed what tenkai manages, comparing the object before and after. */
export function applyChanged(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  desired: KubeObject,
): boolean {
  const rv = (o: Record<string, unknown>) =>
    (o.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  if (rv(before) === rv(after)) return false;
  return (
    !deepEqual(project(before, desired), project(after, desired)) ||
    !deepEqual(tenkaiFields(before), tenkaiFields(after))
  );
}
