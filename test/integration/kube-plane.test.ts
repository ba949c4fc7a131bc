/**
 * The Kubernetes plane end to end on the local control plane (test/support/cluster.ts: real
 * kube-apiserver with RBAC, Pod Security Admission, ValidatingAdmissionPolicies, quota; kwok
 * nodes): apply the example, a no-op second apply, prune exactly a removed service's objects,
 * dry run and diff, verify isolation passes, and a planted cross-tenant RoleBinding fails it by name.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ApplyEvent, applyPlatform } from "../../src/kube/api/apply.js";
import { isKubeApiError, KubeClient } from "../../src/kube/api/client.js";
import { diffKubernetesPlane } from "../../src/kube/api/diff.js";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { isTenkaiError } from "../../src/shared/errors.js";
import { loadPlatform } from "../../src/spec/load.js";
import type { Platform } from "../../src/spec/schema.js";
import { verifyIsolation } from "../../src/verify/isolation.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";

const exampleFile = new URL("../../examples/platform.yaml", import.meta.url).pathname;
// The local target: no AWS behind this cluster, so no AWS Load Balancer Controller (whose
// webhooks would refuse Ingresses while no controller serves them), only its CRDs.
const loaded = await loadPlatform(exampleFile);
const example: Platform = { ...loaded, spec: { ...loaded.spec, target: "local" } };
let cluster: TestCluster | undefined;
let client: KubeClient;

before(async () => {
  cluster = await startTestCluster();
  if (!cluster) return;
  client = new KubeClient(cluster.kubeConfig);
  await new KwokNodeProvider({ kubeConfig: cluster.kubeConfig }).createSlot({
    group: "general",
    slot: "blue",
    nodegroupName: "general-blue",
    instanceTypes: ["m6i.xlarge"],
    desired: 3,
    min: 3,
    max: 3,
    zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
    kubernetesVersion: "1.35",
    labels: {},
    taints: [],
    capacityType: "ON_DEMAND",
  });
});
after(async () => {
  client?.close();
  await cluster?.stop();
});

const get = async (path: string) => {
  try {
    return (
      await client.request<{
        metadata: { resourceVersion: string; deletionTimestamp?: string; labels?: Record<string, string> };
      }>({ method: "GET", path })
    ).body;
  } catch (err) {
    if (isKubeApiError(err, 404)) return undefined;
    throw err;
  }
};
const withoutCartApi = (): Platform => {
  const p = structuredClone(example) as Platform;
  const shop = p.spec.tenants.find((t) => t.name === "shop")!;
  shop.services = shop.services.filter((s) => s.name !== "cart-api");
  return p;
};
const cli = (args: string[]) =>
  spawnSync(
    process.execPath,
    ["--import", "tsx", new URL("../../src/cli/run.ts", import.meta.url).pathname, ...args],
    // A bound against a hung child, not a measure: `verify isolation` took 145 s in-process with
    // two whole suites on two cores; the 120 s bound once killed it there (status null).
    { encoding: "utf8", timeout: 900_000 },
  );

describe("kube plane on a live cluster", () => {
  it("applies the example in dependency order, rolls out, and records an ApplySet", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const events: ApplyEvent[] = [];
    const result = await applyPlatform(example, {
      client,
      sink: (e) => events.push(e),
      waitTimeoutMs: 120_000,
    });
    assert.equal(result.summary.created, result.summary.total);
    assert.ok(result.summary.total > 100);
    const phases = events.flatMap((e) => (e.code === "apply.phase" ? [e.data.phase] : []));
    assert.deepEqual(phases, [0, 1, 2]);
    assert.ok(events.some((e) => e.code === "apply.crd-established"));
    assert.ok(
      events.some(
        (e) => e.code === "apply.rollout" && e.data.ref === "Deployment.apps shop/catalog-api" && e.data.done,
      ),
    );
    const ns = await get("/api/v1/namespaces/shop");
    assert.equal(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"], "restricted");
    assert.equal(ns?.metadata.labels?.["applyset.kubernetes.io/part-of"], result.summary.applySetId);
    const parent = (
      await client.request<{ metadata: { annotations: Record<string, string> } }>({
        method: "GET",
        path: "/api/v1/namespaces/tenkai-system/configmaps/tenkai-applyset-web",
      })
    ).body;
    assert.match(
      parent.metadata.annotations["applyset.kubernetes.io/contains-group-kinds"]!,
      /(^|,)Deployment\.apps(,|$)/,
    );
  });

  it("changes nothing on a second apply of the same spec", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const before = await get("/apis/apps/v1/namespaces/users/deployments/users-api");
    const result = await applyPlatform(example, { client });
    assert.deepEqual([result.summary.created, result.summary.configured, result.summary.pruned], [0, 0, 0]);
    assert.equal(result.summary.unchanged, result.summary.total);
    const afterwards = await get("/apis/apps/v1/namespaces/users/deployments/users-api");
    assert.equal(afterwards?.metadata.resourceVersion, before?.metadata.resourceVersion);
  });

  it("refuses to apply a second platform to the same cluster", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const other = { ...structuredClone(example), metadata: { name: "other" } } as Platform;
    await assert.rejects(
      applyPlatform(other, { client }),
      (e) => isTenkaiError(e, "KUBE_OTHER_PLATFORM") && /platform "web"/.test(e.message),
    );
  });

  it("dry-runs and diffs a change without making it", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const bumped = structuredClone(example) as Platform;
    bumped.spec.tenants.find((x) => x.name === "users")!.services.find((s) => s.name === "users-api")!.tag =
      "1.4.3";
    const before = await get("/apis/apps/v1/namespaces/users/deployments/users-api");
    const dry = await applyPlatform(bumped, { client, dryRun: true });
    assert.deepEqual(
      dry.objects.filter((o) => o.outcome !== "unchanged").map((o) => o.ref),
      ["Deployment.apps users/users-api"],
    );
    const diff = await diffKubernetesPlane(bumped, { client });
    assert.deepEqual(diff.summary, { create: 0, update: 1, prune: 0, unchanged: dry.summary.total - 1 });
    const change = diff.objects[0]!.changes.find((c) => c.path === "spec.template.spec.containers[0].image");
    assert.match(String(change?.after), /users-api:1\.4\.3$/);
    assert.equal(
      (await get("/apis/apps/v1/namespaces/users/deployments/users-api"))?.metadata.resourceVersion,
      before?.metadata.resourceVersion,
    );
  });

  it("prunes exactly the objects of a service removed from the spec", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const result = await applyPlatform(withoutCartApi(), { client });
    assert.deepEqual(result.pruned, [
      "Deployment.apps shop/cart-api",
      "HorizontalPodAutoscaler.autoscaling shop/cart-api",
      "Ingress.networking.k8s.io shop/cart-api",
      "PodDisruptionBudget.policy shop/cart-api",
      "Service shop/cart-api",
      "ServiceAccount shop/cart-api",
    ]);
    // What referred to it changes with it: the route table and the network policies' selectors.
    assert.deepEqual(
      result.objects
        .filter((o) => o.outcome === "configured")
        .map((o) => o.ref)
        .sort(),
      [
        "ConfigMap tenkai-system/tenkai-routes",
        "NetworkPolicy.networking.k8s.io shop/allow-aws-apis",
        "NetworkPolicy.networking.k8s.io shop/allow-database",
        "NetworkPolicy.networking.k8s.io shop/allow-from-alb",
        // object counts are sized from the spec's services
        "ResourceQuota shop/tenkai-quota",
      ],
    );
    const gone = await get("/api/v1/namespaces/shop/services/cart-api");
    assert.ok(gone === undefined || gone.metadata.deletionTimestamp, "Service shop/cart-api deleted");
    assert.ok(await get("/api/v1/namespaces/shop/services/catalog-api"), "the other services stay");
  });

  it("verify isolation passes: no cross-tenant access, no guard writes, every probe rejected", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const report = await verifyIsolation(withoutCartApi(), { client });
    const bad = report.checks.filter((c) => c.verdict !== "pass").map((c) => c.message);
    assert.deepEqual(bad, []);
    assert.ok(report.ok);
    assert.ok(report.counts.total > 5000, `${report.counts.total} checks`);
    const probes = report.checks.filter((c) => c.kind === "admission");
    // Every probe at every access level of every tenant (tenant-guards.test.ts covers them one by one).
    assert.ok(probes.length > 500, `${probes.length} probes`);
  });

  it("fails verify isolation and names a planted cross-tenant RoleBinding (exit 1)", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    await client.request({
      method: "POST",
      path: "/apis/rbac.authorization.k8s.io/v1/namespaces/users/rolebindings",
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "leak-to-shop", namespace: "users" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "tenkai:shop:view" }],
      },
    });
    const run = cli([
      "verify",
      "isolation",
      exampleFile,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--context",
      client.context,
      "--output",
      "json",
    ]);
    assert.equal(run.status, 1, run.stderr);
    const lines = run.stdout.trim().split("\n");
    const report = JSON.parse(lines.slice(lines.indexOf("{")).join("\n"));
    assert.equal(report.ok, false);
    const breaches = report.checks.filter((c: { verdict: string }) => c.verdict === "breach");
    assert.ok(breaches.length > 0);
    for (const b of breaches) {
      assert.equal(b.identity, "tenkai:shop:view");
      assert.equal(b.target, "users");
      assert.match(b.message, /RoleBinding "leak-to-shop\/users" of ClusterRole "view"/);
    }
    await client.request({
      method: "DELETE",
      path: "/apis/rbac.authorization.k8s.io/v1/namespaces/users/rolebindings/leak-to-shop",
    });
  });

  it("tenant add and remove edit the file in place and apply", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const file = join(mkdtempSync(join(tmpdir(), "tenkai-tenant-")), "platform.yaml");
    // On the local target, as the rest of this file: no AWS behind this cluster, so no AWS Load
    // Balancer Controller webhooks (which would refuse Ingresses with no controller serving them).
    const original = readFileSync(exampleFile, "utf8").replace(/^spec:\n/m, "spec:\n  target: local\n");
    writeFileSync(file, original);
    // The example's images are in no registry here: the ECR image gate has its own tests (src/aws/image-gate.test.ts).
    const flags = [
      "--file",
      file,
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--context",
      client.context,
      "--no-image-gate",
    ];
    const add = cli([
      "tenant",
      "add",
      "billing",
      "--role",
      "arn:aws:iam::123456789012:role/billing-devs",
      "--level",
      "view",
      ...flags,
    ]);
    assert.equal(add.status, 0, add.stderr);
    assert.match(readFileSync(file, "utf8"), /- name: billing\n/);
    assert.ok(await get("/api/v1/namespaces/billing"));
    const binding = (
      await client.request<{ subjects: { name: string }[] }>({
        method: "GET",
        path: "/apis/rbac.authorization.k8s.io/v1/namespaces/billing/rolebindings/tenkai:view",
      })
    ).body;
    assert.equal(binding.subjects[0]?.name, "tenkai:billing:view");
    const remove = cli(["tenant", "remove", "billing", ...flags]);
    assert.equal(remove.status, 0, remove.stderr);
    assert.equal(readFileSync(file, "utf8"), original);
    const ns = await get("/api/v1/namespaces/billing");
    assert.ok(ns === undefined || ns.metadata.deletionTimestamp, "namespace billing is being deleted");
  });
});
