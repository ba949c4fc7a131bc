/**
 * Flips a node group's `activeSlot` in platform.yaml in place (the `stack` node provider, once a
 * rotation has moved the group to its other slot): the yaml Document API finds the value's
 * place, and only those bytes change, so comments, key order, flow or block layout, quoting and
 * line endings stay as they were. Pure text in, text out.
 */
import { isMap, isScalar, isSeq, parseDocument, type Scalar } from "yaml";
import { TenkaiError } from "../shared/errors.js";

export type SlotName = "blue" | "green";

export interface ActiveSlotEdit {
  /** The new file text (the same text when nothing changes). */
  readonly text: string;
  /** False when the file already said this slot. */
  readonly changed: boolean;
}

/**
 * Sets `spec.nodeGroups[name=group].activeSlot` to `slot`. A group without the key (the default,
 * `blue`) gets `activeSlot: <slot>` after its last key, in the map's own style.
 * @throws TenkaiError SPEC_YAML_SYNTAX, SPEC_NO_SPEC, or CLI_UNKNOWN_NODE_GROUP when the file has
 *   no such node group.
 */
export function setActiveSlot(text: string, file: string, group: string, slot: SlotName): ActiveSlotEdit {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new TenkaiError(
      "SPEC_YAML_SYNTAX",
      `cannot edit ${file}: ${doc.errors[0]?.message}`,
      "fix the YAML syntax first (tenkai validate FILE)",
    );
  const spec = doc.get("spec");
  if (!isMap(spec))
    throw new TenkaiError(
      "SPEC_NO_SPEC",
      `${file} has no spec mapping`,
      "run tenkai init to write a starter",
    );
  const groups = spec.get("nodeGroups");
  const node = isSeq(groups)
    ? groups.items.find((g) => isMap(g) && String(g.get("name")) === group)
    : undefined;
  if (!isMap(node) || !node.range)
    throw new TenkaiError(
      "CLI_UNKNOWN_NODE_GROUP",
      `node group "${group}" is not in ${file}`,
      `set activeSlot: ${slot} for ${group} by hand, or name a group of spec.nodeGroups`,
    );
  const current = node.get("activeSlot", true);
  if (isScalar(current) && current.range) {
    if (String(current.value) === slot) return { text, changed: false };
    const [from, to] = current.range;
    const quote = quoteOf(current);
    return { text: text.slice(0, from) + quote + slot + quote + text.slice(to), changed: true };
  }
  if (slot === "blue" && current === undefined) return { text, changed: false };
  // No activeSlot yet: add one after the group's last pair, in its style.
  const last = node.items.at(-1);
  const lastValue = last?.value as { range?: [number, number, number] } | undefined;
  const lastKey = last?.key as { range?: [number, number, number] } | undefined;
  if (!lastValue?.range || !lastKey?.range)
    throw new TenkaiError(
      "CLI_UNKNOWN_NODE_GROUP",
      `node group "${group}" in ${file} has no keys to place activeSlot after`,
      `add activeSlot: ${slot} to it by hand`,
    );
  const end = lastValue.range[1];
  if (node.flow) {
    return { text: `${text.slice(0, end)}, activeSlot: ${slot}${text.slice(end)}`, changed: true };
  }
  const eol = /\r\n/.test(text) ? "\r\n" : "\n";
  const keyLine = text.lastIndexOf("\n", lastKey.range[0] - 1) + 1;
  // The key's column (after a `- ` item marker when the group has one key).
  const indent = " ".repeat(lastKey.range[0] - keyLine);
  // After the last value's line (a block value ends at the start of the next line already).
  const lineEnd = text.slice(0, end).endsWith("\n") ? end : nextLine(text, end);
  const before = text.slice(0, lineEnd);
  return {
    text: `${before}${before.endsWith("\n") ? "" : eol}${indent}activeSlot: ${slot}${eol}${text.slice(lineEnd)}`,
    changed: true,
  };
}

function quoteOf(s: Scalar): string {
  if (s.type === "QUOTE_DOUBLE") return '"';
  if (s.type === "QUOTE_SINGLE") return "'";
  return "";
}

function nextLine(text: string, offset: number): number {
  const nl = text.indexOf("\n", offset);
  return nl < 0 ? text.length : nl + 1;
}
