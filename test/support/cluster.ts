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
 * - `startTestCluster({ realNodes: [{ name: "n1" }, ...] })` also starts real nodes
 *   (cluster/node.sh: containerd, kubelet, kube-proxy, kube-router in a network namespace each),
 *   installs CoreDNS (cluster/addons.sh) and waits until every real node is Ready. When the
 *   machine cannot run them (not root, packages or binaries missing) it returns undefined and
 *   prints what is missing, like a missing control plane.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";

/** A real node to start: its name, and kubelet registration labels and taints. */
export interface RealNodeSpec {
  readonly name: string;
  readonly labels?: Record<string, string>;
  /** `key[=value]:Effect` */
  readonly taints?: readonly string[];
  readonly maxPods?: number;
}

/** A running real node, as cluster/node.sh reports it. */
export interface RealNode {
  readonly name: string;
  readonly address: string;
  readonly podCIDR: string;
}

export interface TestClusterOptions {
  readonly realNodes?: readonly RealNodeSpec[];
  /**
   * The control plane's (and real nodes') release, e.g. `v1.35.4`: up.sh runs with
   * `TENKAI_KUBERNETES_VERSION` set to it. Default: cluster/build/versions.env's. When it is not
   * built, returns undefined naming the build command.
   */
  readonly kubernetesVersion?: string;
}

