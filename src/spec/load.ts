/**
 * The spec loader: the only place that reads `platform.yaml`. It parses with positions, validates
 * with the zod schema, runs the cross-field checks and reports every problem at once, each with
 * file, line, column, field path, what was expected and how to fix it.
 */
import { readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  type Alias,
  type Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type YAMLError,
} from "yaml";
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
  if (/\.(m?ts|m?js|cts|cjs)$/.test(file)) return validateModule(file, options);
  const read = await readSpecText(file);
  if ("problem" in read) return { problems: [read.problem] };
  return validateText(read.text, file, options);
}

/** Above this a file is not a platform spec (8,000 tenants take about 5 MB). */
export const MAX_SPEC_BYTES = 64 * 1024 * 1024;

function unreadable(
  file: string,
  code: string,
  message: string,
  fix: string,
  line?: number,
  column?: number,
): SpecProblem {
  return {
    code,
    severity: "error",
    path: "(file)",
    file,
    ...(line !== undefined ? { line, column: column ?? 1 } : {}),
    message,
    fix,
  };
}

/**
 * Reads a spec as UTF-8 text, refusing what is not one before parsing: a directory, a file too
 * large to be a spec, or binary content (a NUL byte or bytes that are not UTF-8).
 */
async function readSpecText(file: string): Promise<{ text: string } | { problem: SpecProblem }> {
  let bytes: Buffer;
  try {
    const info = await stat(file);
    if (info.isDirectory()) {
      return {
        problem: unreadable(
          file,
          "SPEC_IS_DIRECTORY",
          "this is a directory, not a spec file",
          `name the file inside it, for example ${join(file, "platform.yaml")}`,
        ),
      };
    }
    if (info.size > MAX_SPEC_BYTES) {
      return {
        problem: unreadable(
          file,
          "SPEC_TOO_LARGE",
          `the file is ${Math.round(info.size / 2 ** 20)} MiB; a platform spec is at most ${MAX_SPEC_BYTES / 2 ** 20} MiB`,
          "check that this is the platform spec (8,000 tenants take about 5 MB)",
        ),
      };
    }
    bytes = await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return {
        problem: unreadable(
          file,
          "SPEC_UNREADABLE",
          "file not found",
          "check the path, or run `tenkai init` to write a starter platform.yaml",
        ),
      };
    if (code === "EACCES" || code === "EPERM")
      return {
        problem: unreadable(
          file,
          "SPEC_UNREADABLE",
          "permission denied",
          `let your user read it (for example chmod u+r ${file})`,
        ),
      };
    return {
      problem: unreadable(
        file,
        "SPEC_UNREADABLE",
        `cannot read the file (${code ?? String(cause)})`,
        "check that the path names a readable file",
      ),
    };
  }
  const nul = bytes.indexOf(0);
  let text: string | undefined;
  if (nul < 0) {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      text = undefined;
    }
  }
  if (text === undefined) {
    const bad = nul >= 0 ? nul : firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, bad);
    const line = before.filter((b) => b === 10).length + 1;
    const column = bad - (before.lastIndexOf(10) + 1) + 1;
    return {
      problem: unreadable(
        file,
        "SPEC_NOT_TEXT",
        `this is not a text file: byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, "0")} at offset ${bad} is ${nul >= 0 ? "a NUL" : "not UTF-8"}`,
        "point tenkai at the YAML spec (platform.yaml), saved as UTF-8",
        line,
        column,
      ),
    };
  }
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
}

