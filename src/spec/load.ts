/**
 * The spec loader: the only place that reads `platform.yaml`. It parses with positions, validates
 * with the zod schema, runs the cross-field checks and reports every problem at once, each with
 * file, line, column, field path, what was expected and how to fix it.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, type Node, parseDocument } from "yaml";
import type { z } from "zod";
import { type CheckOptions, runChecks } from "./checks.js";
import { applyEnvironment } from "./environments.js";
import { formatPath, SpecError, type SpecProblem } from "./problems.js";
import { type Platform, PlatformSchema } from "./schema.js";
import { closest, knownKeysAt } from "./suggest.js";

const MAX_SYNTAX_ERRORS = 5;

export interface LoadOptions extends CheckOptions {
  /** Environment overlay to apply (a key of `environments`). Default: none, the base spec. */
  readonly environment?: string;
}

export interface LoadResult {
  /** The validated platform, or undefined when there are errors. */
  readonly platform?: Platform;
  /** Every error and warning, in file order. */
  readonly problems: readonly SpecProblem[];
}

/** Reads and validates a spec file; never throws for spec problems (see `loadPlatform`). */
export async function validateFile(file: string, options: LoadOptions = {}): Promise<LoadResult> {
  if (/\.(m?ts|m?js)$/.test(file)) return validateModule(file, options);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    return {
      problems: [
        {
          code: "SPEC_UNREADABLE",
          severity: "error",
          path: "(file)",
          file,
          message: code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? String(cause)})`,
          fix:
            code === "ENOENT"
              ? "check the path, or run `tenkai init` to write a starter platform.yaml"
              : "check the file's permissions",
        },
      ],
    };
  }
  return validateText(text, file, options);
}

/**
 * A platform written in TypeScript or JavaScript: the module's default export, from
 * `definePlatform({...})` or a plain object. TypeScript loads through tsx.
 */
async function validateModule(file: string, options: LoadOptions): Promise<LoadResult> {
  const url = pathToFileURL(resolve(file)).href;
  let exported: unknown;
  try {
    const mod = /\.m?ts$/.test(file)
      ? await (await import("tsx/esm/api")).tsImport(url, import.meta.url)
      : await import(url);
    exported = (mod as { default?: unknown }).default;
  } catch (cause) {
    if (cause instanceof SpecError) {
      return { problems: cause.problems.map((p) => ({ ...p, file })) };
    }
    return {
      problems: [
        {
          code: "SPEC_MODULE_FAILED",
          severity: "error",
          path: "(module)",
          file,
          message: `cannot load the module: ${cause instanceof Error ? cause.message : String(cause)}`,
          fix: "run it with node to see the error, and export the platform as `export default definePlatform({...})`",
        },
      ],
    };
  }
  if (exported === undefined) {
    return {
      problems: [
        {
          code: "SPEC_MODULE_NO_DEFAULT",
          severity: "error",
          path: "(module)",
          file,
          message: "the module has no default export",
          fix: "add `export default definePlatform({...})`",
        },
      ],
    };
  }
  const result = validateObject(exported, options);
  return { ...result, problems: result.problems.map((p) => ({ ...p, file })) };
}

/** Loads a spec file and returns the platform, or throws `SpecError` listing every problem. */
export async function loadPlatform(file: string, options: LoadOptions = {}): Promise<Platform> {
  const result = await validateFile(file, options);
  if (!result.platform) throw new SpecError(result.problems);
  return result.platform;
}

export function validateText(text: string, file: string, options: LoadOptions = {}): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    // One syntax slip cascades into many parser errors: the first few locate it.
    return {
      problems: doc.errors.slice(0, MAX_SYNTAX_ERRORS).map((e) => {
        const pos = at(e.pos[0]);
        return {
          code: "SPEC_YAML_SYNTAX",
          severity: "error" as const,
          path: "(yaml)",
          file,
          line: pos.line,
          column: pos.col,
          message: e.message.split("\n")[0] ?? e.message,
          fix:
            e.code === "DUPLICATE_KEY"
              ? "remove or rename the repeated key"
              : /tab/i.test(e.message)
                ? "indent with spaces, not tabs"
                : "fix the YAML syntax at this place",
        };
      }),
    };
  }

  const raw: unknown = doc.toJS();
  const place = (path: readonly PropertyKey[], key?: string) => locate(doc, path, key, at);
  const result = validateObject(raw, options, place);
  return {
    ...result,
    problems: result.problems.map((p) => ({ ...p, file })),
  };
}

type Locator = (path: readonly PropertyKey[], key?: string) => { line: number; column: number } | undefined;

/**
 * Validates an already-parsed object (YAML, JSON or `definePlatform`). `place` maps a field path
 * to a position when the source has one.
 */
export function validateObject(raw: unknown, options: LoadOptions = {}, place?: Locator): LoadResult {
  const problems: SpecProblem[] = [];
  const withPlace = (
    p: Omit<SpecProblem, "line" | "column">,
    path: readonly PropertyKey[],
    key?: string,
  ): SpecProblem => ({
    ...p,
    ...(place?.(path, key) ?? {}),
  });

  let input = raw;
  if (options.environment !== undefined) {
    const overlaid = applyEnvironment(raw, options.environment);
    if ("problem" in overlaid) return { problems: [withPlace(overlaid.problem, ["environments"])] };
    input = overlaid.value;
  }

  const parsed = PlatformSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...fromZodIssue(issue, input, withPlace));
    return { problems: sortProblems(problems) };
  }
  for (const p of runChecks(parsed.data, options)) {
    problems.push(withPlace(p, p.pathSegments, p.key));
  }
  const hasErrors = problems.some((p) => p.severity === "error");
  return { platform: hasErrors ? undefined : parsed.data, problems: sortProblems(problems) };
}

function sortProblems(problems: SpecProblem[]): SpecProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function fromZodIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  withPlace: (
    p: Omit<SpecProblem, "line" | "column">,
    path: readonly PropertyKey[],
    key?: string,
  ) => SpecProblem,
): SpecProblem[] {
  const path = issue.path;
  const dotted = formatPath(path);
  const actual = valueAt(input, path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => {
        const known = knownKeysAt(PlatformSchema, path);
        const guess = closest(key, known);
        return withPlace(
          {
            code: "SPEC_UNKNOWN_FIELD",
            severity: "error",
            path: formatPath([...path, key]),
            message: `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ""}`,
            fix: guess ? `rename it to "${guess}"` : `remove it; fields allowed here: ${known.join(", ")}`,
          },
          path,
          key,
        );
      });
    case "invalid_type": {
      const missing = actual === undefined;
      return [
        withPlace(
          {
            code: missing ? "SPEC_MISSING_FIELD" : "SPEC_WRONG_TYPE",
            severity: "error",
            path: dotted,
            message: missing
              ? `required field is missing (expected ${issue.expected})`
              : `expected ${issue.expected}, got ${describeValue(actual)}`,
            fix: missing ? `add "${String(path[path.length - 1])}"` : `write a ${issue.expected} here`,
          },
          missing ? path.slice(0, -1) : path,
        ),
      ];
    }
    case "invalid_value":
      return [
        withPlace(
          {
            code: "SPEC_INVALID_VALUE",
            severity: "error",
            path: dotted,
            message:
              issue.values.length > 1
                ? `got ${describeValue(actual)}; expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`
                : issue.message.startsWith("Invalid")
                  ? `got ${describeValue(actual)}; expected ${JSON.stringify(issue.values[0])}`
                  : issue.message,
            fix:
              issue.values.length > 1
                ? `use one of ${issue.values.map(String).join(", ")}${suggestValue(actual, issue.values)}`
                : `write ${JSON.stringify(issue.values[0])}`,
          },
          path,
        ),
      ];
    default: {
      const custom = !issue.message.startsWith("Invalid") && !issue.message.startsWith("Too ");
      return [
        withPlace(
          {
            code:
              issue.code === "too_small" || issue.code === "too_big"
                ? "SPEC_OUT_OF_RANGE"
                : "SPEC_INVALID_VALUE",
            severity: "error",
            path: dotted,
            message: `${custom ? issue.message : issue.message.replace(/^Invalid input: /, "")}; got ${describeValue(actual)}`,
            fix:
              rangeFix(issue) ??
              (custom && issue.message.startsWith("expected ")
                ? `write ${issue.message.slice("expected ".length)}`
                : "change the value to match what is expected"),
          },
          path,
        ),
      ];
    }
  }
}

function suggestValue(actual: unknown, values: readonly unknown[]): string {
  if (typeof actual !== "string") return "";
  const guess = closest(actual, values.map(String));
  return guess ? ` (did you mean "${guess}"?)` : "";
}

function rangeFix(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === "too_small") {
    const unit = issue.origin === "array" ? " item(s)" : issue.origin === "string" ? " character(s)" : "";
    return `use at least ${String(issue.minimum)}${unit}`;
  }
  if (issue.code === "too_big") {
    const unit = issue.origin === "array" ? " item(s)" : issue.origin === "string" ? " character(s)" : "";
    return `use at most ${String(issue.maximum)}${unit}`;
  }
  return undefined;
}

/** Finds the YAML node for a path (the key node when `key` is given) and returns its position. */
function locate(
  doc: Document,
  path: readonly PropertyKey[],
  key: string | undefined,
  at: (offset: number) => { line: number; col: number },
): { line: number; column: number } | undefined {
  // Walk down as far as the document goes: a missing leaf points at its parent.
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  for (const seg of path) {
    if (!isNode(node)) break;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === seg);
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (
      "items" in node &&
      Array.isArray((node as { items: unknown[] }).items) &&
      typeof seg === "number"
    ) {
      const next = (node as { items: unknown[] }).items[seg];
      if (!next) break;
      keyNode = undefined;
      node = next;
    } else break;
  }
  if (key !== undefined && isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
    if (pair && isNode(pair.key) && pair.key.range) {
      const pos = at(pair.key.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  const target = isNode(node) && node.range ? node : keyNode;
  if (!target?.range) return undefined;
  const pos = at(target.range[0]);
  return { line: pos.line, column: pos.col };
}
