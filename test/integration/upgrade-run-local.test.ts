/**
 * `tenkai upgrade run --to 1.36` on a local cluster started at v1.35.4 and brought up by
 * `tenkai local up` (a kwok node group, a real node group with containerd, kubelet, kube-proxy and
 * the policy agent, CoreDNS, two tenants): the data-path baseline is taken before the first step,
 * the control plane is replaced in place by v1.36.3 (etcd and its data kept: an object written
 * before is still there), every node reports v1.36.3 afterwards (the real one runs the v1.36.3
 * kubelet, the kwok ones report it), no PodDisruptionBudget is breached, a run SIGKILLed in the
 * middle of the real group's rotation (always reached: the new slot's nodes are Ready before any
 * drain) resumes with the same baseline and finishes, the verification after churn and a soak is
 * green, and not one request of the continuous load through two Services fails over the whole
 * run (test/support/service-load.ts).
 *
 * Then the fault of issue 14 (cluster/faults/secondary-range.sh) on the new real node: a run to the
 * same target verifies again; its verification after churn names the node and the pod pairs and
 * exits 1 before staging records a pass; once the fault is cleared the run resumes green and records it.
 *
 * Starts real nodes: run it under the machine's real-node lock,
 *   flock /tmp/tenkai-real-nodes.lock env TENKAI_TEST_FILES=test/integration/upgrade-run-local.test.ts npm test
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AppsV1Api, CoreV1Api, PolicyV1Api, VersionApi } from "@kubernetes/client-node";
import { localUp } from "../../src/local/up.js";
import { PROVIDER_LABEL } from "../../src/providers/node-placement.js";
import { loadPlatform } from "../../src/spec/load.js";
import {
  clusterImages,
  createNamespace,
  realNodePrerequisiteProblem,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";
import { repoRoot, runCommand } from "../support/local-platform.js";
import { PdbMonitor, type PdbViolation } from "../support/pdb-monitor.js";
import { type LoadTarget, type LoadTotals, ServiceLoad } from "../support/service-load.js";
import { tenkaiJson } from "../support/upgrade-cli.js";

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

/** The platform: kwok "general" (2 nodes), real "web" (1 node), two tenants; staging promotes to production. */
function spec(context: string): string {
  return `apiVersion: tenkai.dev/v1alpha1
kind: Platform
metadata: { name: upgrade }
spec:
  target: local
  aws: { account: "123456789012", region: ap-northeast-1 }
  cluster: { version: "1.35" }
  network: { azs: 2 }
  nodeGroups:
    - { name: general, instanceTypes: [m6i.xlarge], min: 2, max: 4, desired: 2, activeSlot: blue }
    - { name: web, instanceTypes: [m6i.large], min: 1, max: 3, desired: 1, activeSlot: blue, local: { nodes: real } }
  tenants:
    - name: alpha
      quota: { cpu: "2", memory: 2Gi, pods: 10 }
      services:
        - { name: web, image: web, tag: "1.0.0", port: 8080, replicas: 1, resources: { cpu: 50m, memory: 64Mi } }
    - name: beta
      quota: { cpu: "2", memory: 2Gi, pods: 10 }
      services:
        - { name: api, image: api, tag: "1.0.0", port: 3000, replicas: 1, resources: { cpu: 50m, memory: 64Mi } }
environments:
  staging: { context: ${context}, promotesTo: production }
  production: { context: ${context} }
`;
}

const fault = (cmd: string, dir: string, node: string) =>
  runCommand("bash", [
    join(repoRoot, "cluster/faults/secondary-range.sh"),
    cmd,
    "--dir",
    dir,
    "--node",
    node,
  ]);