function firstInvalidUtf8(bytes: Buffer): number {
  // Binary search for the shortest prefix that fails to decode; its last byte starts the bad sequence.
  const ok = (n: number) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(mid + 1)) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, bytes.length - 1);
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
    // A CommonJS module (a .ts file in a CommonJS package): its module.exports is the default,
    // and `export default` put the platform on its `default`.
    if (
      exported !== null &&
      typeof exported === "object" &&
      "default" in exported &&
      !("apiVersion" in exported)
    )
      exported = (exported as { default: unknown }).default;
  } catch (cause) {
    // By shape, not instanceof: the spec's definePlatform may come from another copy of tenkai
    // (the one installed in the user's package).
    const problems = (cause as { code?: unknown; problems?: unknown }).problems;
    if ((cause as { code?: unknown }).code === "SPEC_INVALID" && Array.isArray(problems)) {
      return { problems: (problems as SpecProblem[]).map((p) => ({ ...p, file })) };
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
  const at = (offset: number) => lineCounter.linePos(offset);
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (cause) {
    // The parser recurses per nesting level: thousands of `[[[[` exhaust the stack.
    return { problems: [tooDeep(file, cause)] };
  }

  if (doc.errors.length > 0) return { problems: syntaxProblems(doc.errors, file, at) };

  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    if (cause instanceof RangeError) return { problems: [tooDeep(file, cause)] };
    // yaml refuses an alias expanded more than maxAliasCount times ("billion laughs").
    let first: Alias | undefined;
    visit(doc, {
      Alias(_, node) {
        first = node;
        return visit.BREAK;
      },
    });
    const pos = first?.range ? at(first.range[0]) : undefined;
    return {
      problems: [
        {
          code: "SPEC_YAML_ALIASES",
          severity: "error",
          path: "(yaml)",
          file,
          ...(pos ? { line: pos.line, column: pos.col } : {}),
          message: `YAML aliases here expand to more than ${MAX_ALIAS_COUNT} copies (an alias bomb); tenkai does not expand them`,
          fix: "write the values out, or use each anchor (&name) only a few times; a platform spec needs no nested aliases",
        },
      ],
    };
  }
  const place = (path: readonly PropertyKey[], key?: string) => locate(doc, path, key, at);
  const result = validateObject(raw, options, place);
  return {
    ...result,
    problems: result.problems.map((p) => ({ ...p, file })),
  };
}

/** yaml's default: enough for anchors a person writes, far too few for an alias bomb. */
const MAX_ALIAS_COUNT = 100;

function tooDeep(file: string, cause: unknown): SpecProblem {
  return {
    code: "SPEC_YAML_TOO_DEEP",
    severity: "error",
    path: "(yaml)",
    file,
    message: `the YAML nests too deeply to read (${cause instanceof Error ? cause.message : String(cause)})`,
    fix: "a platform spec nests about ten levels; check that this is the spec and that brackets are closed",
  };
}

/** What to do about each YAML syntax error, by yaml's error code. */
const SYNTAX_FIXES: Partial<Record<YAMLError["code"], string>> = {
  DUPLICATE_KEY: "remove or rename the repeated key",
  TAB_AS_INDENT: "indent with spaces, not tabs (YAML does not allow tabs for indentation)",
  BAD_INDENT: "line this up with the other keys of the same mapping (same number of spaces)",
  MISSING_CHAR: "add the missing character (a closing quote or bracket, or ': ' after a key)",
  MULTILINE_IMPLICIT_KEY: "put a key and its ':' on one line, or quote a value that contains ': '",
  BLOCK_AS_IMPLICIT_KEY: "put a space after ':' and indent the value on the lines below",
  BAD_SCALAR_START: "quote the value: it starts with a character YAML reserves (like @, ` or %)",
  UNEXPECTED_TOKEN: "remove the stray character, or quote the value it belongs to",
  BAD_DQ_ESCAPE: 'use a valid escape inside double quotes (\\n, \\", \\\\) or single quotes',
  MULTIPLE_DOCS: "keep one document: remove the second '---' and what follows, or move it to its own file",
  BAD_ALIAS: "define the anchor (&name) before the alias (*name) that uses it",
  KEY_OVER_1024_CHARS: "shorten the key, or put its text in a value",
  BLOCK_IN_FLOW: "inside [ ] or { } write values inline, without '- ' or indented blocks",
};

/**
 * One slip cascades into several parser errors (a tab makes four or five). Report the first error
 * on each line and, once a line has a tab, nothing after it that the tab could have caused.
 */
