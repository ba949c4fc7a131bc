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

/** `file:line:col: error CODE path: message (fix)`, the shape editors and CI annotate. */
export function formatProblem(p: SpecProblem): string {
  const where = p.file ? `${p.file}:${p.line ?? 1}:${p.column ?? 1}: ` : "";
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