describe("upgrade run on the local target: v1.35.4 → v1.36.3", () => {
  let file = "";
  let upgraded = false;
  let faulty = "";
  after(async () => {
    if (faulty && cluster?.dir) await fault("clear", cluster.dir, faulty);
  });

  it("moves the control plane in place, rotates kwok and real nodes onto v1.36.3 under Service load, survives a SIGKILL, verifies the data path", async (t) => {
    if (!cluster?.dir) return t.skip(`no local cluster at ${FROM} with real nodes: ${why}`);
    const kc = cluster.kubeConfig;
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const policy = kc.makeApiClient(PolicyV1Api);
    assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, FROM);

    // The platform as tenkai local up makes it on this cluster: kwok "general" (2), real "web" (1),
    // CoreDNS on the real node, the tenants' namespaces, policies and services.
    file = join(mkdtempSync(join(tmpdir(), "tenkai-upgrade-local-")), "platform.yaml");
    writeFileSync(file, spec(kc.getCurrentContext()));
    const up = await localUp({
      platform: await loadPlatform(file),
      file,
      clusterDir: cluster.dir,
      timeoutMs: 600_000,
    });
    assert.equal(up.reusedCluster, true);
    assert.equal(up.dns, true);
    await waitFor("3 Ready nodes on 1.35", 180_000, async () => {
      const nodes = (await core.listNode()).items;
      return (
        nodes.length === 3 &&
        nodes.every(
          (n) =>
            /^v1\.35\./.test(n.status?.nodeInfo?.kubeletVersion ?? "") &&
            n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
        )
      );
    });

    // Workloads with budgets on both groups, two Services on the real node under load; an object
    // that must outlive the control plane's move.
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
            // Keeps serving 5 s after SIGTERM (not ready), so its endpoint is gone before it stops.
            terminationGracePeriodSeconds: 15,
            containers: [
              {
                name: "serve",
                image: probe,
                imagePullPolicy: "Never",
                args: ["serve", "--http", ":8080", "--shutdown-delay", "5s"],
                readinessProbe: {
                  httpGet: { path: "/readyz", port: 8080 },
                  periodSeconds: 1,
                  timeoutSeconds: 2,
                },
              },
            ],
          },
        },
      },
    });
    // "batch" on kwok has no budget: while the control plane moves, the kwok nodes miss their
    // heartbeats, the node lifecycle controller marks their pods not Ready, and kwok never marks
    // them Ready again (a real kubelet does), so a budget there would stay breached by kwok alone.
    // Budgets on kwok nodes are proven in rotation-kwok.test.ts.
    await apps.createNamespacedDeployment({ namespace: "app", body: deployment("batch", "kwok", 3) });
    for (const [name, provider, replicas] of [
      ["web", "local", 2],
      ["api", "local", 2],
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
    const targets: LoadTarget[] = [];
    for (const name of ["web", "api"]) {
      const svc = await core.createNamespacedService({
        namespace: "app",
        body: {
          metadata: { name },
          spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      });
      targets.push({ service: `app/${name}`, url: `http://${svc.spec?.clusterIP}:80/` });
    }
    await waitFor("web, api and batch available", 180_000, async () => {
      const ds = (await apps.listNamespacedDeployment({ namespace: "app" })).items;
      return ds.length === 3 && ds.every((d) => (d.status?.availableReplicas ?? 0) === d.spec?.replicas);
    });

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
      "--soak",
      "10s",
    ];
    const monitor = await PdbMonitor.start(kc);
    const load = await ServiceLoad.start({ kubeConfig: kc, clusterDir: cluster.dir, targets, rps: 10 });
    const started = Date.now();
    let totals: LoadTotals | undefined;
    let violations: readonly PdbViolation[] = [];
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
      const baseline = killed.events.find((e) => e.code === "upgrade.run.baseline");
      assert.equal(baseline?.data.ok, true, "a green baseline before the first step");
      assert.match(
        String(baseline?.data.summary),
        /probes on 1 real node\(s\) \(web-blue-0\), all connected, tenants' policies held/,
      );
      assert.ok(
        killed.events.some((e) => e.code === "upgrade.run.control-plane"),
        "the control plane moved first",
      );
      assert.equal((await kc.makeApiClient(VersionApi).getCode()).gitVersion, TO);
      const state = await core.readNamespacedConfigMap({ name: "upgrade-run", namespace: "tenkai-system" });
      assert.equal(state.data?.phase, "running");
      assert.match(state.data?.current ?? "", /rotate-node-group-1\.36-web/);
      const kept = JSON.parse(state.data?.["state.json"] ?? "{}").baseline;
      assert.equal(kept?.takenAt, baseline?.data.takenAt, "the baseline is in the run's state");

      // Second run: resumes at the rotation it was in, compares with the same baseline, finishes.
      const second = await tenkaiJson(args).done;
      assert.equal(second.code, 0, second.stdout.slice(-3000) + second.stderr.slice(-3000));
      assert.ok(second.events.some((e) => e.code === "upgrade.run.resumed"));
      assert.ok(!second.events.some((e) => e.code === "upgrade.run.baseline"), "no second baseline");
      assert.ok(second.events.some((e) => e.code === "rotation.resumed" && e.data.group === "web"));
      assert.equal(second.doc.phase, "done");
      assert.equal(second.doc.version, TO);
      const v = second.doc.verification as { ok: boolean; summary: string };
      assert.equal(v.ok, true, v.summary);
      assert.match(
        v.summary,
        /data path: \d+ probes on 1 real node\(s\) \(web-green-0\) after churn, \d+ round\(s\) over 10 s, 0 lost, tenants' policies held; baseline of \S+ on web-blue-0/,
      );
      assert.ok(
        second.events.some((e) => e.code === "verify.datapath.churn"),
        "the probe pods churned",
      );
    } finally {
      totals = await load.stop();
      violations = await monitor.stop();
      process.stderr.write(
        `upgrade-run-local: Service load over ${((Date.now() - started) / 1000).toFixed(0)} s: ${totals.sent} requests, ${totals.failed} failed, ${totals.windows} windows (${totals.lostWindows.length} lost), client on ${totals.clientNodes.join(" -> ")}; ${JSON.stringify(totals.perService)}${totals.failed ? ` errors ${JSON.stringify(totals.errors)}; failed windows: ${totals.failedWindows.join("; ")}` : ""}; budget violations ${JSON.stringify(violations.map((v) => ({ ...v, at: new Date(v.at).toISOString() })))}\n`,
      );
    }
    assert.deepEqual(violations, [], "no PodDisruptionBudget breached during the upgrade");
    assert.ok(monitor.checked() > 0, "the monitor saw the budgets");
    // Zero failed requests through both Services for the whole run, the kill and the resume included.
    assert.deepEqual(totals.errors, {}, "no request through the Services failed");
    assert.equal(totals.failed, 0);
    assert.deepEqual(totals.lostWindows, [], "every load window reported");
    const seconds = (Date.now() - started) / 1000;
    for (const t of targets)
      assert.ok(
        (totals.perService[t.service]?.sent ?? 0) >= Math.floor(seconds * 10 * 0.5),
        `${t.service}: ${totals.perService[t.service]?.sent} requests in ${seconds.toFixed(0)} s at 10/s`,
      );
    assert.deepEqual(totals.clientNodes, ["web-blue-0", "web-green-0"], "the client moved with the rotation");

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
    upgraded = true;
  });

  it("the second-range fault on the new node: caught after churn, named, exit 1 before anything is recorded; green once cleared", async (t) => {
    if (!cluster?.dir || !upgraded) return t.skip(`the upgrade above did not finish: ${why || "it failed"}`);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    faulty = "web-green-0";
    const inj = await fault("inject", cluster.dir, faulty);
    assert.equal(inj.code, 0, inj.stderr);
    const args = [
      "upgrade",
      "run",
      "--to",
      "1.36",
      "-f",
      file,
      "-e",
      "staging",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--cluster-dir",
      cluster.dir,
      "--timeout",
      "10m",
      "--soak",
      "10s",
    ];
    // On its target already, the run verifies: the baseline (the fault hits no pod yet) is green,
    // the verification after churn is not.
    const red = await tenkaiJson(args).done;
    assert.equal(red.code, 1, red.stdout.slice(-3000) + red.stderr.slice(-2000));
    assert.equal(red.events.find((e) => e.code === "upgrade.run.baseline")?.data.ok, true);
    const err = red.doc.error as { code: string; message: string; fix: string };
    assert.equal(err.code, "UPGRADE_VERIFY_FAILED");
    assert.match(
      err.message,
      /lost since the baseline of \S+: web-green-0: pod-pair web-green-0\/a -> web-green-0\/b \(tenkai-system\/tenkai-netprobe-a-\S+ \(\S+ on web-green-0\) -> tenkai-system\/tenkai-netprobe-b-\S+ \(\S+ on web-green-0\)\)/,
    );
    assert.match(err.message, /pod-pair web-green-0\/b -> web-green-0\/a/);
    assert.match(err.fix, /nothing is promoted until it is green/);
    const lost = red.events
      .filter((e) => e.code === "verify.datapath.loss")
      .map((e) => (e.data.loss as { node: string; key: string }).key)
      .sort();
    // Exactly the same-node pod pairs of the faulty node are lost, every cross-node pair still
    // connects; whatever else is lost starts on that node's second-range pods and ends at a pod of
    // the same node on the first range (CoreDNS, or a Service backend, when they landed there).
    assert.deepEqual(
      lost.filter((k) => k.startsWith("pod-pair ")),
      ["pod-pair web-green-0/a -> web-green-0/b", "pod-pair web-green-0/b -> web-green-0/a"],
    );
    for (const k of lost) assert.match(k, /^[a-z-]+ web-green-0\/[ab] -> /, k);
    assert.ok(!red.events.some((e) => e.code === "upgrade.run.recorded"));
    await assert.rejects(
      core.readNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" }),
      "staging recorded no pass of 1.36",
    );
    const state = await core.readNamespacedConfigMap({ name: "upgrade-run", namespace: "tenkai-system" });
    assert.equal(state.data?.phase, "failed");

    // Cleared (new pods get the first range again; the run's churn moves the probes there), not
    // `repair`: after `repair` (the missing rule added, pods left on the second range) the Service
    // VIP probe from a second-range pod was still lost in one round, here and once in
    // network-fault.test.ts; that is not yet understood, so it is not what this case proves.
    const rep = await fault("clear", cluster.dir, faulty);
    assert.equal(rep.code, 0, rep.stderr);
    const green = await tenkaiJson(args).done;
    assert.equal(green.code, 0, green.stdout.slice(-3000) + green.stderr.slice(-2000));
    assert.ok(green.events.some((e) => e.code === "upgrade.run.resumed"));
    assert.equal((green.doc.verification as { ok: boolean }).ok, true);
    assert.ok(green.events.some((e) => e.code === "upgrade.run.recorded"));
    const rec = await core.readNamespacedConfigMap({ name: "upgrade-verified", namespace: "tenkai-system" });
    assert.equal(JSON.parse(rec.data?.["1.36"] ?? "{}").version, TO);
  });
});
