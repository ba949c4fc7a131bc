/**
 * `tenkai tenant add|remove`: edits platform.yaml in place through the yaml Document API, so the
 * file keeps its comments, key order and flow/block layout; then validates the result before
 * anything is written (decide first). Pure text in, text out.
 */
import { isMap, isSeq, parseDocument, YAMLMap, YAMLSeq } from "yaml";
import { TenkaiError } from "../shared/errors.js";
import type { AccessLevelName } from "../shared/kube-names.js";
import { type LoadOptions, validateText } from "./load.js";
import { SpecError } from "./problems.js";
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
  if (names.includes(add.name))
    throw new TenkaiError(
      "TENANT_EXISTS",
      `tenant ${add.name} is already in ${file}`,
      "choose another name, or edit its entry in the file",
    );
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
      `${before}${before.endsWith("\n") ? "" : "\n"}${lines.join("\n")}\n${text.slice(at)}`,
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
  return validated(doc.toString(), file, options);
}

/** Removes a tenant: its lines are cut out of a block list; other layouts are re-serialised. */
export function removeTenant(text: string, file: string, name: string, options: LoadOptions = {}): SpecEdit {
  const { doc, tenants, names } = tenantsOf(text);
  const i = names.indexOf(name);
  if (i < 0)
    throw new TenkaiError(
      "TENANT_NOT_FOUND",
      `tenant ${name} is not in ${file}`,
      `tenants: ${names.join(", ") || "(none)"}`,
    );
  const item = tenants.items[i] as { range?: [number, number, number] };
  const next = tenants.items[i + 1] as { range?: [number, number, number] } | undefined;
  if (!tenants.flow && tenants.items.length > 1 && item.range) {
    const from = lineStart(text, item.range[0]);
    const to = next?.range ? lineStart(text, next.range[0]) : nextLine(text, item.range[1] - 1);
    return validated(text.slice(0, from) + text.slice(to), file, options);
  }
  tenants.items.splice(i, 1);
  if (tenants.items.length === 0) tenants.flow = true;
  return validated(doc.toString(), file, options);
}
