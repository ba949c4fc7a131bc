/**
 * Real-node benchmark: starts a local cluster (cluster/up.sh), then real nodes one after another
 * with cluster/node.sh from the warm cache, and for each prints the time from `node.sh up` to the
 * Node's Ready condition (target: under 20 s) and the memory of its processes (containerd,
 * kubelet, kube-proxy, kube-router, plus the containerd shims and pods it runs). Then installs
 * CoreDNS and runs N probe pods per node to show the memory with a workload.
 *
 *   node --import tsx bench/real-node.ts [--nodes 3] [--pods 5]
 *
 * Memory is VmRSS from /proc: the node's PID files, plus every process in its network namespace
 * (shims) and in its pod cgroups.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import {
  clusterImages,
  createNamespace,
  runClusterScript,
  startTestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../test/support/cluster.js";

const { values } = parseArgs({
  options: { nodes: { type: "string", default: "3" }, pods: { type: "string", default: "5" } },
});
const nodeCount = Number(values.nodes);
const podsPerNode = Number(values.pods);

const rssKiB = (pid: string): number => {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

/** RSS in MiB of a node's processes, by component; "pods+shims" is everything else it runs. */
function nodeMemory(dir: string, name: string): Record<string, number> {
  const nd = join(dir, "nodes", name);
  const env = Object.fromEntries(
    readFileSync(join(nd, "node.env"), "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => l.split("=", 2) as [string, string]),
  );
  const out: Record<string, number> = {};
  const counted = new Set<string>();
  for (const f of readdirSync(join(nd, "run")).filter((f) => f.endsWith(".pid"))) {
    const pid = readFileSync(join(nd, "run", f), "utf8").trim();
    counted.add(pid);
    out[f.replace(/\.pid$/, "")] = Math.round(rssKiB(pid) / 1024);
  }
  const others = new Set<string>();
  const inNetns = spawnSync("ip", ["netns", "pids", env.NETNS ?? ""], { encoding: "utf8" }).stdout.split(
    "\n",
  );
  for (const p of inNetns) if (p.trim()) others.add(p.trim());
  const cg = `/sys/fs/cgroup/memory${env.CGROUP_ROOT}`;
  if (existsSync(cg)) {
    const procs = spawnSync("bash", ["-c", `find ${JSON.stringify(cg)} -name cgroup.procs -exec cat {} +`], {
      encoding: "utf8",
    }).stdout;
    for (const p of procs.split("\n")) if (p.trim()) others.add(p.trim());
  }
  let rest = 0;
  for (const p of others) if (!counted.has(p)) rest += rssKiB(p);
  out["pods+shims"] = Math.round(rest / 1024);
  return out;
}
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const show = (r: Record<string, number>) =>
  `${sum(r)} MiB (${Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")})`;

const cluster = await startTestCluster();
if (!cluster?.dir) {
  console.error(`bench: no local cluster: ${testClusterUnavailableReason()}`);
  process.exit(2);
}
const dir = cluster.dir;
const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
try {
  const starts: number[] = [];
  for (let i = 1; i <= nodeCount; i++) {
    const name = `bench-${i}`;
    const t0 = Date.now();
    const up = await runClusterScript("node.sh", ["up", "--dir", dir, "--name", name]);
    if (up.code !== 0) throw new Error(`node.sh up ${name} failed:\n${up.stderr}`);
    const tProcs = Date.now() - t0;
    await waitFor(`${name} Ready`, 120_000, async () => {
      const n = await core.readNode({ name });
      return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    });
    const tReady = Date.now() - t0;
    starts.push(tReady);
    console.log(
      `node ${name}: node.sh up returned in ${(tProcs / 1000).toFixed(1)} s, Ready in ${(tReady / 1000).toFixed(1)} s (target < 20 s; load ${load()})`,
    );
  }
  // Idle memory, 10 s after the last node is Ready.
  await new Promise((r) => setTimeout(r, 10_000));
  for (let i = 1; i <= nodeCount; i++)
    console.log(`memory idle bench-${i}: ${show(nodeMemory(dir, `bench-${i}`))}`);

  const addons = await runClusterScript("addons.sh", ["--dir", dir, "--replicas", "1"]);
  if (addons.code !== 0) throw new Error(`addons.sh failed:\n${addons.stderr}`);
  await createNamespace(cluster.kubeConfig, "bench");
  const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
  const replicas = podsPerNode * nodeCount;
  const t0 = Date.now();
  await apps.createNamespacedDeployment({
    namespace: "bench",
    body: {
      metadata: { name: "echo" },
      spec: {
        replicas,
        selector: { matchLabels: { app: "echo" } },
        template: {
          metadata: { labels: { app: "echo" } },
          spec: {
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "DoNotSchedule",
                labelSelector: { matchLabels: { app: "echo" } },
              },
            ],
            nodeSelector: { "kubernetes.io/os": "linux" },
            containers: [
              {
                name: "probe",
                image: clusterImages().PROBE_IMAGE,
                imagePullPolicy: "Never",
                args: ["serve"],
              },
            ],
          },
        },
      },
    },
  });
  await waitFor(`${replicas} echo pods ready`, 300_000, async () => {
    const d = await apps.readNamespacedDeployment({ namespace: "bench", name: "echo" });
    return (d.status?.readyReplicas ?? 0) === replicas;
  });
  console.log(
    `${replicas} probe pods (${podsPerNode} per node, plus CoreDNS) Ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (load ${load()})`,
  );
  await new Promise((r) => setTimeout(r, 10_000));
  for (let i = 1; i <= nodeCount; i++)
    console.log(`memory with pods bench-${i}: ${show(nodeMemory(dir, `bench-${i}`))}`);
  const sorted = [...starts].sort((a, b) => a - b);
  console.log(
    `summary: ${nodeCount} real node(s), start to Ready median ${((sorted[Math.floor(sorted.length / 2)] ?? 0) / 1000).toFixed(1)} s, max ${((sorted.at(-1) ?? 0) / 1000).toFixed(1)} s (target < 20 s)`,
  );
} finally {
  await cluster.stop();
}
