/**
 * The images every real local node has without pulling (cluster/images/images.env, written by the
 * cluster scripts that build them as OCI archives and import them into each node's containerd).
 */
import { existsSync, readFileSync } from "node:fs";
import { TenkaiError } from "../../shared/errors.js";
import { clusterScriptPath } from "./cluster-scripts.js";

export interface LocalImages {
  /** tenkai's probe/echo server: `probe serve|connect|http|dns|load`. */
  readonly probe: string;
  readonly pause: string;
  readonly coredns: string;
}

/** Parses `KEY=value` lines (shell-style, optional quotes; comments and blanks skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1]) continue;
    out[m[1]] = (m[2] ?? "").trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return out;
}

/**
 * The local images from `cluster/images/images.env`.
 * @throws TenkaiError `LOCAL_NO_IMAGES` when the file or a name in it is missing.
 */
export function localImages(path: string = clusterScriptPath("images/images.env")): LocalImages {
  if (!existsSync(path))
    throw new TenkaiError(
      "LOCAL_NO_IMAGES",
      `${path} does not exist, so tenkai does not know the local probe image`,
      "run bash cluster/ensure.sh (it builds the local images), or update tenkai",
    );
  const env = parseEnvFile(readFileSync(path, "utf8"));
  const need = ["PROBE_IMAGE", "PAUSE_IMAGE", "COREDNS_IMAGE"].filter((k) => !env[k]);
  if (need.length > 0)
    throw new TenkaiError(
      "LOCAL_NO_IMAGES",
      `${path} does not name ${need.join(", ")}`,
      "run bash cluster/ensure.sh to rebuild the local images",
    );
  return { probe: env.PROBE_IMAGE ?? "", pause: env.PAUSE_IMAGE ?? "", coredns: env.COREDNS_IMAGE ?? "" };
}
