/**
 * Writes Kubernetes objects as a YAML stream, fast. `yaml`'s `stringify` builds a full Document
 * (nodes, pairs, visitors) for every object: on 8,000 tenants that was two thirds of `tenkai
 * plan`'s time (node --cpu-prof). Objects here are plain JSON data, so a direct emitter does:
 *
 * - block mappings and sequences, `{}` and `[]` when empty;
 * - a string is written plain only when it is unambiguous in YAML 1.2 *and* 1.1 (kubectl's
 *   go-yaml reads `yes`/`on`/`y` as booleans and leading digits as numbers), otherwise
 *   double-quoted with JSON escapes (a JSON string is a valid YAML double-quoted scalar);
 * - multi-line strings (configuration files in ConfigMaps) as literal blocks when that is exact.
 *
 * manifest-yaml.test.ts parses the output back with `yaml` and requires the same data.
 */

/** Plain scalars we allow: start with a letter, '/' or '_'; no ': ', ' #', flow or quote characters. */
const PLAIN = /^[A-Za-z_/][A-Za-z0-9 ._/@=+()-]*$/;
/** Words YAML 1.1 or 1.2 reads as something other than a string. */
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|nan|inf)$/i;

function scalarKeyOrString(s: string): string {
  if (s.length > 0 && PLAIN.test(s) && !RESERVED.test(s) && !s.endsWith(" ") && !s.includes("  ")) return s;
  return quote(s);
}

/** JSON's escapes, plus the characters YAML may not hold unescaped (not printable, or line breaks in 1.1). */
function quote(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return scalarKeyOrString(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : quote(String(value));
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

/**
 * A literal block (`|`, `|-`) reproduces the string exactly when: no carriage returns or other
 * control characters, the first line does not start with a space (it would set the indentation),
 * and at most one trailing newline.
 */
function literalBlock(s: string, indent: string): string | undefined {
  if (!s.includes("\n")) return undefined;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/.test(s)) return undefined;
  if (s.startsWith(" ") || s.startsWith("\n") || s.endsWith("\n\n")) return undefined;
  const keep = s.endsWith("\n") ? "|" : "|-";
  const body = (s.endsWith("\n") ? s.slice(0, -1) : s)
    .split("\n")
    .map((line) => (line === "" ? "" : `${indent}${line}`))
    .join("\n");
  return `${keep}\n${body}`;
}

function isEmpty(v: object): boolean {
  if (Array.isArray(v)) return v.length === 0;
  for (const _ in v) return false;
  return true;
}

function isCollection(v: unknown): v is object {
  return typeof v === "object" && v !== null && !isEmpty(v);
}

/**
 * Pushes `value`'s lines, each starting with `indent`, but the first with `lead` instead: a
 * sequence item's collection starts on its `- ` line. (Emitting the item apart and cutting its
 * first indentation copied every nested sequence's text once per level.)
 */
function emit(value: object, indent: string, out: string[], lead: string = indent): void {
  let prefix = lead;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isCollection(item)) emit(item, `${indent}  `, out, `${prefix}- `);
      else out.push(`${prefix}- ${inline(item, `${indent}  `)}`);
      prefix = indent;
    }
    return;
  }
  for (const k in value) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    const key = scalarKeyOrString(k);
    if (isCollection(v)) {
      out.push(`${prefix}${key}:`);
      emit(v, Array.isArray(v) ? indent : `${indent}  `, out);
    } else out.push(`${prefix}${key}: ${inline(v, `${indent}  `)}`);
    prefix = indent;
  }
}

function inline(v: unknown, blockIndent: string): string {
  if (Array.isArray(v)) return "[]";
  if (typeof v === "object" && v !== null) return "{}";
  if (typeof v === "string") return literalBlock(v, blockIndent) ?? scalar(v);
  return scalar(v);
}

/** One object as a YAML document (ends with a newline). */
export function toYaml(value: unknown): string {
  if (!isCollection(value)) return `${inline(value, "  ")}\n`;
  const out: string[] = [];
  emit(value, "", out);
  return `${out.join("\n")}\n`;
}

/** Objects as a YAML stream, separated by `---`. */
export function toYamlStream(objects: readonly unknown[]): string {
  return objects.map(toYaml).join("---\n");
}
