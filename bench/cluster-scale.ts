/**
 * Scale benchmark of the local cluster: starts one (cluster/up.sh), records the warm start time
 * and the idle memory, then creates 100 kwok nodes with the kwok node provider and 3000 pods
 * (10 Deployments x 300 replicas, so the controller-manager, scheduler and kwok do the work) and
 * prints how long each step took and the memory (RSS) of every component.
 *
 *   node --import tsx bench/cluster-scale.ts [--nodes 100] [--pods 3000]
 *
 * Memory is the sum of VmRSS of the processes in the cluster's PID files, read from /proc.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AppsV1Api } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../src/providers/kwok/kwok-provider.js";
import {
  createNamespace,
  startTestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../test/support/cluster.js";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "100" },
    pods: { type: "string", default: "3000" },
  },
});
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);
const deployments = 10;

function rssByComponent(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of readdirSync(join(dir, "run")).filter((f) => f.endsWith(".pid"))) {
    const pid = readFileSync(join(dir, "run", f), "utf8").trim();
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    out[f.replace(/\.pid$/, "")] = Math.round(kb / 1024);
  }
  return out;
}
const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const mib = (r: Record<string, number>) =>
  `${total(r)} MiB (${Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ")})`;

const t0 = Date.now();
if (process.env.TENKAI_TEST_KUBECONFIG) {
  console.error("bench: unset TENKAI_TEST_KUBECONFIG; the benchmark measures a cluster it starts itself");
  process.exit(2);
}
const cluster = await startTestCluster();
if (!cluster?.dir) {
  console.error(`bench: no local cluster: ${testClusterUnavailableReason()}`);
  process.exit(2);
}
const dir = cluster.dir;
const results: Record<string, string> = {};
try {
  results["warm start (up.sh until every component healthy)"] = `${Date.now() - t0} ms`;
  await new Promise((r) => setTimeout(r, 10_000));
  results["idle RSS (10 s after ready)"] = mib(rssByComponent(dir));

  const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
  const tNodes = Date.now();
  await provider.createSlot({
    group: "bench",
    slot: "blue",
    nodegroupName: "bench-blue",
    instanceTypes: ["m6i.xlarge"],
    desired: nodeCount,
    min: 0,
    max: nodeCount,
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    kubernetesVersion: "1.36",
    labels: {},
    taints: [],
    capacityType: "ON_DEMAND",
  });
  await waitFor(`${nodeCount} Ready nodes`, 300_000, async () => {
    const s = await provider.describeSlot("bench-blue");
    return s?.status === "ACTIVE" && s.nodeNames.length === nodeCount ? true : undefined;
  });
  results[`${nodeCount} nodes created and Ready`] = `${Date.now() - tNodes} ms`;

  const apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
  await createNamespace(cluster.kubeConfig, "bench");
  const tPods = Date.now();
  const per = Math.ceil(podCount / deployments);
  for (let i = 0; i < deployments; i++) {
    const labels = { app: `bench-${i}` };
    await apps.createNamespacedDeployment({
      namespace: "bench",
      body: {
        metadata: { name: `bench-${i}` },
        spec: {
          replicas: per,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }] },
          },
        },
      },
    });
  }
  let lastLog = 0;
  await waitFor(`${per * deployments} Ready pods`, 900_000, async () => {
    const list = await apps.listNamespacedDeployment({ namespace: "bench" });
    const ready = list.items.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0);
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      console.error(`bench: ${ready}/${per * deployments} pods ready after ${Date.now() - tPods} ms`);
    }
    await new Promise((r) => setTimeout(r, 1000));
    return ready === per * deployments ? true : undefined;
  });
  results[`${per * deployments} pods (${deployments} Deployments) created, scheduled and Ready`] =
    `${Date.now() - tPods} ms`;
  results[`RSS with ${nodeCount} nodes and ${per * deployments} pods`] = mib(rssByComponent(dir));
  await new Promise((r) => setTimeout(r, 30_000));
  results[`RSS 30 s later (steady)`] = mib(rssByComponent(dir));
} finally {
  await cluster.stop();
}
for (const [k, v] of Object.entries(results)) console.log(`${k}: ${v}`);
