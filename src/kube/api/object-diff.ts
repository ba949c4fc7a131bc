/**
 * Compares a live object with what an apply would make of it (a server-side dry run), ignoring
 * what the server maintains itself: managedFields, resourceVersion, generation, uid, timestamps
 * and status. Pure.
 */
export interface FieldChange {
  /** Dotted path, e.g. `spec.template.spec.containers[0].image`. */
  readonly path: string;
  readonly op: "add" | "remove" | "change";
  readonly before?: unknown;
  readonly after?: unknown;
}

const SERVER_METADATA = [
  "managedFields",
  "resourceVersion",
  "generation",
  "uid",
  "creationTimestamp",
  "selfLink",
];

export function normalizeObject(o: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = o;
  const metadata = { ...((rest.metadata ?? {}) as Record<string, unknown>) };
  for (const k of SERVER_METADATA) delete metadata[k];
  return { ...rest, metadata };
}

export function diffObjects(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (isEqual(before, after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => {
      const p = path ? `${path}.${k}` : k;
      if (!(k in before)) return [{ path: p, op: "add" as const, after: after[k] }];
      if (!(k in after)) return [{ path: p, op: "remove" as const, before: before[k] }];
      return diffObjects(before[k], after[k], p);
    });
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((b, i) => diffObjects(b, after[i], `${path}[${i}]`));
  }
  return [{ path, op: "change", before, after }];
}

function isEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || typeof a !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => isEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao);
  return ak.length === Object.keys(bo).length && ak.every((k) => k in bo && isEqual(ao[k], bo[k]));
}

/** One line per change: `~ spec.x: 1 → 2`, `+ spec.y: …`, `- spec.z: …`. */
export function formatChanges(changes: readonly FieldChange[]): string[] {
  const show = (v: unknown) => {
    const s = JSON.stringify(v);
    return s === undefined ? "undefined" : s.length > 120 ? `${s.slice(0, 117)}...` : s;
  };
  return changes.map((c) =>
    c.op === "add"
      ? `+ ${c.path}: ${show(c.after)}`
      : c.op === "remove"
        ? `- ${c.path}: ${show(c.before)}`
        : `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`,
  );
}
