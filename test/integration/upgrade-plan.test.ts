/**
 * `tenkai upgrade plan` against the real local control plane (v1.36): removed and deprecated APIs
 * found in live objects (written through a deprecated version the cluster still serves, or whose
 * last-applied annotation or managed fields name a removed apiVersion), in Helm release Secrets and
 * in manifests on disk; version skew from kwok nodes of several versions; the rotation blockers;
 * and the CLI's exit codes and JSON.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeClient } from "../../src/kube/api/client.js";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { loadPlatform } from "../../src/spec/load.js";
import { planUpgrade } from "../../src/upgrade/plan.js";
import type { Finding, UpgradeEvent, UpgradePlan } from "../../src/upgrade/types.js";
import {
  createNamespace,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";
import { tenkai } from "../support/local-platform.js";
import {
  etcdPortOf,
  helmReleaseSecret,
  lastAppliedDeployment,
  managedFieldsRole,
  putStoredObject,
} from "../support/removed-apis.js";
import { FIXTURE_LABEL, waitDeploymentsReady } from "../support/rotation-fixture.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The example platform on the local target with two node groups this test's kwok nodes fill. */
function platformFile(): string {
  const text = readFileSync(join(root, "examples/platform.yaml"), "utf8")
    .replace(/^spec:\n/m, "spec:\n  target: local\n")
    .replace(
      // the general group, one line or several, with one level of nested braces (its `local: { … }`)
      /- \{\s*name: general,(?:[^{}]|\{[^}]*\})*\}/,
      "- { name: general, instanceTypes: [m6i.xlarge], min: 2, max: 12, desired: 2, activeSlot: blue }\n    - { name: edge, instanceTypes: [m6i.xlarge], min: 1, max: 3, desired: 1, activeSlot: green }",
    );
  assert.match(text, /name: edge/);
  const dir = mkdtempSync(join(tmpdir(), "tenkai-upgrade-"));
  const file = join(dir, "platform.yaml");
  writeFileSync(file, text);
  return file;
}

const has = (plan: UpgradePlan, want: Partial<Finding>) =>
  plan.findings.some((f) =>
    Object.entries(want).every(([k, v]) => (f as unknown as Record<string, unknown>)[k] === v),
  );
const show = (plan: UpgradePlan) =>
  plan.findings
    .map(
      (f) =>
        `${f.severity} ${f.id} ${f.object ?? ""} ${f.source ?? ""} ${f.location ?? ""} ${f.apiVersion ?? ""}`,
    )
    .join("\n");

let cluster: TestCluster | undefined;
let client: KubeClient;
let file: string;
let manifests: string;

