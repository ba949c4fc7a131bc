/**
 * Node rotation on real nodes under load: tenkai vs serial `kubectl drain`, each on an identical
 * fresh local cluster brought up by `tenkai local up` (real kubelets, containerd, kube-proxy,
 * kube-router; the probe image serving every workload).
 *
 *   node --import tsx bench/rotation-real.ts [--nodes 3] [--replicas 3] [--rps 20] [--only tenkai|kubectl]
 *
 * The platform: node group `general` with N real nodes (rotated blue -> green), and a node group
 * `load` with one real node that holds the load generators and is never rotated (tainted by the
 * bench, so the services' pods leave it). Two
 * tenants with one service each (replicas R, PDB maxUnavailable 1, the probe server keeps serving
 * 5 s after SIGTERM). In each tenant's namespace (so the tenant's own NetworkPolicies admit it) a
 * pod on the load node runs `probe load` against the Service's ClusterIP in back-to-back windows
 * from before the rotation starts until every pod has moved: fresh connections through kube-proxy,
 * so a dropped endpoint shows as a failed request.
 *
 * tenkai: `rotate()` with the local provider (what `tenkai nodes rotate general` runs).
 * kubectl: create the green slot with the same provider, wait Ready, cordon blue, then
 * `kubectl drain --ignore-daemonsets --delete-emptydir-data` one node after the other, delete blue.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { localDown } from "../src/local/down.js";
import { activeSlotSpec, asLocal, kubectlPath, localUp } from "../src/local/up.js";
import { localImages } from "../src/providers/local/images.js";
import { LocalNodeProvider } from "../src/providers/local/index.js";
import { rotationCluster } from "../src/rotation/cluster.js";
import { rotate } from "../src/rotation/rotate.js";
import type { RotationEvent } from "../src/rotation/types.js";
import { loadPlatform } from "../src/spec/load.js";
import { podExec } from "../src/verify/network/exec.js";
import { clusterPrerequisiteProblem, realNodePrerequisiteProblem } from "../test/support/cluster.js";

const args = process.argv.slice(2);
const flag = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : def;
};
const NODES = Number(flag("--nodes", "3"));
const REPLICAS = Number(flag("--replicas", "3"));
const RPS = Number(flag("--rps", "20"));
const WINDOW = "10s";
const only = flag("--only", "");
const TENANTS = ["shop", "users"];

const problem = clusterPrerequisiteProblem() ?? realNodePrerequisiteProblem();
if (problem) {
  process.stdout.write(`bench/rotation-real: cannot run on this machine: ${problem}\n`);
  process.exit(1);
}

const spec = `apiVersion: tenkai.dev/v1alpha1
kind: Platform
metadata: { name: rotbench }
spec:
  target: local
  aws: { account: "123456789012", region: ap-northeast-1 }
  cluster: { version: "1.35" }
  network: { azs: 3 }
  nodeGroups:
    - { name: general, instanceTypes: [m6i.large], min: ${NODES}, max: ${NODES * 2}, desired: ${NODES}, local: { nodes: real } }
    - name: load
      instanceTypes: [m6i.large]
      min: 1
      max: 1
      desired: 1
      local: { nodes: real }
      labels: { bench-role: load }
  tenants:
${TENANTS.map(
  (t) => `    - name: ${t}
      quota: { cpu: "4", memory: 4Gi, pods: 20 }
      services:
        - { name: web, image: web, tag: "1.0.0", port: 8080, replicas: ${REPLICAS}, resources: { cpu: 50m, memory: 64Mi } }`,
).join("\n")}
`;

/** The cluster of the run under way, brought down if the run fails. */
let running: string | undefined;

interface LoadTotals {
  sent: number;
  failed: number;
  errors: Record<string, number>;
  windows: number;
  loadMs: number;
}

