/**
 * What tenkai's operations rely on, checked against the real local control plane (cluster/up.sh)
 * with kwok nodes from the kwok node provider: PodDisruptionBudget status, eviction 429s, RBAC
 * through SubjectAccessReview and impersonation, Pod Security Admission, and a ReplicaSet that
 * re-creates an evicted pod on another node. Skips with the printed reason where Go or the
 * cached binaries are missing.
 */
import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1Pod,
  type V1PodSpec,
} from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/kwok-provider.js";
import type { NodeGroupSlotSpec } from "../../src/providers/node-provider.js";
import {
  createNamespace,
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
  waitFor,
} from "../support/cluster.js";

const slot: NodeGroupSlotSpec = {
  group: "general",
  slot: "blue",
  nodegroupName: "general-blue",
  instanceTypes: ["m6i.large"],
  desired: 3,
  min: 1,
  max: 6,
  zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
  kubernetesVersion: "1.36",
  labels: {},
  taints: [],
  capacityType: "ON_DEMAND",
};

/** A container that is never pulled or run: kwok only simulates it. */
const podSpec = (extra: Partial<V1PodSpec> = {}): V1PodSpec => ({
  containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
  // Deleted pods go away when the grace period ends (cluster/stages/pod-delete.yaml).
  terminationGracePeriodSeconds: 1,
  ...extra,
});

const isReady = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