before(async () => {
  cluster = await startTestCluster();
  if (!cluster) return;
  client = new KubeClient(cluster.kubeConfig);
  file = platformFile();
  const kc = cluster.kubeConfig;
  await createNamespace(kc, "shop");

  // 1. Served but deprecated: v1 Endpoints written by a client through server-side apply (five of
  //    them, so a page size of 2 takes three pages).
  for (let i = 0; i < 5; i++) {
    await client.request({
      method: "PATCH",
      path: `/api/v1/namespaces/shop/endpoints/legacy-${i}`,
      query: { fieldManager: "legacy-ops" },
      contentType: "application/apply-patch+yaml",
      body: JSON.stringify({
        apiVersion: "v1",
        kind: "Endpoints",
        metadata: { name: `legacy-${i}`, namespace: "shop" },
        subsets: [{ addresses: [{ ip: `10.9.0.${i + 1}` }], ports: [{ port: 80 }] }],
      }),
    });
  }
  // 2. A Deployment whose last-applied annotation names extensions/v1beta1 (applied long ago with
  //    kubectl apply, stored through apps/v1 since).
  await client.request({
    method: "POST",
    path: "/apis/apps/v1/namespaces/shop/deployments",
    body: lastAppliedDeployment("old-api", "shop"),
  });
  // 3. A Role last written by a client through rbac.authorization.k8s.io/v1beta1, as a cluster
  //    upgraded past 1.22 stores it, put into etcd as an older API server left it
  //    (test/support/removed-apis.ts says why).
  if (cluster.dir) {
    const role = managedFieldsRole("old-reader", "shop", 1);
    await putStoredObject(etcdPortOf(cluster.dir), role.key, role.object);
    await waitFor("Role shop/old-reader served", 30_000, async () => {
      try {
        await client.request({
          method: "GET",
          path: "/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles/old-reader",
        });
        return true;
      } catch {
        return false;
      }
    });
  }
  // 4. A Helm release whose stored manifest holds an autoscaling/v2beta2 HorizontalPodAutoscaler.
  await client.request({
    method: "POST",
    path: "/api/v1/namespaces/shop/secrets",
    body: helmReleaseSecret("legacy", "shop"),
  });
  // 5. Manifests on disk, one nested a directory down.
  manifests = mkdtempSync(join(tmpdir(), "tenkai-manifests-"));
  mkdirSync(join(manifests, "flow"));
  writeFileSync(
    join(manifests, "cron.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: fine }\n---\napiVersion: batch/v1beta1\nkind: CronJob\nmetadata: { name: nightly, namespace: shop }\nspec: { schedule: '0 3 * * *' }\n",
  );
  writeFileSync(
    join(manifests, "flow", "schema.json"),
    JSON.stringify({
      apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3",
      kind: "FlowSchema",
      metadata: { name: "fs" },
    }),
  );

  // Nodes: general on 1.35 (behind the 1.36 control plane), edge on 1.37 (newer: not allowed).
  const provider = new KwokNodeProvider({ kubeConfig: kc });
  const slot = (group: string, slotName: "blue" | "green", version: string, nodes: number) =>
    provider.createSlot({
      group,
      slot: slotName,
      nodegroupName: `${group}-${slotName}`,
      instanceTypes: ["m6i.xlarge"],
      desired: nodes,
      min: 0,
      max: nodes * 2,
      zones: ["zone-a"],
      kubernetesVersion: version,
      labels: { [FIXTURE_LABEL]: group },
      taints: [],
      capacityType: "ON_DEMAND",
    });
  await slot("general", "blue", "1.35", 2);
  await slot("edge", "green", "1.37", 1);

  // Workloads on general's nodes: a budget that allows nothing, a single-replica StatefulSet, and
  // a fail-closed webhook served by one pod there. None has a readiness probe.
  const onGeneral = { nodeSelector: { [FIXTURE_LABEL]: "general" } };
  const deployment = (name: string, replicas: number) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop" },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { ...onGeneral, containers: [{ name: "app", image: "registry.example/app:1.0" }] },
      },
    },
  });
  await client.request({
    method: "POST",
    path: "/apis/apps/v1/namespaces/shop/deployments",
    body: deployment("locked", 2),
  });
  await client.request({
    method: "POST",
    path: "/apis/apps/v1/namespaces/shop/deployments",
    body: deployment("hook", 1),
  });
  await client.request({
    method: "POST",
    path: "/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
    body: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "locked", namespace: "shop" },
      spec: { minAvailable: "100%", selector: { matchLabels: { app: "locked" } } },
    },
  });
  await client.request({
    method: "POST",
    path: "/apis/apps/v1/namespaces/shop/statefulsets",
    body: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "shop" },
      spec: {
        replicas: 1,
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: {
          metadata: { labels: { app: "db" } },
          spec: { ...onGeneral, containers: [{ name: "db", image: "registry.example/db:1.0" }] },
        },
      },
    },
  });
  await client.request({
    method: "POST",
    path: "/api/v1/namespaces/shop/services",
    body: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "hook", namespace: "shop" },
      spec: { selector: { app: "hook" }, ports: [{ port: 443 }] },
    },
  });
  await client.request({
    method: "POST",
    path: "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    body: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: "shop-policy" },
      webhooks: [
        {
          name: "check.shop.example.io",
          // Matches only a group nothing serves, so the missing server rejects nothing in this test.
          rules: [
            {
              apiGroups: ["shop.example.io"],
              apiVersions: ["v1"],
              operations: ["CREATE"],
              resources: ["widgets"],
            },
          ],
          clientConfig: { service: { namespace: "shop", name: "hook", port: 443 } },
          sideEffects: "None",
          admissionReviewVersions: ["v1"],
        },
      ],
    },
  });
  const workloads = [
    { namespace: "shop", name: "locked", replicas: 2, budget: "none" as const },
    { namespace: "shop", name: "hook", replicas: 1, budget: "none" as const },
  ];
  await waitDeploymentsReady(kc, workloads, 120_000);
  // The budget of "locked" counts both pods healthy (so the plan reads a settled status).
  await waitFor("PodDisruptionBudget shop/locked settled", 120_000, async () => {
    const b = await client.request<{ status?: { expectedPods?: number; currentHealthy?: number } }>({
      method: "GET",
      path: "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/locked",
    });
    return b.body.status?.expectedPods === 2 && b.body.status.currentHealthy === 2;
  });
  await waitFor("StatefulSet shop/db Ready", 120_000, async () => {
    const s = await client.request<{ status?: { readyReplicas?: number } }>({
      method: "GET",
      path: "/apis/apps/v1/namespaces/shop/statefulsets/db",
    });
    return (s.body.status?.readyReplicas ?? 0) === 1;
  });
});

