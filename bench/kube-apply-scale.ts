/**
 * Kubernetes plane apply at scale: a generated platform of 300 tenants x 5 services, rendered
 * once, applied by tenkai (server-side apply, ApplySet, ordered phases, bounded concurrency) and by
 * `kubectl apply --server-side` of the same manifests, each on a fresh local cluster
 * (cluster/up.sh), plus the no-op second apply of each.
 *
 *   npx tsx bench/kube-apply-scale.ts [--tenants 300] [--services 5] [--concurrency 32] [--kubectl PATH] [--skip-kubectl]
 *
 * tenkai's no-op apply skips objects that already hold every value it sets (compare.ts); a third
 * tenkai apply with that off sends every object, as kubectl does, to show the server-side cost.
 *
 * kubectl cannot map custom resources whose CRD it has not seen, so it gets two calls: the CRDs,
 * then everything else (files in tenkai's phase order). No rollout waits on either side (the
 * clusters have no nodes), and kubectl runs without --prune: tenkai's time includes its ApplySet
 * listing and parent updates, kubectl's does not.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { applyObjects } from "../src/kube/api/apply.js";
import { KubeClient } from "../src/kube/api/client.js";
import { phaseOf } from "../src/kube/api/order.js";
import { allObjects, renderKubernetesPlane } from "../src/kube/render/render.js";
import { definePlatform } from "../src/spec/define.js";
import { startTestCluster, testClusterUnavailableReason } from "../test/support/cluster.js";

const { values } = parseArgs({
  options: {
    tenants: { type: "string", default: "300" },
    services: { type: "string", default: "5" },
    concurrency: { type: "string", default: "32" },
    kubectl: { type: "string" },
    "skip-kubectl": { type: "boolean", default: false },
  },
});
const tenantCount = Number(values.tenants);
const serviceCount = Number(values.services);
const concurrency = Number(values.concurrency);

const kubectl =
  values.kubectl ??
  [
    join(process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai"), "bin/k8s-v1.36.3/kubectl"),
    "/usr/bin/kubectl",
  ].find((p) => existsSync(p));
if (!kubectl) {
  console.error("no kubectl: build the cluster binaries (bash cluster/ensure.sh) or pass --kubectl PATH");
  process.exit(1);
}

const platform = definePlatform({
  apiVersion: "tenkai.dev/v1alpha1",
  kind: "Platform",
  metadata: { name: "bench" },
  spec: {
    aws: { account: "123456789012", region: "ap-northeast-1" },
    target: "local",
    cluster: { version: "1.35", creatorAdmin: true },
    nodeGroups: [{ name: "general", instanceTypes: ["m6i.large"], min: 3, max: 12 }],
    database: { engine: "aurora-postgresql", version: "16.6" },
    tenants: Array.from({ length: tenantCount }, (_, i) => ({
      name: `tenant-${String(i).padStart(3, "0")}`,
      access: [{ role: `arn:aws:iam::123456789012:role/tenant-${i}-devs`, level: "edit" as const }],
      quota: { cpu: "16", memory: "32Gi", pods: 60 },
      services: Array.from({ length: serviceCount }, (_, j) => ({
        name: `svc-${j}`,
        image: `svc-${j}`,
        tag: "1.0.0",
        port: 8080,
        database: j === 0,
        route: { host: `t${i}.example.com`, path: `/svc-${j}` },
      })),
    })),
  },
});
const objects = allObjects(renderKubernetesPlane(platform));
const dir = mkdtempSync(join(tmpdir(), "tenkai-bench-"));
const sorted = [...objects].sort((a, b) => phaseOf(a.kind) - phaseOf(b.kind));
const crdFile = join(dir, "00-crds.yaml");
const restFile = join(dir, "10-objects.yaml");
writeFileSync(
  crdFile,
  sorted
    .filter((o) => o.kind === "CustomResourceDefinition")
    .map((o) => stringify(o))
    .join("---\n"),
);
writeFileSync(
  restFile,
  sorted
    .filter((o) => o.kind !== "CustomResourceDefinition")
    .map((o) => stringify(o))
    .join("---\n"),
);

const version = spawnSync(kubectl, ["version", "--client"], { encoding: "utf8" }).stdout.split("\n")[0];
console.log(
  `input: ${tenantCount} tenants x ${serviceCount} services -> ${objects.length} objects (manifests in ${dir})`,
);
console.log(`kubectl: ${kubectl} (${version})`);
console.log(`machine: ${(await import("node:os")).cpus().length} cores, shared`);

async function withCluster<T>(fn: (kubeconfig: string, client: KubeClient) => Promise<T>): Promise<T> {
  const cluster = await startTestCluster();
  if (!cluster) {
    console.error(`no local cluster: ${testClusterUnavailableReason()}`);
    process.exit(1);
  }
  const client = new KubeClient(cluster.kubeConfig, { maxSockets: concurrency });
  try {
    return await fn(cluster.kubeconfigPath, client);
  } finally {
    client.close();
    await cluster.stop();
  }
}

const seconds = (ms: number) => (Number.isNaN(ms) ? "(skipped)" : `${(ms / 1000).toFixed(1)} s`);

const kubectlTimes = values["skip-kubectl"]
  ? { first: Number.NaN, second: Number.NaN }
  : await withCluster(async (kubeconfig) => {
      const run = () => {
        const t0 = Date.now();
        for (const f of [crdFile, restFile]) {
          const r = spawnSync(
            kubectl,
            ["--kubeconfig", kubeconfig, "apply", "--server-side", "--field-manager=kubectl-bench", "-f", f],
            { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
          );
          if (r.status !== 0) throw new Error(`kubectl apply -f ${f} failed: ${r.stderr.slice(0, 2000)}`);
          if (f === crdFile)
            spawnSync(kubectl, [
              "--kubeconfig",
              kubeconfig,
              "wait",
              "--for=condition=Established",
              "crd",
              "--all",
              "--timeout=60s",
            ]);
        }
        return Date.now() - t0;
      };
      const first = run();
      console.log(`kubectl apply --server-side: ${seconds(first)}`);
      const second = run();
      console.log(`kubectl apply --server-side (second, no-op): ${seconds(second)}`);
      return { first, second };
    });

const tenkaiTimes = await withCluster(async (_kubeconfig, client) => {
  const first = await applyObjects(objects, {
    client,
    applySetName: platform.metadata.name,
    concurrency,
    wait: false,
  });
  console.log(`tenkai apply: ${seconds(first.summary.durationMs)} (${first.summary.created} created)`);
  const second = await applyObjects(objects, {
    client,
    applySetName: platform.metadata.name,
    concurrency,
    wait: false,
  });
  const s = second.summary;
  console.log(
    `tenkai apply (second, no-op): ${seconds(s.durationMs)} (${s.created} created, ${s.configured} configured, ${s.unchanged} unchanged, ${s.pruned} pruned)`,
  );
  const all = await applyObjects(objects, {
    client,
    applySetName: platform.metadata.name,
    concurrency,
    wait: false,
    skipUnchanged: false,
  });
  console.log(
    `tenkai apply (third, no-op, every object sent): ${seconds(all.summary.durationMs)} (${all.summary.configured} configured, ${all.summary.unchanged} unchanged)`,
  );
  return { first: first.summary.durationMs, second: s.durationMs, sendAll: all.summary.durationMs };
});

console.log("");
console.log(`result: ${objects.length} objects; concurrency ${concurrency}`);
console.log(
  `  first apply:  tenkai ${seconds(tenkaiTimes.first)}  kubectl ${seconds(kubectlTimes.first)}  ratio kubectl/tenkai ${(kubectlTimes.first / tenkaiTimes.first).toFixed(2)}x`,
);
console.log(
  `  no-op apply:  tenkai ${seconds(tenkaiTimes.second)}  kubectl ${seconds(kubectlTimes.second)}  ratio kubectl/tenkai ${(kubectlTimes.second / tenkaiTimes.second).toFixed(2)}x`,
);
console.log(
  `  no-op apply, tenkai sending every object (no skip): ${seconds(tenkaiTimes.sendAll)}  ratio kubectl/tenkai ${(kubectlTimes.second / tenkaiTimes.sendAll).toFixed(2)}x`,
);
