/**
 * `tenkai tenant add|remove`: edits platform.yaml in place through the yaml Document API, so the
 * file keeps its comments, key order and flow/block layout; then validates the result before
 * anything is written (decide first). Pure text in, text out.
 */
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import { TenkaiError } from "../shared/errors.js";
import type { AccessLevelName } from "../shared/kube-names.js";
import { type LoadOptions, validateText } from "./load.js";
import { listSome, SpecError } from "./problems.js";
import type { Platform } from "./schema.js";

export interface TenantAddition {
  readonly name: string;
  /** IAM role to give access (EKS access entry to group `tenkai:<name>:<level>`). */
  readonly role?: string;
  /** Default `edit`. */
  readonly level?: AccessLevelName;
}

export interface SpecEdit {
  /** The new file text. */
  readonly text: string;
  /** The validated platform the new text describes. */
  readonly platform: Platform;
  /** True when the file already said this (a re-run): nothing to write, apply still due. */
  readonly unchanged?: boolean;
}

/** The file's line ending, kept on every line an edit adds. */
function eolOf(text: string): "\r\n" | "\n" {
  return /\r\n/.test(text) ? "\r\n" : "\n";
}

function withEol(text: string, eol: string): string {
  return eol === "\n" ? text : text.replace(/\r?\n/g, eol);
}

/**
 * Where an item's own lines begin: its `- ` line, or the comment lines directly above it (no
 * blank line between), which describe it and go wherever it goes.
 */
function ownStart(text: string, itemStart: number, floor: number): number {
  let start = lineStart(text, itemStart);
  while (start > floor) {
    const prev = lineStart(text, start - 1);
    if (prev < floor || !/^\s*#/.test(text.slice(prev, start))) break;
    start = prev;
  }
  return start;
}

function tenantsOf(text: string) {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0)
    throw new TenkaiError(
      "SPEC_YAML_SYNTAX",
      `cannot edit the spec: ${doc.errors[0]?.message}`,
      "fix the YAML syntax first (tenkai validate FILE)",
    );
  const spec = doc.get("spec");
  if (!isMap(spec))
    throw new TenkaiError(
      "SPEC_NO_SPEC",
      "the file has no spec mapping",
      "run tenkai init to write a starter platform.yaml",
    );
  let tenants = spec.get("tenants");
  if (tenants === undefined || tenants === null) {
    tenants = new YAMLSeq();
    spec.set("tenants", tenants);
  }
  if (!isSeq(tenants))
    throw new TenkaiError(
      "SPEC_TENANTS_NOT_LIST",
      "spec.tenants is not a list",
      "make spec.tenants a YAML list",
    );
  const names = tenants.items.map((t) => (isMap(t) ? String(t.get("name")) : ""));
  return { doc, tenants, names };
}

function validated(text: string, file: string, options: LoadOptions): SpecEdit {
  const result = validateText(text, file, options);
  if (!result.platform) throw new SpecError(result.problems);
  return { text, platform: result.platform };
}

/** Start of the line holding `offset`. */
const lineStart = (text: string, offset: number) => text.lastIndexOf("\n", offset - 1) + 1;
/** Start of the line after the one holding `offset`. */
const nextLine = (text: string, offset: number) => {
  const nl = text.indexOf("\n", offset);
  return nl < 0 ? text.length : nl + 1;
};

/**
 * Appends a tenant. For a block list (the usual layout) the new entry's lines are spliced in after
 * the last one, so every other byte of the file stays as it was; a flow or empty list is
 * re-serialised through the Document API.
 */
export function addTenant(
  text: string,
  file: string,
  add: TenantAddition,
  options: LoadOptions = {},
): SpecEdit {
  const { doc, tenants, names } = tenantsOf(text);
  const eol = eolOf(text);
  if (names.includes(add.name)) {
    // A re-run (say after an apply that failed): the file already says this, so continue.
    const existing = validated(text, file, options);
    const tenant = existing.platform.spec.tenants.find((t) => t.name === add.name);
    const same =
      !add.role || tenant?.access.some((a) => a.role === add.role && a.level === (add.level ?? "edit"));
    if (same) return { ...existing, unchanged: true };
    throw new TenkaiError(
      "TENANT_EXISTS",
      `tenant ${add.name} is already in ${file}, without access for ${add.role} at level ${add.level ?? "edit"}`,
      `add the role under spec.tenants[${names.indexOf(add.name)}].access in ${file}, or choose another tenant name`,
    );
  }
  const first = tenants.items[0] as { range?: [number, number, number] } | undefined;
  const last = tenants.items.at(-1) as { range?: [number, number, number] } | undefined;
  if (!tenants.flow && first?.range && last?.range) {
    const prefix = text.slice(lineStart(text, first.range[0]), first.range[0]);
    const indent = " ".repeat(prefix.indexOf("-"));
    const lines = [`${indent}- name: ${add.name}`];
    if (add.role)
      lines.push(
        `${indent}  access:`,
        `${indent}    - { role: ${JSON.stringify(add.role)}, level: ${add.level ?? "edit"} }`,
      );
    const at = nextLine(text, last.range[1] - 1);
    const before = text.slice(0, at);
    return validated(
      `${before}${before.endsWith("\n") ? "" : eol}${lines.join(eol)}${eol}${text.slice(at)}`,
      file,
      options,
    );
  }
  const node = new YAMLMap();
  node.set("name", add.name);
  if (add.role) {
    const entry = doc.createNode({ role: add.role, level: add.level ?? "edit" });
    entry.flow = true;
    const access = new YAMLSeq();
    access.items.push(entry);
    node.set("access", access);
  }
  node.flow = tenants.flow ?? false;
  tenants.items.push(node);
  return validated(withEol(doc.toString(), eol), file, options);
}

/** Removes a tenant: its lines are cut out of a block list; other layouts are re-serialised. */
export function removeTenant(text: string, file: string, name: string, options: LoadOptions = {}): SpecEdit {
  const { doc, tenants, names } = tenantsOf(text);
  const i = names.indexOf(name);
  if (i < 0)
    throw new TenkaiError(
      "TENANT_NOT_FOUND",
      `tenant ${name} is not in ${file}`,
      names.length === 0
        ? "the spec has no tenants"
        : `check the name; tenants in the file: ${listSome(names, 8)}`,
    );
  const item = tenants.items[i] as { range?: [number, number, number] };
  const next = tenants.items[i + 1] as { range?: [number, number, number] } | undefined;
  if (!tenants.flow && tenants.items.length > 1 && item.range) {
    // The tenant's comments go with it; the next tenant's comments stay with the next tenant.
    const prev = tenants.items[i - 1] as { range?: [number, number, number] } | undefined;
    const floor = prev?.range ? nextLine(text, prev.range[1] - 1) : 0;
    const from = ownStart(text, item.range[0], floor);
    const to = next?.range
      ? ownStart(text, next.range[0], nextLine(text, item.range[1] - 1))
      : nextLine(text, item.range[1] - 1);
    return validated(text.slice(0, from) + text.slice(to), file, options);
  }
  tenants.items.splice(i, 1);
  if (tenants.items.length === 0) tenants.flow = true;
  return validated(withEol(doc.toString(), eolOf(text)), file, options);
}
