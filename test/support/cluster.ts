/**
 * Gives a node:test file a real local Kubernetes cluster (cluster/up.sh: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler, kwok).
 *
 *   const cluster = await startTestCluster();
 *   after(() => cluster?.stop());
 *   it("...", async (t) => {
 *     if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
 *     ...
 *   });
 *
 * - `TENKAI_TEST_KUBECONFIG=<path>` reuses that cluster; `stop()` then leaves it running.
 * - When Go or the cached binaries are missing, returns undefined and prints why (never a silent
 *   skip). When the binaries are there but the cluster does not come up, throws: that is a failure.
 * - `TENKAI_KEEP_CLUSTER=1` keeps the cluster directory (logs, etcd data) after `stop()`.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

export interface TestCluster {
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** The cluster's directory (certs, logs, PID files); undefined when reusing TENKAI_TEST_KUBECONFIG. */
  readonly dir: string | undefined;
  /** Stops the cluster this helper started; a no-op for a reused one. Safe to call twice. */
  stop(): Promise<void>;
}

const clusterDir = fileURLToPath(new URL("../../cluster/", import.meta.url));
let unavailableReason: string | undefined;

/** Why the last `startTestCluster()` returned undefined. */
export function testClusterUnavailableReason(): string {
  return unavailableReason ?? "unknown";
}

/**
 * The pinned versions in cluster/build/versions.env. `KUBERNETES_VERSION` follows
 * `TENKAI_KUBERNETES_VERSION` as the shell scripts do.
 */
export function clusterVersions(): Record<string, string> {
  const versions: Record<string, string> = Object.fromEntries(
    readFileSync(join(clusterDir, "build/versions.env"), "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=[^$]/.test(l))
      .map((l) => l.split("=", 2) as [string, string]),
  );
  versions.KUBERNETES_VERSION =
    process.env.TENKAI_KUBERNETES_VERSION ?? versions.KUBERNETES_DEFAULT_VERSION ?? "";
  return versions;
}

/** Why a cluster cannot be started on this machine, or undefined when it can. */
export function clusterPrerequisiteProblem(): string | undefined {
  const versions = clusterVersions();
  const cache = process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai");
  const missing = [
    `k8s-${versions.KUBERNETES_VERSION}`,
    `etcd-${versions.ETCD_VERSION}`,
    `kwok-${versions.KWOK_VERSION}`,
  ].filter((d) => !existsSync(join(cache, "bin", d, ".complete")));
  if (missing.length === 0) return undefined;
  const hasGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
  return hasGo
    ? `binaries ${missing.join(", ")} are not built in ${cache}/bin; run: bash cluster/ensure.sh (about 30 min cold on 2 cores)`
    : `Go is not installed, so the binaries ${missing.join(", ")} cannot be built (install Go 1.26+, then run bash cluster/ensure.sh)`;
}

export async function startTestCluster(): Promise<TestCluster | undefined> {
  const reuse = process.env.TENKAI_TEST_KUBECONFIG;
  if (reuse) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(reuse);
    return { kubeconfigPath: reuse, kubeConfig, dir: undefined, stop: async () => {} };
  }
  const problem = clusterPrerequisiteProblem();
  if (problem) {
    unavailableReason = problem;
    process.stderr.write(`test cluster: skipping cluster tests: ${problem}\n`);
    return undefined;
  }

  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "tenkai-test-cluster-"));
  // If the test process dies without calling stop(), even while up.sh runs, don't leave five
  // daemons behind: "exit" covers a normal end, the signal handlers a kill (then die of it).
  let upScript: ChildProcess | undefined;
  const onExit = () => {
    upScript?.kill("SIGTERM");
    const purge = process.env.TENKAI_KEEP_CLUSTER ? [] : ["--purge"];
    spawnSync("bash", [join(clusterDir, "down.sh"), "--dir", dir, ...purge], { stdio: "ignore" });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.kill(process.pid, signal);
  };
  process.once("exit", onExit);
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const forget = () => {
    process.off("exit", onExit);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };

  const started = Date.now();
  const up = run("bash", [join(clusterDir, "up.sh"), "--dir", dir]);
  upScript = up.child;
  const { code, stderr } = await up.done;
  upScript = undefined;
  if (code !== 0) {
    forget();
    throw new Error(`test cluster: cluster/up.sh failed (exit ${code}) in ${dir}:\n${stderr}`);
  }
  process.stderr.write(`test cluster: ready in ${Date.now() - started} ms in ${dir}\n`);

  const kubeconfigPath = join(dir, "kubeconfig");
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let stopped = false;
  return {
    kubeconfigPath,
    kubeConfig,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      forget();
      const args = [join(clusterDir, "down.sh"), "--dir", dir];
      if (!process.env.TENKAI_KEEP_CLUSTER) args.push("--purge");
      const result = await run("bash", args).done;
      if (result.code !== 0)
        throw new Error(`test cluster: cluster/down.sh failed (exit ${result.code}):\n${result.stderr}`);
    },
  };
}

/**
 * Creates a namespace and waits for its `default` ServiceAccount (made by the controller-manager),
 * without which the ServiceAccount admission plugin rejects pods.
 */
export async function createNamespace(
  kubeConfig: KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(`ServiceAccount ${name}/default`, 30_000, async () => {
    try {
      await core.readNamespacedServiceAccount({ name: "default", namespace: name });
      return true;
    } catch {
      return false;
    }
  });
}

/** Polls `check` every 100 ms until it returns a value other than false/undefined; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | false | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}`,
        last ? { cause: last } : undefined,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function run(
  cmd: string,
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number; stderr: string }> } {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  const done = new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
  return { child, done };
}