function syntaxProblems(
  errors: readonly YAMLError[],
  file: string,
  at: (offset: number) => { line: number; col: number },
): SpecProblem[] {
  const out: SpecProblem[] = [];
  const lines = new Set<number>();
  const tab = errors.some((e) => e.code === "TAB_AS_INDENT" || /\btabs?\b/i.test(e.message));
  for (const e of errors) {
    const isTab = e.code === "TAB_AS_INDENT" || /\btabs?\b/i.test(e.message);
    if (tab && !isTab) continue;
    const pos = at(e.pos[0]);
    if (lines.has(pos.line)) continue;
    lines.add(pos.line);
    out.push({
      code: isTab ? "SPEC_YAML_TAB" : "SPEC_YAML_SYNTAX",
      severity: "error",
      path: "(yaml)",
      file,
      line: pos.line,
      column: pos.col,
      message: e.message.split("\n")[0] ?? e.message,
      fix: isTab
        ? (SYNTAX_FIXES.TAB_AS_INDENT as string)
        : (SYNTAX_FIXES[e.code] ??
          "compare this line with the starter from `tenkai init`; quoting the value often fixes it"),
    });
    if (out.length >= MAX_SYNTAX_ERRORS) break;
  }
  return out;
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
            fix: missing
              ? `add "${String(path[path.length - 1])}"${exampleFor(issue.expected, path)}`
              : typeFix(issue.expected, path, actual),
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
              paramFix(issue) ??
              rangeFix(issue) ??
              (custom && issue.message.startsWith("expected ")
                ? `write ${issue.message.slice("expected ".length)}`
                : formatFix(issue, actual)),
          },
          path,
        ),
      ];
    }
  }
}

/** What the field looks like when written, for a missing field. */
function exampleFor(expected: string, path: readonly PropertyKey[]): string {
  const key = String(path[path.length - 1]);
  if (expected === "object")
    return ` with its fields indented on the lines below (\`${key}:\` then \`  field: value\`)`;
  if (expected === "array") return ` as a list (\`${key}:\` then \`  - item\` per line)`;
  if (expected === "number") return ` with a number (\`${key}: 1\`)`;
  if (expected === "string") return ` with a value in quotes (\`${key}: "..."\`)`;
  if (expected === "boolean") return ` with true or false (\`${key}: true\`)`;
  return "";
}

/** How to turn the value that was written into the type the field takes. */
function typeFix(expected: string, path: readonly PropertyKey[], actual: unknown): string {
  const key = typeof path[path.length - 1] === "string" ? String(path[path.length - 1]) : "the item";
  switch (expected) {
    case "object":
      return Array.isArray(actual)
        ? `${key} is a mapping, not a list: drop the '- ' and write its fields as \`field: value\` lines indented under it`
        : `write ${key}'s fields as \`field: value\` lines indented under \`${key}:\`, not a single value`;
    case "array":
      return `write ${key} as a list: one \`- item\` line per entry, indented under \`${key}:\`${
        actual !== null && typeof actual !== "object"
          ? ` (for one entry: \`- ${JSON.stringify(actual)}\`)`
          : ""
      }`;
    case "string":
      return actual !== null && typeof actual !== "object"
        ? `quote it: ${key}: "${String(actual)}"`
        : `write ${key} as one value in quotes on the same line as the key`;
    case "number": {
      const n = typeof actual === "string" ? Number(actual.trim()) : Number.NaN;
      return Number.isFinite(n)
        ? `remove the quotes: ${key}: ${n}`
        : `write a plain number without quotes, like ${key}: 2`;
    }
    case "boolean":
      return `write true or false without quotes (${key}: true)`;
    default:
      return `write a ${expected} for ${key}`;
  }
}

/** A fix for a value of the right type in the wrong form (a pattern or a format). */
function formatFix(issue: z.core.$ZodIssue, actual: unknown): string {
  const key = String(issue.path[issue.path.length - 1] ?? "the value");
  if (/DNS label/.test(issue.message) && typeof actual === "string") {
    const slug = actual
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63);
    return slug ? `write ${key}: ${slug}` : "use lower-case letters, digits and '-'";
  }
  const m = /^(.*?)(?:; got .*)?$/.exec(issue.message.replace(/^Invalid input: /, ""));
  return `make ${key} ${m?.[1] ?? issue.message}`.replace(/^make (\S+) \1 /, "make $1 ");
}

function suggestValue(actual: unknown, values: readonly unknown[]): string {
  if (typeof actual !== "string") return "";
  const guess = closest(actual, values.map(String));
  return guess ? ` (did you mean "${guess}"?)` : "";
}

/** A fix a schema rule carries itself (`params: { fix }` on a refine). */
function paramFix(issue: z.core.$ZodIssue): string | undefined {
  const params = (issue as { params?: { fix?: unknown } }).params;
  return typeof params?.fix === "string" ? params.fix : undefined;
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
