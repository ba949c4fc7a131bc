/**
 * The local cluster's control plane moves for real: `cluster/control-plane.sh upgrade` stops
 * kube-apiserver, kube-controller-manager and kube-scheduler one at a time and starts each from the
 * target release's binaries with the same arguments, certificates and etcd (its data directory is
 * kept), waiting for /readyz and the new /version. The release of a minor is the newest one built
 * in the cache (`~/.cache/tenkai/bin/k8s-v1.N.P` with its `k8s-node-` twin for the real nodes).
 * Local add-ons are the cluster scripts' pinned builds: there is no add-on API to move them.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type KubeConfig, VersionApi } from "@kubernetes/client-node";
import { tenkaiCache } from "../local/cluster-dir.js";
import { runClusterScript, type ScriptRunner, tail } from "../providers/local/cluster-scripts.js";
import { TenkaiError } from "../shared/errors.js";
import { kubeMessage } from "../shared/kube-errors.js";
import type { AddonDriver, ControlPlaneDriver } from "./run-types.js";
import { parseMinor } from "./versions.js";

/** `v1.36.3-eks-1` → `1.36.3`; a minor stays a minor. */
export function releaseOf(version: string): string {
  return /^v?(\d+\.\d+(?:\.\d+)?)/.exec(version.trim())?.[1] ?? version;
}

/** The newest release of `minor` whose control-plane and node binaries are both built in `cache`. */
export function builtRelease(minor: string, cache: string = tenkaiCache()): string | undefined {
  const bin = join(cache, "bin");
  if (!existsSync(bin)) return undefined;
  const patches = readdirSync(bin)
    .map((d) => /^k8s-v(\d+\.\d+)\.(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === minor)
    .filter((m) => existsSync(join(bin, m[0], ".complete")))
    .filter((m) => existsSync(join(bin, `k8s-node-v${m[1]}.${m[2]}`, ".complete")))
    .map((m) => Number(m[2]))
    .sort((a, b) => b - a);
  return patches.length > 0 ? `v${minor}.${patches[0]}` : undefined;
}

export interface LocalControlPlaneOptions {
  readonly kubeConfig: KubeConfig;
  /** The local cluster's directory (cluster/up.sh --dir). */
  readonly clusterDir: string;
  /** Default `$TENKAI_CACHE` or `~/.cache/tenkai`. */
  readonly cache?: string;
  readonly runScript?: ScriptRunner;
  /** The script's progress lines (one component at a time). */
  readonly onProgress?: (line: string) => void;
}

export class LocalControlPlane implements ControlPlaneDriver {
  readonly name = "local";
  private readonly api: VersionApi;
  private readonly runScript: ScriptRunner;
  constructor(private readonly o: LocalControlPlaneOptions) {
    this.api = o.kubeConfig.makeApiClient(VersionApi);
    this.runScript = o.runScript ?? ((s, a) => runClusterScript(s, a, o.onProgress));
  }

  async version(): Promise<string> {
    try {
      return (await this.api.getCode()).gitVersion;
    } catch (err) {
      throw new TenkaiError(
        "UPGRADE_UNKNOWN_VERSION",
        `reading /version of the local cluster in ${this.o.clusterDir}: ${kubeMessage(err)}`,
        `check the cluster runs: bash cluster/up.sh --dir ${this.o.clusterDir}`,
        { cause: err },
      );
    }
  }

  async upgrade(minor: string, timeoutMs: number): Promise<string> {
    const now = await this.version();
    if (parseMinor(now) && releaseOf(now).startsWith(`${minor}.`)) return now;
    const release = builtRelease(minor, this.o.cache);
    if (!release) {
      throw new TenkaiError(
        "UPGRADE_NO_RELEASE",
        `no Kubernetes ${minor} release is built for the local cluster (control plane and node binaries in ${join(this.o.cache ?? tenkaiCache(), "bin")})`,
        `build one with a wrapper module in cluster/build/kubernetes-v${minor}.N: TENKAI_KUBERNETES_VERSION=v${minor}.N bash cluster/build/build.sh kubernetes kubernetes-node`,
        { details: { minor } },
      );
    }
    const r = await this.runScript("control-plane.sh", [
      "upgrade",
      "--dir",
      this.o.clusterDir,
      "--to",
      release,
      "--timeout",
      String(Math.max(1, Math.ceil(timeoutMs / 1000))),
    ]);
    if (r.code !== 0) {
      const timedOut = /not within \d+s/.test(r.stderr);
      throw new TenkaiError(
        timedOut ? "UPGRADE_STEP_TIMEOUT" : "UPGRADE_CONTROL_PLANE_FAILED",
        `cluster/control-plane.sh upgrade --to ${release} exited ${r.code}:\n${tail(r.stderr)}`,
        `see the component logs in ${this.o.clusterDir}/logs; run the upgrade again to finish it (control-plane.sh leaves components already on ${release} alone)`,
        { details: { release } },
      );
    }
    const after = await this.version();
    if (releaseOf(after) !== releaseOf(release)) {
      throw new TenkaiError(
        "UPGRADE_CONTROL_PLANE_FAILED",
        `the local API server reports ${after} after the move to ${release}`,
        `see ${this.o.clusterDir}/logs/kube-apiserver.log`,
      );
    }
    return after;
  }

  nodeVersion(version: string): string {
    return releaseOf(version);
  }
}

/** Local add-ons: CoreDNS and kube-proxy are the cluster scripts' pinned builds; nothing to move. */
export const localAddons: AddonDriver = {
  async update(addon) {
    if (addon.kind === "chart")
      throw new TenkaiError(
        "UPGRADE_ADDON_MANUAL",
        `${addon.name} must move to ${addon.to} before the control plane does; it is rendered from the platform's charts`,
        "move it with tenkai apply (update the chart's version), then run tenkai upgrade run again: it resumes at this step",
        { details: { addon: addon.name, to: addon.to } },
      );
    return {
      outcome: "skipped",
      reason: `the local cluster has no EKS add-on ${addon.name}: its CoreDNS and kube-proxy are the pinned builds of cluster/addons.sh and cluster/node.sh (kube-proxy moves with each real node)`,
    };
  },
};