export interface TestCluster {
  readonly kubeconfigPath: string;
  readonly kubeConfig: KubeConfig;
  /** The cluster's directory (certs, logs, PID files); undefined when reusing TENKAI_TEST_KUBECONFIG. */
  readonly dir: string | undefined;
  /** Real nodes started with the cluster (empty without `realNodes`). */
  readonly realNodes: readonly RealNode[];
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
export function clusterPrerequisiteProblem(kubernetesVersion?: string): string | undefined {
  const versions = clusterVersions();
  if (kubernetesVersion) versions.KUBERNETES_VERSION = kubernetesVersion;
  const cache = process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai");
  const missing = [
    `k8s-${versions.KUBERNETES_VERSION}`,
    `etcd-${versions.ETCD_VERSION}`,
    `kwok-${versions.KWOK_VERSION}`,
  ].filter((d) => !existsSync(join(cache, "bin", d, ".complete")));
  if (missing.length === 0) return undefined;
  if (kubernetesVersion)
    return `binaries ${missing.join(", ")} are not built in ${cache}/bin; run: TENKAI_KUBERNETES_VERSION=${kubernetesVersion} bash cluster/build/build.sh kubernetes kubernetes-node`;
  const hasGo = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
  return hasGo
    ? `binaries ${missing.join(", ")} are not built in ${cache}/bin; run: bash cluster/ensure.sh (about 30 min cold on 2 cores)`
    : `Go is not installed, so the binaries ${missing.join(", ")} cannot be built (install Go 1.26+, then run bash cluster/ensure.sh)`;
}

/**
 * Why real nodes cannot run on this machine (root, Debian packages, cached node binaries), or
 * undefined when they can. Asks cluster/lib (net.sh, common.sh), as node.sh does.
 */
export function realNodePrerequisiteProblem(): string | undefined {
  const script = [
    `. ${JSON.stringify(join(clusterDir, "lib/common.sh"))}`,
    `. ${JSON.stringify(join(clusterDir, "lib/net.sh"))}`,
    `m="$(net_missing)"; if [ -n "$m" ]; then echo "$m" | paste -sd';'; exit 0; fi`,
    `node_binaries_present || echo "real-node binaries (kubelet, containerd, CNI plugins, CoreDNS, kube-router, images) are not built in $TENKAI_CACHE; run: bash cluster/ensure.sh"`,
  ].join("\n");
  const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
  const out = `${r.stdout ?? ""}`.trim();
  if (r.status !== 0) return `cannot check real-node prerequisites: ${r.stderr}`;
  return out === "" ? undefined : out.replaceAll(";", "; ");
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster | undefined> {
  const wantReal = (options.realNodes ?? []).length > 0;
  const reuse = process.env.TENKAI_TEST_KUBECONFIG;
  if (reuse && !wantReal && !options.kubernetesVersion) {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(reuse);
    return { kubeconfigPath: reuse, kubeConfig, dir: undefined, realNodes: [], stop: async () => {} };
  }
  const version = options.kubernetesVersion;
  const nodeBuild = (v: string) =>
    existsSync(
      join(process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai"), "bin", `k8s-node-${v}`, ".complete"),
    )
      ? undefined
      : `kubelet/kube-proxy ${v} are not built; run: TENKAI_KUBERNETES_VERSION=${v} bash cluster/build/build.sh kubernetes-node`;
  const problem =
    clusterPrerequisiteProblem(version) ??
    (wantReal ? (realNodePrerequisiteProblem() ?? (version ? nodeBuild(version) : undefined)) : undefined);
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
  const up = run(
    "bash",
    [join(clusterDir, "up.sh"), "--dir", dir],
    version ? { TENKAI_KUBERNETES_VERSION: version } : {},
  );
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
  let realNodes: RealNode[] = [];
  if (wantReal) {
    try {
      realNodes = await startRealNodes(dir, kubeConfig, options.realNodes ?? []);
    } catch (err) {
      forget();
      onExit();
      throw err;
    }
  }
  let stopped = false;
  return {
    kubeconfigPath,
    kubeConfig,
    dir,
    realNodes,
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

/** Starts real nodes in parallel, installs CoreDNS, and waits until the nodes are Ready. */
async function startRealNodes(
  dir: string,
  kubeConfig: KubeConfig,
  specs: readonly RealNodeSpec[],
): Promise<RealNode[]> {
  const started = Date.now();
  const nodes = await Promise.all(
    specs.map(async (spec) => {
      const args = [join(clusterDir, "node.sh"), "up", "--dir", dir, "--name", spec.name];
      for (const [k, v] of Object.entries(spec.labels ?? {})) args.push("--label", `${k}=${v}`);
      for (const t of spec.taints ?? []) args.push("--taint", t);
      if (spec.maxPods !== undefined) args.push("--max-pods", String(spec.maxPods));
      const r = await runCapture("bash", args);
      if (r.code !== 0)
        throw new Error(
          `test cluster: cluster/node.sh up ${spec.name} failed (exit ${r.code}):\n${r.stderr}`,
        );
      return JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as RealNode;
    }),
  );
  const addons = await runCapture("bash", [join(clusterDir, "addons.sh"), "--dir", dir, "--replicas", "1"]);
  if (addons.code !== 0)
    throw new Error(`test cluster: cluster/addons.sh failed (exit ${addons.code}):\n${addons.stderr}`);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  for (const n of nodes) {
    await waitFor(`real node ${n.name} Ready`, 120_000, async () => {
      const node = await core.readNode({ name: n.name });
      return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    });
  }
  process.stderr.write(
    `test cluster: ${nodes.length} real node(s) Ready with CoreDNS in ${Date.now() - started} ms: ${nodes.map((n) => `${n.name} ${n.address} pods ${n.podCIDR}`).join(", ")}\n`,
  );
  return nodes;
}

/** The probe binary (cluster/images/probe) built for real nodes, for running outside pods. */
export function probeBinary(): string {
  const r = spawnSync(
    "bash",
    ["-c", `. ${JSON.stringify(join(clusterDir, "lib/common.sh"))}; echo "$IMAGES_DIR/probe"`],
    {
      encoding: "utf8",
    },
  );
  return r.stdout.trim();
}

/** The image names real nodes hold (cluster/images/images.env). */
export function clusterImages(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(clusterDir, "images/images.env"), "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

/** Runs a cluster/ script and collects its output. */
export async function runClusterScript(
  script: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCapture("bash", [join(clusterDir, script), ...args]);
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

function runCapture(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number; stderr: string }> } {
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
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