after(async () => {
  client?.close();
  await cluster?.stop();
});

describe("tenkai upgrade plan on the local control plane", () => {
  let plan: UpgradePlan;
  const events: UpgradeEvent[] = [];

  it("plans 1.36 → 1.37 in one step from the cluster's own version", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const platform = await loadPlatform(file);
    plan = await planUpgrade(
      { platform, to: "1.37", paths: [manifests], specFile: file, pageSize: 2, kubectlVersion: "v1.36.0" },
      { client, sink: (e) => events.push(e) },
    );
    assert.equal(plan.from, "1.36");
    assert.equal(plan.fromSource, "cluster");
    assert.deepEqual(plan.path, ["1.37"]);
  });

  it("finds a deprecated version the cluster still serves, through the writer's managed fields", (t) => {
    if (!plan) return t.skip("no plan");
    for (let i = 0; i < 5; i++)
      assert.ok(
        has(plan, {
          id: "API_DEPRECATED",
          object: `Endpoints shop/legacy-${i}`,
          source: "live:managed-fields",
          location: "legacy-ops",
        }),
        show(plan),
      );
    // The control plane's own Endpoints writes are not the user's problem.
    assert.ok(!plan.findings.some((f) => f.location === "endpoint-controller"));
  });

  it("finds removed apiVersions in the last-applied annotation and in managed fields", (t) => {
    if (!plan) return t.skip("no plan");
    assert.ok(
      has(plan, {
        id: "API_GONE",
        object: "Deployment shop/old-api",
        source: "live:last-applied",
        apiVersion: "extensions/v1beta1",
      }),
      show(plan),
    );
    if (!cluster?.dir)
      return t.skip("a reused cluster (TENKAI_TEST_KUBECONFIG): no etcd to write the old Role into");
    const role = plan.findings.find((f) => f.object === "Role shop/old-reader");
    assert.deepEqual(
      role && [role.id, role.source, role.location, role.apiVersion, role.replacement],
      [
        "API_GONE",
        "live:managed-fields",
        "old-operator",
        "rbac.authorization.k8s.io/v1beta1",
        "rbac.authorization.k8s.io/v1",
      ],
      show(plan),
    );
    assert.match(role?.message ?? "", /last write 2021-06-01/);
  });

  it("finds removed apiVersions in Helm release Secrets and in manifests on disk, as blockers", (t) => {
    if (!plan) return t.skip("no plan");
    const helm = plan.findings.find((f) => f.source === "helm");
    assert.equal(helm?.apiVersion, "autoscaling/v2beta2", show(plan));
    assert.equal(helm?.severity, "blocker");
    assert.match(helm?.location ?? "", /^helm release shop\/legacy rev 1 \(legacy-chart-0\.4\.0\):\d+$/);
    assert.ok(
      has(plan, {
        id: "API_GONE",
        severity: "blocker",
        source: "file",
        location: `${join(manifests, "cron.yaml")}:5`,
      }),
      show(plan),
    );
    assert.ok(
      has(plan, {
        source: "file",
        apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3",
        location: `${join(manifests, "flow", "schema.json")}:1`,
      }),
      show(plan),
    );
    assert.equal(plan.scanned.helmReleases, 1);
    assert.equal(plan.scanned.files, 2);
  });

  it("lists only the types the rules name, page by page", (t) => {
    if (!plan) return t.skip("no plan");
    assert.ok(plan.scanned.liveTypes.includes("endpoints"));
    assert.ok(plan.scanned.liveTypes.includes("apps/deployments"));
    assert.ok(
      !plan.scanned.liveTypes.some(
        (x) => x.endsWith("configmaps") || x.endsWith("secrets") || x.endsWith("pods"),
      ),
      plan.scanned.liveTypes.join(","),
    );
    const pages = events.filter((e) => e.code === "upgrade.scan.page" && e.data.resource === "endpoints");
    assert.ok(pages.length >= 3, `endpoints read in ${pages.length} page(s) of 2`);
  });

  it("reports skew: a kubelet newer than the control plane blocks, a group behind is rotated first", (t) => {
    if (!plan) return t.skip("no plan");
    assert.ok(has(plan, { id: "SKEW_KUBELET_NEWER", severity: "blocker" }), show(plan));
    assert.ok(has(plan, { id: "SKEW_NODEGROUP_BEHIND", object: "NodeGroup general-blue" }), show(plan));
    const first = plan.steps[0];
    assert.equal(first?.kind, "rotate-node-group");
    assert.match(first?.title ?? "", /general onto 1\.36 .*before the control plane moves/);
    const cp = plan.steps.findIndex((s) => s.kind === "control-plane");
    assert.ok(
      cp > 0 &&
        plan.steps
          .slice(cp)
          .some((s) => s.kind === "rotate-node-group" && s.title.includes("general onto 1.37")),
    );
  });

  it("reports what would block the node rotation", (t) => {
    if (!plan) return t.skip("no plan");
    assert.ok(has(plan, { id: "ROTATION_BUDGET_ALLOWS_NONE", severity: "blocker" }), show(plan));
    assert.ok(has(plan, { id: "ROTATION_SINGLE_REPLICA", object: "StatefulSet shop/db" }), show(plan));
    assert.ok(has(plan, { id: "ROTATION_NO_READINESS_PROBE", object: "Deployment shop/locked" }), show(plan));
    assert.ok(
      has(plan, { id: "ROTATION_WEBHOOK_FAIL_CLOSED", object: "ValidatingWebhookConfiguration shop-policy" }),
      show(plan),
    );
  });

  it("CLI: JSON on stdout, exit 1 with blockers, a playbook, exit 2 on bad input", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const dir = mkdtempSync(join(tmpdir(), "tenkai-playbook-"));
    const playbook = join(dir, "upgrade.md");
    const r = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.37",
      "-f",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--kubectl-version",
      "v1.37.0",
      "--playbook",
      playbook,
      "-o",
      "json",
      manifests,
    ]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const result = JSON.parse(lines.slice(lines.indexOf("{")).join("\n")) as UpgradePlan;
    assert.equal(result.to, "1.37");
    assert.ok(result.counts.blocker > 0);
    assert.ok(result.findings.some((f) => f.source === "helm"));
    const md = readFileSync(playbook, "utf8");
    assert.match(md, /^<!-- written by tenkai upgrade plan -->\n# Upgrade web: Kubernetes 1\.36 → 1\.37/);
    assert.match(md, /## Blockers/);
    assert.match(md, /control plane → 1\.37/);

    const bad = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.35",
      "-f",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "-o",
      "json",
    ]);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.equal((JSON.parse(bad.stdout) as { error: { code: string } }).error.code, "CLI_TARGET_BEHIND");
    const typo = await tenkai(["upgrade", "plan", "--to", "one-37", "-f", file, "-o", "json"]);
    assert.equal(typo.code, 2);
    assert.equal((JSON.parse(typo.stdout) as { error: { code: string } }).error.code, "CLI_BAD_VERSION");
    writeFileSync(join(dir, "notes.md"), "mine\n");
    const keep = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.37",
      "-f",
      file,
      "--offline",
      "--playbook",
      join(dir, "notes.md"),
    ]);
    assert.equal(keep.code, 2);
    assert.match(keep.stderr, /CLI_FILE_EXISTS/);
    assert.equal(readFileSync(join(dir, "notes.md"), "utf8"), "mine\n");
  });

  it("CLI: exit 0 when the plan is clear", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    // Offline, on the spec's own version, with clean manifests: nothing to find, nothing to move.
    const clean = mkdtempSync(join(tmpdir(), "tenkai-clean-"));
    writeFileSync(join(clean, "ok.yaml"), "apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: ok }\n");
    const r = await tenkai([
      "upgrade",
      "plan",
      "--to",
      "1.35",
      "-f",
      file,
      "--offline",
      "--kubectl-version",
      "v1.35.1",
      "-o",
      "json",
      clean,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const result = JSON.parse(r.stdout.slice(r.stdout.indexOf("{\n"))) as UpgradePlan;
    assert.equal(result.counts.blocker, 0);
    assert.deepEqual(result.path, []);
  });
});
