/**
 * Helm 3 release records. Helm keeps each release revision in a Secret of type
 * `helm.sh/release.v1` (labels owner=helm, name, status, version) whose `release` key holds the
 * release as base64(gzip(JSON)) — base64 once more in the Secret's data
 * (helm pkg/storage/driver/util.go encodeRelease). The stored manifest is what Helm diffs the next
 * upgrade against, so a removed apiVersion there breaks `helm upgrade` even after the chart is fixed.
 */
import { gunzipSync, gzipSync } from "node:zlib";
import { TenkaiError } from "../shared/errors.js";

export const HELM_RELEASE_TYPE = "helm.sh/release.v1";

export interface HelmRelease {
  readonly name: string;
  readonly namespace: string;
  readonly revision: number;
  readonly chart?: string;
  readonly manifest: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];

/** Decodes the `release` value of a release Secret's data (as the API returns it, base64). */
export function decodeHelmRelease(dataRelease: string, where: string): HelmRelease {
  try {
    let bytes = Buffer.from(Buffer.from(dataRelease, "base64").toString("utf8"), "base64");
    if (bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) bytes = gunzipSync(bytes);
    const rel = JSON.parse(bytes.toString("utf8")) as {
      name?: string;
      namespace?: string;
      version?: number;
      manifest?: string;
      chart?: { metadata?: { name?: string; version?: string } };
    };
    const chart = rel.chart?.metadata?.name
      ? `${rel.chart.metadata.name}-${rel.chart.metadata.version ?? "?"}`
      : undefined;
    return {
      name: rel.name ?? "",
      namespace: rel.namespace ?? "",
      revision: rel.version ?? 0,
      ...(chart ? { chart } : {}),
      manifest: rel.manifest ?? "",
    };
  } catch (cause) {
    throw new TenkaiError(
      "UPGRADE_HELM_UNREADABLE",
      `${where}: the Helm release record cannot be decoded`,
      "check the Secret is a Helm 3 release (type helm.sh/release.v1); remove it if it is a stale copy",
      { cause },
    );
  }
}

/** Encodes a release the way Helm stores it (tests and benchmarks write release Secrets with it). */
export function encodeHelmRelease(release: {
  name: string;
  namespace: string;
  version: number;
  manifest: string;
  chart?: { metadata: { name: string; version: string } };
}): string {
  const inner = gzipSync(Buffer.from(JSON.stringify({ ...release, info: { status: "deployed" } })));
  return Buffer.from(inner.toString("base64")).toString("base64");
}