describe("local cluster", () => {
  let cluster: TestCluster | undefined;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let policy: PolicyV1Api;
  let nodeNames: string[] = [];

  before(async () => {
    cluster = await startTestCluster();
    if (!cluster) return;
    kc = cluster.kubeConfig;
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    policy = kc.makeApiClient(PolicyV1Api);
    const provider = new KwokNodeProvider({ kubeConfig: kc });
    await provider.createSlot(slot);
    const state = await waitFor("3 Ready kwok nodes", 30_000, async () => {
      const s = await provider.describeSlot(slot.nodegroupName);
      return s?.status === "ACTIVE" && s.nodeNames.length === 3 ? s : undefined;
    });
    nodeNames = [...state.nodeNames];
  });
  after(async () => {
    await cluster?.stop();
  });

  const skip = () => `no local cluster: ${testClusterUnavailableReason()}`;

  /**
   * Deployment `web` (3 replicas) + PDB minAvailable 2 in `ns`, waited on until the PDB allows 1
   * disruption. `readyAfter` delays readiness of every pod (kwok's pod-ready stage annotation).
   */
  async function deployWebWithPdb(ns: string, readyAfter?: string) {
    await createNamespace(kc, ns);
    const labels = { app: "web" };
    const annotations: Record<string, string> = readyAfter
      ? { "pod-ready.stage.kwok.x-k8s.io/delay": readyAfter }
      : {};
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: "web" },
        spec: {
          replicas: 3,
          selector: { matchLabels: labels },
          template: { metadata: { labels, annotations }, spec: podSpec() },
        },
      },
    });
    await policy.createNamespacedPodDisruptionBudget({
      namespace: ns,
      body: { metadata: { name: "web" }, spec: { minAvailable: 2, selector: { matchLabels: labels } } },
    });
    const pdb = await waitFor("PDB web to allow 1 disruption", 30_000, async () => {
      const p = await policy.readNamespacedPodDisruptionBudget({ name: "web", namespace: ns });
      return p.status?.observedGeneration === p.metadata?.generation &&
        p.status?.currentHealthy === 3 &&
        p.status?.disruptionsAllowed === 1
        ? p
        : undefined;
    });
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=web" })).items;
    return { pdb, pods };
  }

  it("runs a Deployment of 3 replicas with a PDB of minAvailable 2 on kwok nodes", async (t) => {
    if (!cluster) return t.skip(skip());
    const { pdb, pods } = await deployWebWithPdb("pdb-status");
    const deploy = await apps.readNamespacedDeployment({ name: "web", namespace: "pdb-status" });
    assert.equal(deploy.status?.availableReplicas, 3);
    assert.equal(pdb.status?.desiredHealthy, 2);
    assert.equal(pdb.status?.expectedPods, 3);
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.status?.phase, "Running", `${p.metadata?.name} runs`);
      assert.ok(isReady(p), `${p.metadata?.name} is Ready`);
      assert.ok(
        nodeNames.includes(p.spec?.nodeName ?? ""),
        `${p.metadata?.name} is on a kwok node, not ${p.spec?.nodeName}`,
      );
      assert.ok(p.status?.podIP, `${p.metadata?.name} has a pod IP`);
    }
  });

  it("lets one of two simultaneous evictions through and answers the other 429", async (t) => {
    if (!cluster) return t.skip(skip());
    const ns = "pdb-evict";
    // The eviction that loses the race for the PDB's status retries after ~500 ms (EvictionsRetry in
    // pkg/registry/core/pod/storage/eviction.go). With kwok's instant readiness the replacement pod
    // would already count as healthy by then and the second eviction would rightly pass; real pods
    // take seconds to start, so these do too.
    const { pods } = await deployWebWithPdb(ns, "4s");
    const [a, b] = pods.map((p) => p.metadata?.name ?? "");
    const evict = (name: string) =>
      core.createNamespacedPodEviction({
        name,
        namespace: ns,
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: ns } },
      });
    const results = await Promise.allSettled([evict(a!), evict(b!)]);
    const ok = results.filter((r) => r.status === "fulfilled");
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
    assert.equal(ok.length, 1, "exactly one eviction succeeds");
    assert.equal(refused.length, 1, "exactly one eviction is refused");
    const err = refused[0];
    assert.ok(err instanceof ApiException, `refusal is an API error, got ${String(err)}`);
    assert.equal(err.code, 429);
    assert.match(String(err.body), /disruption budget/);

    const evicted = results[0]?.status === "fulfilled" ? a! : b!;
    const kept = evicted === a ? b! : a!;
    const evictedPod = await core.readNamespacedPod({ name: evicted, namespace: ns }).catch(() => undefined);
    assert.ok(
      evictedPod === undefined || evictedPod.metadata?.deletionTimestamp,
      "the evicted pod is terminating or gone",
    );
    const keptPod = await core.readNamespacedPod({ name: kept, namespace: ns });
    assert.equal(keptPod.metadata?.deletionTimestamp, undefined, "the refused pod keeps running");
  });

  it("answers SubjectAccessReviews for a group's namespaced Role, directly and impersonated", async (t) => {
    if (!cluster) return t.skip(skip());
    await createNamespace(kc, "team-a");
    await createNamespace(kc, "team-b");
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: "team-a",
      body: {
        metadata: { name: "pod-reader" },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: "team-a",
      body: {
        metadata: { name: "team-a-devs-read-pods" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "pod-reader" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "team-a-devs" }],
      },
    });

    const authz = kc.makeApiClient(AuthorizationV1Api);
    const sar = async (namespace: string, verb: string) =>
      (
        await authz.createSubjectAccessReview({
          body: {
            spec: {
              user: "alice",
              groups: ["team-a-devs"],
              resourceAttributes: { namespace, verb, resource: "pods" },
            },
          },
        })
      ).status?.allowed;
    const table: [ns: string, verb: string, allowed: boolean][] = [
      ["team-a", "get", true],
      ["team-a", "list", true],
      ["team-a", "delete", false],
      ["team-b", "get", false],
    ];
    for (const [ns, verb, allowed] of table) {
      assert.equal(
        await sar(ns, verb),
        allowed,
        `SubjectAccessReview alice/team-a-devs ${verb} pods in ${ns}`,
      );
    }

    const asAlice = { "Impersonate-User": "alice", "Impersonate-Group": "team-a-devs" };
    for (const [ns, verb, allowed] of table) {
      const res = await raw(kc, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", asAlice, {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { namespace: ns, verb, resource: "pods" } },
      });
      assert.equal(res.status, 201);
      assert.equal(
        (res.body as { status?: { allowed?: boolean } }).status?.allowed ?? false,
        allowed,
        `impersonated SelfSubjectAccessReview ${verb} pods in ${ns}`,
      );
    }
    assert.equal((await raw(kc, "GET", "/api/v1/namespaces/team-a/pods", asAlice)).status, 200);
    const denied = await raw(kc, "GET", "/api/v1/namespaces/team-b/pods", asAlice);
    assert.equal(denied.status, 403);
    assert.match(JSON.stringify(denied.body), /User \\"alice\\" cannot list resource \\"pods\\".*team-b/);
  });

  it("rejects a privileged pod in a namespace that enforces the restricted Pod Security Standard", async (t) => {
    if (!cluster) return t.skip(skip());
    await createNamespace(kc, "psa-restricted", {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
    });
    await createNamespace(kc, "psa-none");
    const privileged: V1Pod = {
      metadata: { name: "root" },
      spec: podSpec({
        containers: [
          { name: "app", image: "registry.k8s.io/pause:3.10", securityContext: { privileged: true } },
        ],
      }),
    };
    await assert.rejects(
      core.createNamespacedPod({ namespace: "psa-restricted", body: privileged }),
      (err: unknown) => {
        assert.ok(err instanceof ApiException, String(err));
        assert.equal(err.code, 403);
        assert.match(String(err.body), /violates PodSecurity \\"restricted:latest\\": privileged/);
        return true;
      },
    );
    // The same pod is allowed where no level is enforced, so the rejection is Pod Security's doing.
    await core.createNamespacedPod({ namespace: "psa-none", body: privileged });
    // And a pod that meets "restricted" is admitted.
    await core.createNamespacedPod({
      namespace: "psa-restricted",
      body: {
        metadata: { name: "compliant" },
        spec: podSpec({
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "app",
              image: "registry.k8s.io/pause:3.10",
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
            },
          ],
        }),
      },
    });
  });

  it("keeps a deleted pod Terminating until its grace period ends (kwok pod-delete stage)", async (t) => {
    if (!cluster) return t.skip(skip());
    const ns = "grace";
    await createNamespace(kc, ns);
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: "slow-exit" },
        spec: podSpec({ nodeName: nodeNames[0], terminationGracePeriodSeconds: 4 }),
      },
    });
    await waitFor("pod slow-exit Ready", 15_000, async () =>
      isReady(await core.readNamespacedPod({ name: "slow-exit", namespace: ns })),
    );
    const deletedAt = Date.now();
    await core.deleteNamespacedPod({ name: "slow-exit", namespace: ns });
    const deleteTook = Date.now() - deletedAt;
    // No fixed sleep: poll until the pod is gone, noting each time it was read still Terminating
    // (the time the read was sent, so a slow answer never counts for more than it shows).
    let seenTerminatingAt = 0;
    let deletionTimestamp: Date | undefined;
    await waitFor("pod slow-exit gone", 60_000, async () => {
      const sentAt = Date.now();
      try {
        const p = await core.readNamespacedPod({ name: "slow-exit", namespace: ns });
        if (p.metadata?.deletionTimestamp) {
          deletionTimestamp = new Date(p.metadata.deletionTimestamp);
          seenTerminatingAt = Math.max(seenTerminatingAt, sentAt);
        }
        return false;
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return true;
        throw err;
      }
    });
    // The server set the end of the grace period 4 s after the delete (whole-second precision).
    assert.ok(deletionTimestamp, "the pod was seen Terminating");
    const grace = deletionTimestamp.getTime() - deletedAt;
    assert.ok(
      grace >= 2_900 && grace <= 5_000 + deleteTook,
      `deletionTimestamp ${grace} ms after the delete, expected about 4 s`,
    );
    // And it was still there, Terminating, past half of its grace period.
    assert.ok(
      seenTerminatingAt - deletedAt >= 2_000,
      `still Terminating ${seenTerminatingAt - deletedAt} ms into a 4 s grace period (expected at least 2 s)`,
    );
  });

  it("runs a Job's pod to completion (kwok pod-complete stage)", async (t) => {
    if (!cluster) return t.skip(skip());
    const ns = "jobs";
    await createNamespace(kc, ns);
    const batch = kc.makeApiClient(BatchV1Api);
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: { name: "once" },
        spec: { backoffLimit: 0, template: { spec: podSpec({ restartPolicy: "Never" }) } },
      },
    });
    const job = await waitFor("Job once Complete", 30_000, async () => {
      const j = await batch.readNamespacedJob({ name: "once", namespace: ns });
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    });
    assert.equal(job.status?.succeeded, 1);
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "job-name=once" })).items;
    assert.equal(pods.length, 1);
    assert.equal(pods[0]?.status?.phase, "Succeeded");
    assert.equal(pods[0]?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
  });

  it("re-creates an evicted ReplicaSet pod on another node when the first is cordoned", async (t) => {
    if (!cluster) return t.skip(skip());
    const ns = "rs-reschedule";
    await createNamespace(kc, ns);
    const labels = { app: "solo" };
    await apps.createNamespacedReplicaSet({
      namespace: ns,
      body: {
        metadata: { name: "solo" },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec() },
        },
      },
    });
    const first = await waitFor("the ReplicaSet's pod to be Ready", 30_000, async () => {
      const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=solo" })).items;
      return pods.length === 1 && pods[0] && isReady(pods[0]) ? pods[0] : undefined;
    });
    const firstNode = first.spec?.nodeName ?? "";
    const firstName = first.metadata?.name ?? "";
    assert.ok(nodeNames.includes(firstNode));

    await core.patchNode(
      { name: firstNode, body: { spec: { unschedulable: true } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    try {
      await core.createNamespacedPodEviction({
        name: firstName,
        namespace: ns,
        body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: firstName, namespace: ns } },
      });
      const second = await waitFor("a replacement pod to be Ready", 30_000, async () => {
        const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: "app=solo" })).items;
        return pods.find((p) => p.metadata?.name !== firstName && isReady(p));
      });
      assert.notEqual(second.spec?.nodeName, firstNode, "the replacement avoids the cordoned node");
      assert.ok(nodeNames.includes(second.spec?.nodeName ?? ""), "the replacement runs on another kwok node");
      await waitFor("the evicted pod to be gone after its grace period", 15_000, async () =>
        core.readNamespacedPod({ name: firstName, namespace: ns }).then(
          () => false,
          (err: unknown) => err instanceof ApiException && err.code === 404,
        ),
      );
    } finally {
      await core.patchNode(
        { name: firstNode, body: { spec: { unschedulable: null } } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      );
    }
  });
});

/**
 * A request with extra headers. client-node's KubeConfig can impersonate a user but not a group,
 * so impersonation goes through node:https with the kubeconfig's client certificate.
 */
async function raw(
  kc: KubeConfig,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("kubeconfig has no current cluster");
  const url = new URL(path, server);
  const opts: import("node:https").RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: { ...headers, Accept: "application/json", "Content-Type": "application/json" },
  };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request(opts, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        text += d;
      });
      res.on("end", () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
