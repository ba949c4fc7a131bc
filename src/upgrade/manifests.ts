/**
 * Manifests read from disk (files or directories given on the command line), with the line each
 * document starts on, so a finding names `file:line`. YAML streams, JSON, and `kind: List` are
 * understood; anything else in a directory is left alone.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { TenkaiError } from "../shared/errors.js";

export interface ManifestDoc {
  readonly doc: { apiVersion?: unknown; kind?: unknown; metadata?: { name?: string; namespace?: string } };
  /** `file:line` of the document (or of the List item). */
  readonly location: string;
}

const MANIFEST_EXT = new Set([".yaml", ".yml", ".json"]);

/** Every manifest file under the given paths (directories recursively, dot-directories skipped). */
export async function manifestFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch((cause: unknown) => {
      throw new TenkaiError(
        "UPGRADE_BAD_PATH",
        `${p}: no such file or directory`,
        "pass existing manifest files or directories",
        { cause },
      );
    });
    if (s.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (MANIFEST_EXT.has(extname(e.name))) out.push(p);
  }
  return out;
}

/** The documents of one manifest text; `name` prefixes each location. */
export function manifestDocs(text: string, name: string): ManifestDoc[] {
  const lines = new LineCounter();
  const out: ManifestDoc[] = [];
  for (const d of parseAllDocuments(text, { lineCounter: lines })) {
    if (!("contents" in d) || d.errors.length > 0) continue;
    const value = d.toJS() as unknown;
    const line = lines.linePos(d.contents?.range?.[0] ?? 0).line;
    push(value, `${name}:${line}`, out);
  }
  return out;
}

function push(value: unknown, location: string, out: ManifestDoc[]): void {
  if (!value || typeof value !== "object" || Array.isArray(value)) return;
  const v = value as { kind?: unknown; items?: unknown };
  if (typeof v.kind === "string" && v.kind.endsWith("List") && Array.isArray(v.items)) {
    v.items.forEach((item, i) => push(item, `${location} items[${i}]`, out));
    return;
  }
  out.push({ doc: value as ManifestDoc["doc"], location });
}

export async function readManifestFile(file: string): Promise<ManifestDoc[]> {
  return manifestDocs(await readFile(file, "utf8"), file);
}
