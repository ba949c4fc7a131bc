/**
 * `tenkai upgrade run --to 1.36` on a local cluster started at v1.35.4 with a kwok node group and a
 * real node group (cluster/node.sh: containerd, kubelet, kube-proxy): the control plane is replaced
 * in place by v1.36.3 (etcd and its data kept: an object written before is still there), every node
 * reports v1.36.3 afterwards (the real one runs the v1.36.3 kubelet, the kwok ones report it), no
 * PodDisruptionBudget is breached, and a run SIGKILLed in the middle of the real group's rotation
 * (always reached: the new slot's nodes are Ready before any drain) resumes and finishes.
 *
 * Starts real nodes: run it under the machine's real-node lock,
 *   flock /tmp/tenkai-real-nodes.lock env TENKAI_TEST_FILES=test/integration/upgrade-run-local.test.ts npm test
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, PolicyV1Api, VersionApi } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { LocalNodeProvider } from "../../src/providers/local/index.js";
import { PROVIDER_LABEL } from "../../src/providers/node-placement.js";
import type { NodeGroupSlotSpec } from "../../src/providers/node-provider.js";
import {
  clusterImages,
  createNamespace,
  realNodePrerequisiteProblem,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";
import { PdbMonitor } from "../support/pdb-monitor.js";
import { platformWithEnvironments, tenkaiJson } from "../support/upgrade-cli.js";

const FROM = "v1.35.4";
const TO = "v1.36.3";
const cache = process.env.TENKAI_CACHE ?? join(homedir(), ".cache/tenkai");
const missing = [FROM, TO]
  .flatMap((v) => [`k8s-${v}`, `k8s-node-${v}`])
  .filter((d) => !existsSync(join(cache, "bin", d, ".complete")));

let cluster: TestCluster | undefined;
let why = "";
before(async () => {
  const real = realNodePrerequisiteProblem();
  if (missing.length > 0)
    why = `${missing.join(", ")} not built in ${cache}/bin (TENKAI_KUBERNETES_VERSION=${FROM} bash cluster/build/build.sh kubernetes kubernetes-node)`;
  else if (real) why = real;
  else {
    cluster = await startTestCluster({ kubernetesVersion: FROM });
    if (!cluster) why = testClusterUnavailableReason();
  }
  if (why) process.stderr.write(`upgrade-run-local: skipping: ${why}\n`);
});
after(() => cluster?.stop());

function slot(group: string, nodegroupName: string, desired: number, types: string[]): NodeGroupSlotSpec {
  return {
    group,
    slot: "blue",
    nodegroupName,
    instanceTypes: types,
    desired,
    min: desired,
    max: desired + 2,
    zones: ["ap-northeast-1a", "ap-northeast-1c"],
    kubernetesVersion: FROM.slice(1),
    labels: {},
    taints: [],
    capacityType: "ON_DEMAND",
  };
}

describe("upgrade run on the local target: v1.35.4 → v1.36.3", () => {
  it("moves the control plane in place, rotates kwok and real nodes onto v1.36.3, survives a SIGKILL", async (t) => {
    if (!cluster?.dir) return t.skip(`no local cluster at ${FROM} with real nodes: ${why}`);
    const kc = cluster.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, FROM);

    // The node groups, as tenkai local up would make them: kwok "general" (2), real "web" (1).
    await new KwokNodeProvider({ kubeConfig: kc, taintFakeNodes: true }).createSlot(
      slot("general", "general-blue", 2, ["m6i.xlarge"]),
    );
    await new LocalNodeProvider({ kubeConfig: kc, clusterDir: cluster.dir }).createSlot(
      slot("web", "web-blue", 1, ["m6i.large"]),
    );
    await waitFor("3 Ready nodes at v1.35.4", 180_000, async () => {
      const nodes = (await core.listNode()).items;
      return (
        nodes.length === 3 &&
        nodes.every(
          (n) =>
            n.status?.nodeInfo?.kubeletVersion === FROM &&
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        )
      );
    });

    // Workloads with budgets on both groups; an object that must outlive the control plane's move.
    await createNamespace(kc, "app");
    await core.createNamespacedConfigMap({
      namespace: "app",
      body: { metadata: { name: "written-on-1-35" }, data: { at: FROM } },
    });
    const probe = clusterImages().PROBE_IMAGE ?? "tenkai.local/probe:0.1.0";
    const deployment = (name: string, provider: string, replicas: number) => ({
      metadata: { name, namespace: "app" },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            nodeSelector: { [PROVIDER_LABEL]: provider },
            tolerations: [{ key: "kwok.x-k8s.io/node", operator: "Exists", effect: "NoSchedule" as const }],
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: "serve",
                image: probe,
                imagePullPolicy: "Never",
                args: ["serve", "--http", ":8080"],
                readinessProbe: { httpGet: { path: "/readyz", port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    });
    for (const [name, provider, replicas] of [
      ["web", "local", 2],
      ["batch", "kwok", 3],
    ] as const) {
      await apps.createNamespacedDeployment({ namespace: "app", body: deployment(name, provider, replicas) });
      await policy.createNamespacedPodDisruptionBudget({
        namespace: "app",
        body: {
          metadata: { name },
          spec: { maxUnavailable: 1, selector: { matchLabels: { app: name } } },
        },
      });
    }
    await waitFor("web and batch available", 180_000, async () => {
      const ds = (await apps.listNamespacedDeployment({ namespace: "app" })).items;
      return ds.length === 2 && ds.every((d) => (d.status?.availableReplicas ?? 0) === d.spec?.replicas);
    });

    const file = platformWithEnvironments(
      kc.getCurrentContext(),
      [
        "- { name: general, instanceTypes: [m6i.xlarge], min: 2, max: 4, desired: 2, activeSlot: blue }",
        "    - { name: web, instanceTypes: [m6i.large], min: 1, max: 3, desired: 1, activeSlot: blue, local: { nodes: real } }",
      ].join("\n"),
    );
    const args = [
      "upgrade",
      "run",
      "--to",
      "1.36",
      "-f",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--cluster-dir",
      cluster.dir,
      "--timeout",
      "10m",
    ];
    const monitor = await PdbMonitor.start(kc);
    try {
      // First run: killed once the real group's new slot is Ready (before its drain starts).
      const first = tenkaiJson(args, (e) => {
        if (e.code === "rotation.green.ready" && String(e.data.nodegroup).startsWith("web-"))
          first.child.kill("SIGKILL");
      });
      const killed = await first.done;
      assert.equal(
        first.child.signalCode,
        "SIGKILL",
        `killed mid-run; output: ${killed.stdout.slice(-2000)}${killed.stderr.slice(-2000)}`,
      );
      assert.ok(
        killed.events.some((e) => e.code === "upgrade.run.control-plane"),
        "the control plane moved first",
      );
      assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, TO);
      const state = await core.readNamespacedConfigMap({ name: "upgrade-run", namespace: "tenkai-system" });
      assert.equal(state.data?.phase, "running");
      assert.match(state.data?.current ?? "", /rotate-node-group-1\.36-web/);

      // Second run: resumes at the rotation it was in and finishes.
      const second = await tenkaiJson(args).done;
      assert.equal(second.code, 0, second.stdout.slice(-3000) + second.stderr.slice(-3000));
      assert.ok(second.events.some((e) => e.code === "upgrade.run.resumed"));
      assert.ok(second.events.some((e) => e.code === "rotation.resumed" && e.data.group === "web"));
      assert.equal(second.doc.phase, "done");
      assert.equal(second.doc.version, TO);
      assert.equal((second.doc.verification as { ok: boolean }).ok, true);
    } finally {
      const violations = await monitor.stop();
      assert.deepEqual(violations, [], "no PodDisruptionBudget breached during the upgrade");
      assert.ok(monitor.checked() > 0, "the monitor saw the budgets");
    }

    // What the user would check afterwards.
    assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, TO);
    const cp = spawnSync(
      "bash",
      [join(process.cwd(), "cluster/control-plane.sh"), "version", "--dir", cluster.dir],
      {
        encoding: "utf8",
      },
    );
    assert.deepEqual(JSON.parse(cp.stdout).components, {
      "kube-apiserver": TO,
      "kube-controller-manager": TO,
      "kube-scheduler": TO,
    });
    const kept = await core.readNamespacedConfigMap({ name: "written-on-1-35", namespace: "app" });
    assert.equal(kept.data?.at, FROM, "etcd data kept across the control plane's move");
    const nodes = (await core.listNode()).items;
    assert.deepEqual(nodes.map((n) => [n.metadata?.name, n.status?.nodeInfo?.kubeletVersion]).sort(), [
      ["general-green-0", TO],
      ["general-green-1", TO],
      ["web-green-0", TO],
    ]);
    const ds = (await apps.listNamespacedDeployment({ namespace: "app" })).items;
    assert.ok(ds.every((d) => (d.status?.availableReplicas ?? 0) === d.spec?.replicas));
  });
});
