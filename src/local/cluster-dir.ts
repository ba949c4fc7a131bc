/**
 * Where a local cluster lives: `tenkai local up` keeps each platform's cluster in its own
 * directory (certificates, etcd data, node state, logs, PID files, kubeconfig), by default
 * `${TENKAI_CACHE:-~/.cache/tenkai}/local/<platform>`, so `local down` and `local status` find it
 * from the same spec, and `nodes rotate` finds it from the kubeconfig beside it.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { TenkaiError } from "../shared/errors.js";

/** The cache directory the cluster scripts use (cluster/lib/common.sh: TENKAI_CACHE). */
export function tenkaiCache(): string {
  return process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai");
}

/** Default directory of the local cluster of a platform. */
export function defaultClusterDir(platformName: string): string {
  return join(tenkaiCache(), "local", platformName);
}

/** The kubeconfig `cluster/up.sh` writes into a cluster directory. */
export function kubeconfigOf(clusterDir: string): string {
  return join(clusterDir, "kubeconfig");
}

/** Whether `dir` looks like a directory `cluster/up.sh` made (it writes ports.env there). */
export function isClusterDir(dir: string): boolean {
  return existsSync(join(dir, "ports.env")) && existsSync(kubeconfigOf(dir));
}

/**
 * The cluster directory for commands that get a kubeconfig (`nodes rotate` with real nodes): the
 * `--cluster-dir` flag, else the directory of the kubeconfig (`--kubeconfig`, else $KUBECONFIG)
 * when `cluster/up.sh` made it.
 * @throws TenkaiError `LOCAL_NO_CLUSTER_DIR` naming both ways to say it.
 */
export function localClusterDir(opts: {
  clusterDir?: string | undefined;
  kubeconfig?: string | undefined;
}): string {
  if (opts.clusterDir) {
    const dir = resolve(opts.clusterDir);
    if (!isClusterDir(dir))
      throw new TenkaiError(
        "LOCAL_NO_CLUSTER_DIR",
        `${dir} is not a local cluster directory (no ports.env and kubeconfig in it)`,
        "pass the directory tenkai local up printed (tenkai local status shows it)",
      );
    return dir;
  }
  const kubeconfig = opts.kubeconfig ?? process.env.KUBECONFIG?.split(":")[0];
  if (kubeconfig && isClusterDir(dirname(resolve(kubeconfig)))) return dirname(resolve(kubeconfig));
  throw new TenkaiError(
    "LOCAL_NO_CLUSTER_DIR",
    "real local nodes are started in the local cluster's directory, and none was given",
    "pass --cluster-dir DIR (tenkai local status shows it), or --kubeconfig DIR/kubeconfig of a cluster tenkai local up started",
  );
}
