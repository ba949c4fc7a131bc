/**
 * Node rotation: tenkai vs `kubectl drain` node by node, on identical set-ups on the local
 * control plane (a fresh cluster for each run).
 *
 *   npx tsx bench/rotation.ts            # 50 blue nodes, 1,500 pods in 100 Deployments
 *   npx tsx bench/rotation.ts --large    # 200 blue nodes, 6,000 pods in 400 Deployments
 *   options: --grace SECONDS (default 2), --max-draining N (default: every node), --only tenkai|kubectl,
 *            --nodes N --pods N --deployments N (another size), --events FILE (tenkai's events as NDJSON)
 *
 * Both runs do the whole job: create green (kwok provider) and wait for it, take blue out of
 * service, move every pod, delete blue, and wait until every Deployment is back at full ready
 * replicas. The kubectl run does it the way operators do by hand: cordon all blue nodes,
 * `kubectl rollout restart` the single-replica Deployments (kubectl drain can never evict a pod
 * whose minAvailable-1 budget covers its only replica), then
 * `kubectl drain --ignore-daemonsets --delete-emptydir-data` one node after the other.
 * A PDB monitor watches every budget through both runs.
 */

import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  CoreV1Api,
  type KubeConfig,
  makeInformer,
  PolicyV1Api,
  type V1Pod,
  type V1PodDisruptionBudget,
} from "@kubernetes/client-node";
import { KwokNodeProvider } from "../src/providers/kwok/index.js";
import { type ClusterClients, type RotationCluster, rotationCluster } from "../src/rotation/cluster.js";
import { rotate } from "../src/rotation/rotate.js";
import type { RotationEvent } from "../src/rotation/types.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../test/support/cluster.js";
import { PdbMonitor } from "../test/support/pdb-monitor.js";
import {
  buildFixture,
  deploymentsNotReady,
  type FixtureSpec,
  fixtureOptions,
  fixtureSlot,
  mixedWorkloads,
  waitBudgetsSettled,
  waitDeploymentsReady,
} from "../test/support/rotation-fixture.js";

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : def;
};
const large = args.includes("--large");
const grace = Number(flag("--grace", "2"));
const only = flag("--only", "");
const nodes = Number(flag("--nodes", large ? "200" : "50"));
const pods = Number(flag("--pods", large ? "6000" : "1500"));
const deployments = Number(flag("--deployments", large ? "400" : "100"));
const namespaces = Math.max(1, Math.round(deployments / 10));
const maxDraining = Number(flag("--max-draining", String(nodes)));
const eventsFile = flag("--events", "");
const KUBECTL = join(process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai"), "bin/k8s-v1.36.3/kubectl");

const spec: FixtureSpec = {
  group: "bench",
  nodes,
  zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
  instanceType: "m6i.xlarge",
  workloads: mixedWorkloads("bench", deployments, pods, namespaces),
  graceSeconds: grace,
};

interface Outcome {
  readonly name: string;
  readonly seconds: number;
  readonly violations: number;
  readonly notReady: number;
  readonly note: string;
}

function sh(cmd: string, argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    p.on("error", reject);
    p.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${argv.join(" ")} exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

async function setUp(): Promise<{ cluster: TestCluster; monitor: PdbMonitor; provider: KwokNodeProvider }> {
  const cluster = await startTestCluster();
  if (!cluster) {
    process.stdout.write(`bench/rotation: cannot run: no local cluster: ${testClusterUnavailableReason()}\n`);
    process.exit(1);
  }
  const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
  const t0 = Date.now();
  await buildFixture(cluster.kubeConfig, provider, spec, 900_000);
  await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 300_000);
  process.stderr.write(
    `set-up: ${nodes} blue nodes, ${pods} pods in ${deployments} Deployments ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  const monitor = await PdbMonitor.start(cluster.kubeConfig);
  return { cluster, monitor, provider };
}

/**
 * The controller-manager's work queues (its /metrics, read with the admin certificate): how many
 * times each controller was asked to sync, how long a key waited in the queue and how long a sync
 * took. The disruption controller has one worker; every eviction costs it several syncs.
 */
type Queues = Map<string, number>;
function metricsText(host: string, port: string | undefined, dir: string): Promise<string> {
  return new Promise<string>((resolve) => {
    const req = https.get(
      {
        host,
        port,
        path: "/metrics",
        cert: readFileSync(join(dir, "pki/admin.crt")),
        key: readFileSync(join(dir, "pki/admin.key")),
        rejectUnauthorized: false,
        timeout: 10_000,
      },
      (res) => {
        let t = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          t += d;
        });
        res.on("end", () => resolve(t));
      },
    );
    req.on("error", () => resolve(""));
  });
}

const COMPONENTS = ["kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok"] as const;

/** CPU seconds a component's process has used, from /proc (the cluster's pid files). */
function componentCpu(dir: string, component: string): number {
  try {
    const pid = readFileSync(join(dir, "run", `${component}.pid`), "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return 0;
  }
}

/**
 * The control plane's counters: the controller-manager's work queues and client throttling, the
 * API server's requests by verb and resource, and each component's CPU (with this process's).
 */
async function controllerQueues(cluster: TestCluster): Promise<Queues> {
  const out: Queues = new Map();
  if (!cluster.dir) return out;
  const dir = cluster.dir;
  const port = /KCM_PORT=(\d+)/.exec(readFileSync(join(dir, "ports.env"), "utf8"))?.[1];
  const text = await metricsText("127.0.0.1", port, dir);
  for (const line of text.split("\n")) {
    const m =
      /^(workqueue_(?:adds_total|queue_duration_seconds_sum|queue_duration_seconds_count|work_duration_seconds_sum|work_duration_seconds_count))\{name="(disruption|replicaset|endpoint_slice|garbage_collector_attempt_to_delete)"\} (\S+)$/.exec(
        line,
      ) ?? /^(rest_client_rate_limiter_duration_seconds_(?:sum|count))\{[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    const key = m.length === 4 ? `${m[2]}.${m[1]}` : `client.${m[1]}`;
    out.set(key, (out.get(key) ?? 0) + Number(m[m.length - 1]));
  }
  const server = new URL(cluster.kubeConfig.getCurrentCluster()?.server ?? "https://127.0.0.1");
  const api = await metricsText(server.hostname, server.port, dir);
  for (const line of api.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const label = (n: string) => new RegExp(`[{,]${n}="([^"]*)"`).exec(line)?.[1] ?? "";
    const sub = label("subresource");
    const key = `api.${label("verb")} ${label("resource")}${sub ? `/${sub}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  for (const c of COMPONENTS) out.set(`cpu.${c}`, componentCpu(dir, c));
  const u = process.cpuUsage();
  out.set("cpu.this process (engine and bench)", (u.user + u.system) / 1e6);
  return out;
}

function queueReport(before: Queues, after: Queues): string {
  const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const lines: string[] = [];
  for (const q of ["disruption", "replicaset"]) {
    const n = d(`${q}.workqueue_work_duration_seconds_count`);
    if (n === 0) continue;
    lines.push(
      `    controller-manager ${q}: ${d(`${q}.workqueue_adds_total`)} adds, ${n} syncs, mean wait in queue ${((d(`${q}.workqueue_queue_duration_seconds_sum`) / Math.max(1, d(`${q}.workqueue_queue_duration_seconds_count`))) * 1000).toFixed(0)} ms, mean sync ${((d(`${q}.workqueue_work_duration_seconds_sum`) / n) * 1000).toFixed(0)} ms, busy ${d(`${q}.workqueue_work_duration_seconds_sum`).toFixed(1)} s`,
    );
  }
  const throttled = d("client.rest_client_rate_limiter_duration_seconds_sum");
  lines.push(`    controller-manager client-side throttling: ${throttled.toFixed(1)} s in total`);
  const cpu = [...after.keys()].filter((k) => k.startsWith("cpu."));
  lines.push(
    `    CPU used during the run: ${cpu.map((k) => `${k.slice(4)} ${d(k).toFixed(1)} s`).join(", ")}; total ${cpu.reduce((a, k) => a + d(k), 0).toFixed(1)} s`,
  );
  const requests = [...after.keys()]
    .filter((k) => k.startsWith("api."))
    .map((k) => [k.slice(4), d(k)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  lines.push(
    `    API server requests during the run (${requests.reduce((a, [, n]) => a + n, 0)}): ${requests
      .slice(0, 14)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  return lines.join("\n");
}

async function finish(
  name: string,
  t0: number,
  cluster: TestCluster,
  monitor: PdbMonitor,
  note: string,
  queuesBefore?: Queues,
): Promise<Outcome> {
  await waitDeploymentsReady(cluster.kubeConfig, spec.workloads, 600_000);
  const seconds = (Date.now() - t0) / 1000;
  if (queuesBefore)
    process.stderr.write(`  ${name}:\n${queueReport(queuesBefore, await controllerQueues(cluster))}\n`);
  const violations = await monitor.stop();
  const notReady = (await deploymentsNotReady(cluster.kubeConfig, spec.workloads)).length;
  for (const v of violations.slice(0, 5))
    process.stderr.write(
      `  violation: ${v.budget} healthy ${v.healthy} < desired ${v.desired} (${v.source})\n`,
    );
  await cluster.stop();
  return { name, seconds, violations: violations.length, notReady, note };
}

/**
 * With --events: what the cluster did, timestamped, next to tenkai's events (the profile): each
 * pod's creation, binding, Ready and deletion, and every budget status the disruption controller
 * or the eviction subresource wrote.
 */
async function traceCluster(kc: KubeConfig, file: string): Promise<() => Promise<void>> {
  const out = (o: Record<string, unknown>) =>
    appendFileSync(file, `${JSON.stringify({ time: new Date().toISOString(), ...o })}\n`);
  const core = kc.makeApiClient(CoreV1Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const pods = makeInformer<V1Pod>(kc, "/api/v1/pods", () => core.listPodForAllNamespaces());
  const pdbs = makeInformer<V1PodDisruptionBudget>(kc, "/apis/policy/v1/poddisruptionbudgets", () =>
    policy.listPodDisruptionBudgetForAllNamespaces(),
  );
  const seen = new Map<string, string>();
  const podState = (p: V1Pod) =>
    p.metadata?.deletionTimestamp
      ? "terminating"
      : p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
        ? "ready"
        : p.spec?.nodeName
          ? "bound"
          : "created";
  const onPod = (p: V1Pod) => {
    const uid = p.metadata?.uid ?? "";
    const st = podState(p);
    if (seen.get(uid) === st) return;
    seen.set(uid, st);
    out({
      code: "trace.pod",
      pod: `${p.metadata?.namespace}/${p.metadata?.name}`,
      state: st,
      node: p.spec?.nodeName,
    });
  };
  pods.on("add", onPod);
  pods.on("update", onPod);
  pods.on("delete", (p) =>
    out({ code: "trace.pod", pod: `${p.metadata?.namespace}/${p.metadata?.name}`, state: "deleted" }),
  );
  const onPdb = (b: V1PodDisruptionBudget) =>
    out({
      code: "trace.pdb",
      budget: `${b.metadata?.namespace}/${b.metadata?.name}`,
      healthy: b.status?.currentHealthy,
      desired: b.status?.desiredHealthy,
      expected: b.status?.expectedPods,
      allowed: b.status?.disruptionsAllowed,
      disrupted: Object.keys(b.status?.disruptedPods ?? {}).length,
    });
  pdbs.on("update", onPdb);
  await Promise.all([pods.start(), pdbs.start()]);
  return async () => {
    await Promise.all([pods.stop(), pdbs.stop()]);
  };
}

/**
 * The rotation cluster with every request tenkai sends counted by method (list/watch of the
 * informers are counted by the trace as the view starts; these are the direct calls).
 */
function countingCluster(cluster: RotationCluster, calls: Map<string, number>): RotationCluster {
  const wrap = <T extends object>(api: T, name: string): T =>
    new Proxy(api, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== "function" || typeof prop !== "string") return v;
        return (...a: unknown[]) => {
          const k = `${name}.${prop}`;
          calls.set(k, (calls.get(k) ?? 0) + 1);
          return (v as (...x: unknown[]) => unknown).apply(target, a);
        };
      },
    });
  const c = cluster.clients;
  const clients: ClusterClients = {
    core: wrap(c.core, "core"),
    apps: wrap(c.apps, "apps"),
    policy: wrap(c.policy, "policy"),
    evictions: wrap(c.evictions, "evictions"),
  };
  return {
    clients,
    watch: (now) => {
      calls.set("watch(pods+budgets)", (calls.get("watch(pods+budgets)") ?? 0) + 1);
      return cluster.watch(now);
    },
  };
}

async function runTenkai(): Promise<Outcome> {
  const { cluster, monitor, provider } = await setUp();
  const counts: Record<string, number> = {};
  if (eventsFile) writeFileSync(eventsFile, "");
  const calls = new Map<string, number>();
  // The profile: when each phase began (from the first event), the CPU this process spent in it
  // (tenkai's engine, plus the trace's watches with --events), and the requests tenkai sent.
  const phases: { name: string; at: number; cpu: number }[] = [];
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let firstEviction = 0;
  const sink = (e: RotationEvent) => {
    counts[e.code] = (counts[e.code] ?? 0) + 1;
    if (e.code === "rotation.phase") {
      const name = String((e.data as { phase?: string }).phase ?? e.message);
      if (phases.at(-1)?.name !== name) phases.push({ name, at: Date.now(), cpu: cpuMs() });
    }
    if (e.code === "rotation.green.ready")
      phases.push({ name: "plan re-check", at: Date.now(), cpu: cpuMs() });
    if (e.code === "rotation.pod.evicted" && firstEviction === 0) firstEviction = Date.now();
    if (eventsFile) appendFileSync(eventsFile, `${JSON.stringify(e)}\n`);
    if (
      e.code === "rotation.node.drained" ||
      e.code === "rotation.phase" ||
      e.code === "rotation.stalled" ||
      e.code === "rotation.drain.done"
    )
      process.stderr.write(`  tenkai: ${e.message}\n`);
  };
  const stopTrace = eventsFile ? await traceCluster(cluster.kubeConfig, eventsFile) : undefined;
  const queues = await controllerQueues(cluster);
  const t0 = Date.now();
  const cpu0 = cpuMs();
  await rotate(fixtureOptions(spec, { maxDraining, stallAfterMs: 15_000 }), {
    cluster: countingCluster(rotationCluster(cluster.kubeConfig), calls),
    provider,
    sink,
  });
  const tEnd = Date.now();
  phases.push({ name: "end", at: tEnd, cpu: cpuMs() });
  const lines = [`  profile: first eviction ${((firstEviction - t0) / 1000).toFixed(1)} s after the start`];
  let prev = { name: "plan", at: t0, cpu: cpu0 };
  for (const ph of phases) {
    lines.push(
      `    ${prev.name.padEnd(15)} ${((ph.at - prev.at) / 1000).toFixed(1).padStart(7)} s wall, ${((ph.cpu - prev.cpu) / 1000).toFixed(1).padStart(6)} s CPU in this process`,
    );
    prev = ph;
  }
  lines.push(
    `  requests tenkai sent: ${[...calls]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
  );
  process.stderr.write(`${lines.join("\n")}\n`);
  if (eventsFile)
    appendFileSync(
      eventsFile,
      `${JSON.stringify({ time: new Date().toISOString(), code: "bench.rotated" })}\n`,
    );
  await stopTrace?.();
  return finish(
    "tenkai nodes rotate",
    t0,
    cluster,
    monitor,
    `max-draining ${maxDraining}; ${counts["rotation.pod.evicted"] ?? 0} evictions, ${counts["rotation.pod.retry"] ?? 0} retries (429), ${counts["rotation.surge.started"] ?? 0} surges, ${counts["rotation.stalled"] ?? 0} stall reports`,
    queues,
  );
}

async function runKubectl(): Promise<Outcome> {
  const { cluster, monitor, provider } = await setUp();
  const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath };
  const k = (...a: string[]) => sh(KUBECTL, a, env);
  const queues = await controllerQueues(cluster);
  const t0 = Date.now();
  const green = { ...fixtureSlot(spec), slot: "green" as const, nodegroupName: "bench-green" };
  await provider.createSlot(green);
  await k(
    "wait",
    "--for=condition=Ready",
    "node",
    "-l",
    "eks.amazonaws.com/nodegroup=bench-green",
    "--timeout=300s",
  );
  await k("cordon", "-l", "eks.amazonaws.com/nodegroup=bench-blue");
  // Single-replica Deployments behind minAvailable 1: drain would wait on them forever, so the
  // operator restarts them first (maxSurge starts the new pod on green before the old one goes).
  const singles = spec.workloads.filter((w) => w.replicas === 1);
  const byNs = new Map<string, string[]>();
  for (const w of singles) byNs.set(w.namespace, [...(byNs.get(w.namespace) ?? []), `deployment/${w.name}`]);
  for (const [ns, names] of byNs) await k("rollout", "restart", "-n", ns, ...names);
  for (const w of singles)
    await k("rollout", "status", "-n", w.namespace, `deployment/${w.name}`, "--timeout=300s");
  const blue = (
    await cluster.kubeConfig
      .makeApiClient(CoreV1Api)
      .listNode({ labelSelector: "eks.amazonaws.com/nodegroup=bench-blue" })
  ).items.map((n) => n.metadata?.name ?? "");
  let i = 0;
  for (const node of blue) {
    const t = Date.now();
    await k("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=900s");
    i++;
    if (i % 10 === 0 || i === blue.length)
      process.stderr.write(
        `  kubectl: drained ${i}/${blue.length} (last ${((Date.now() - t) / 1000).toFixed(1)} s)\n`,
      );
  }
  await provider.deleteSlot("bench-blue");
  return finish(
    "kubectl drain, node by node",
    t0,
    cluster,
    monitor,
    `rollout restart of ${singles.length} single-replica Deployments, then ${blue.length} serial drains`,
    queues,
  );
}

const results: Outcome[] = [];
process.stderr.write(
  `bench/rotation: ${nodes} nodes, ${pods} pods, ${deployments} Deployments, grace ${grace} s\n`,
);
if (only !== "kubectl") results.push(await runTenkai());
if (only !== "tenkai") results.push(await runKubectl());

process.stdout.write(
  `\nNode rotation on the local control plane (kube-apiserver v1.36.3 + kwok), ${nodes} blue nodes -> ${nodes} green nodes,\n` +
    `${pods} pods in ${deployments} Deployments over ${namespaces} namespaces (budgets: ${deployments / 5} single replica + minAvailable 1, ` +
    `${(deployments * 2) / 5} maxUnavailable 1, ${(deployments * 2) / 5} minAvailable 50%), pods' grace period ${grace} s honoured.\n` +
    "Each time: green created and Ready -> blue out of service -> all pods moved -> blue deleted -> every Deployment fully Ready.\n\n",
);
for (const r of results) {
  process.stdout.write(
    `${r.name.padEnd(30)} ${r.seconds.toFixed(1).padStart(8)} s   PDB violations: ${r.violations}   Deployments not Ready at the end: ${r.notReady}\n    (${r.note})\n`,
  );
}
const [a, b] = results;
if (a && b)
  process.stdout.write(
    `\nspeed-up: ${(b.seconds / a.seconds).toFixed(1)}x (kubectl ${b.seconds.toFixed(1)} s / tenkai ${a.seconds.toFixed(1)} s)\n`,
  );
process.exit(0);
