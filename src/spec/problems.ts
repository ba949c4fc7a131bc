import { TenkaiError } from "../shared/errors.js";

/** One thing wrong (or doubtful) with a spec, with where it is and how to fix it. */
export interface SpecProblem {
  /** Stable code, e.g. `SPEC_UNKNOWN_FIELD`; tests and scripts branch on it. */
  readonly code: string;
  readonly severity: "error" | "warning";
  /** Dotted field path, e.g. `spec.tenants[0].services[1].port`. */
  readonly path: string;
  readonly message: string;
  readonly fix?: string;
  /** File, 1-based line and column; absent for specs written in TypeScript. */
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? String(seg) : `.${String(seg)}`;
  }
  return out === "" ? "(root)" : out;
}

/**
 * Names for a message or fix line, never thousands of them: the first `max`, then how many more
 * ("a, b, c and 997 more").
 */
export function listSome(names: readonly string[], max = 8): string {
  if (names.length <= max) return names.join(", ");
  return `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

/** `file:line:col: error CODE path: message (fix)`, the shape editors and CI annotate. */
export function formatProblem(p: SpecProblem): string {
  const where = p.file
    ? p.line !== undefined
      ? `${p.file}:${p.line}:${p.column ?? 1}: `
      : `${p.file}: `
    : "";
  const fix = p.fix ? `\n    fix: ${p.fix}` : "";
  return `${where}${p.severity} ${p.code} ${p.path}: ${p.message}${fix}`;
}

/** Thrown when a spec has errors; carries every problem found, not just the first. */
export class SpecError extends TenkaiError {
  override name = "SpecError";
  constructor(override readonly problems: readonly SpecProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    super(
      "SPEC_INVALID",
      `the platform spec has ${errors.length} error${errors.length === 1 ? "" : "s"}:\n${errors.map(formatProblem).join("\n")}`,
      "fix each listed field and run `tenkai validate` again",
    );
  }
}

/** A problem found by a cross-field check, before the loader gives it a file position. */
export type CheckProblem = Omit<SpecProblem, "line" | "column" | "file"> & {
  readonly pathSegments: readonly (string | number)[];
  /** Point at this key of the object at `pathSegments` (for clashing names). */
  readonly key?: string;
};