interface Outcome {
  readonly name: string;
  readonly seconds: number;
  readonly load: LoadTotals;
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

async function setUp(label: string) {
  const work = mkdtempSync(join(tmpdir(), `tenkai-rotbench-${label}-`));
  const file = join(work, "platform.yaml");
  writeFileSync(file, spec);
  const platform = asLocal(await loadPlatform(file));
  const clusterDir = join(work, "cluster");
  running = clusterDir;
  const t0 = Date.now();
  const up = await localUp({ platform, file, clusterDir, timeoutMs: 900_000 });
  const kc = new KubeConfig();
  kc.loadFromFile(up.kubeconfig);
  process.stderr.write(`${label}: local up in ${((Date.now() - t0) / 1000).toFixed(1)} s (${clusterDir})\n`);
  const core = kc.makeApiClient(CoreV1Api);
  const probe = localImages().probe;
  // The load node is kept for the load generators with a taint the platform does not know (the
  // tenants' admission policy refuses tolerations of the platform's own taints): NoExecute, so the
  // service pods the scheduler put there move to the general nodes before the run starts.
  const loadNodes = (await core.listNode({ labelSelector: "bench-role=load" })).items;
  for (const n of loadNodes) {
    await core.patchNode(
      {
        name: n.metadata?.name ?? "",
        body: {
          spec: {
            taints: [...(n.spec?.taints ?? []), { key: "bench-load", value: "true", effect: "NoExecute" }],
          },
        },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  }
  const loadNames = new Set(loadNodes.map((n) => n.metadata?.name ?? ""));
  for (;;) {
    const pods = (await core.listPodForAllNamespaces()).items.filter((p) =>
      TENANTS.includes(p.metadata?.namespace ?? ""),
    );
    const onLoad = pods.filter((p) => loadNames.has(p.spec?.nodeName ?? ""));
    const ready = pods.filter(
      (p) =>
        !p.metadata?.deletionTimestamp &&
        p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    );
    if (onLoad.length === 0 && ready.length >= TENANTS.length * REPLICAS) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // A load generator per tenant, on the load node, in the tenant's namespace.
  for (const ns of TENANTS) {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: "loadgen" },
        spec: {
          automountServiceAccountToken: false,
          // Not the node group label: the tenants' admission policy refuses pods pinned to a slot.
          nodeSelector: { "bench-role": "load" },
          tolerations: [{ key: "bench-load", operator: "Equal", value: "true", effect: "NoExecute" }],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "probe",
              image: probe,
              imagePullPolicy: "IfNotPresent",
              args: ["sleep", "2h"],
              resources: {
                requests: { cpu: "50m", memory: "32Mi" },
                limits: { cpu: "500m", memory: "64Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    });
  }
  for (const ns of TENANTS) {
    for (;;) {
      const p = await core.readNamespacedPod({ name: "loadgen", namespace: ns });
      if (p.status?.phase === "Running") break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const urls = await Promise.all(
    TENANTS.map(async (ns) => {
      const s = await core.readNamespacedService({ name: "web", namespace: ns });
      return { ns, url: `http://${s.spec?.clusterIP}:8080/` };
    }),
  );
  const provider = new LocalNodeProvider({ kubeConfig: kc, clusterDir });
  return { platform, file, clusterDir, kc, up, urls, provider };
}

/** Runs `probe load` windows from every load pod until `stop()` is called; sums the results. */
function startLoad(kc: KubeConfig, urls: { ns: string; url: string }[]) {
  const exec = podExec(kc);
  const totals: LoadTotals = { sent: 0, failed: 0, errors: {}, windows: 0, loadMs: 0 };
  let stopping = false;
  const loops = urls.map(async ({ ns, url }) => {
    while (!stopping) {
      const t = Date.now();
      const r = await exec(
        ns,
        "loadgen",
        "probe",
        ["/probe", "load", "--url", url, "--rps", String(RPS), "--duration", WINDOW, "--timeout", "2s"],
        60_000,
      );
      try {
        const v = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}") as {
          sent?: number;
          failed?: number;
          errors?: Record<string, number>;
        };
        totals.sent += v.sent ?? 0;
        totals.failed += v.failed ?? 0;
        for (const [k, n] of Object.entries(v.errors ?? {})) totals.errors[k] = (totals.errors[k] ?? 0) + n;
        totals.windows++;
        totals.loadMs += Date.now() - t;
      } catch {
        process.stderr.write(`  load window in ${ns} did not report: ${r.error ?? ""} ${r.stderr}\n`);
      }
    }
  });
  return {
    async stop(): Promise<LoadTotals> {
      stopping = true;
      await Promise.all(loops);
      return totals;
    },
  };
}

async function runTenkai(): Promise<Outcome> {
  const env = await setUp("tenkai");
  const load = startLoad(env.kc, env.urls);
  await new Promise((r) => setTimeout(r, 5_000));
  const group = env.platform.spec.nodeGroups.find((g) => g.name === "general");
  if (!group) throw new Error("no general group");
  const { slot: _s, nodegroupName: _n, ...slotTemplate } = activeSlotSpec(env.platform, group);
  const t0 = Date.now();
  const sink = (e: RotationEvent) => {
    if (e.level !== "debug") process.stderr.write(`  tenkai: ${e.message}\n`);
  };
  await rotate(
    { group: "general", slotTemplate, specActiveSlot: "blue", stallAfterMs: 15_000, timeoutMs: 1_800_000 },
    { cluster: rotationCluster(env.kc), provider: env.provider, sink },
  );
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5_000));
  const totals = await load.stop();
  await localDown({ clusterDir: env.clusterDir, purge: true });
  return {
    name: "tenkai nodes rotate",
    seconds,
    load: totals,
    note: "blue/green, parallel drain within budgets",
  };
}

async function runKubectl(): Promise<Outcome> {
  const env = await setUp("kubectl");
  const load = startLoad(env.kc, env.urls);
  await new Promise((r) => setTimeout(r, 5_000));
  const group = env.platform.spec.nodeGroups.find((g) => g.name === "general");
  if (!group) throw new Error("no general group");
  const blueSpec = activeSlotSpec(env.platform, group);
  const green = { ...blueSpec, slot: "green" as const, nodegroupName: "general-green" };
  const kenv = { ...process.env, KUBECONFIG: env.up.kubeconfig };
  const k = (...a: string[]) => sh(kubectlPath(), a, kenv);
  const t0 = Date.now();
  await env.provider.createSlot(green);
  await k(
    "wait",
    "--for=condition=Ready",
    "node",
    "-l",
    "eks.amazonaws.com/nodegroup=general-green",
    "--timeout=600s",
  );
  await k("cordon", "-l", "eks.amazonaws.com/nodegroup=general-blue");
  const blue = (
    await env.kc
      .makeApiClient(CoreV1Api)
      .listNode({ labelSelector: "eks.amazonaws.com/nodegroup=general-blue" })
  ).items.map((n) => n.metadata?.name ?? "");
  for (const node of blue) {
    const t = Date.now();
    await k("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=900s");
    process.stderr.write(`  kubectl: drained ${node} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  }
  await env.provider.deleteSlot("general-blue");
  const seconds = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5_000));
  const totals = await load.stop();
  await localDown({ clusterDir: env.clusterDir, purge: true });
  return { name: "kubectl drain, node by node", seconds, load: totals, note: `${blue.length} serial drains` };
}

const results: Outcome[] = [];
process.stderr.write(
  `bench/rotation-real: ${NODES} real blue nodes -> ${NODES} green, ${TENANTS.length} tenants x 1 service x ${REPLICAS} replicas, load ${RPS} rps per service\n`,
);
try {
  if (only !== "kubectl") results.push(await runTenkai());
  running = undefined;
  if (only !== "tenkai") results.push(await runKubectl());
  running = undefined;
} catch (err) {
  // Real nodes left running would stand in the way of the next real-node cluster on this machine.
  if (running) await localDown({ clusterDir: running, purge: false }).catch(() => {});
  throw err;
}

process.stdout.write(
  `\nRotation of ${NODES} real nodes (blue -> green) under load: ${TENANTS.length} Services (ClusterIP, kube-proxy iptables), ` +
    `${REPLICAS} replicas each behind PDB maxUnavailable 1; probe load at ${RPS} rps per Service, a new connection per request, ` +
    `in ${WINDOW} windows from 5 s before the rotation to 5 s after it. Each run on a fresh local cluster (tenkai local up).\n\n`,
);
for (const r of results) {
  const errs = Object.entries(r.load.errors)
    .map(([k, n]) => `${k}: ${n}`)
    .join(", ");
  process.stdout.write(
    `${r.name.padEnd(30)} ${r.seconds.toFixed(1).padStart(7)} s   requests sent ${r.load.sent}, failed ${r.load.failed}${errs ? ` (${errs})` : ""}   (${r.load.windows} load windows; ${r.note})\n`,
  );
}
const [a, b] = results;
if (a && b)
  process.stdout.write(
    `\nduration ratio: kubectl ${b.seconds.toFixed(1)} s / tenkai ${a.seconds.toFixed(1)} s = ${(b.seconds / a.seconds).toFixed(2)}x\n`,
  );
process.exit(0);
