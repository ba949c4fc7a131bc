/**
 * The rotation waits for moved pods to be healthy load balancer targets before it deletes the old
 * slot, on the local control plane with kwok nodes. The AWS Load Balancer Controller is not here:
 * the test plays its part, setting the pods' `target-health.elbv2.k8s.aws/...` readiness-gate
 * condition True (a status patch, as the controller does once the target group reports the IP
 * healthy). Without the wait, the rotation would delete the old slot while the gates are False.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  setHeaderOptions,
  type V1Pod,
} from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { rotationCluster } from "../../src/rotation/cluster.js";
import { rotate } from "../../src/rotation/rotate.js";
import { StateStore } from "../../src/rotation/state.js";
import type { RotationEvent } from "../../src/rotation/types.js";
import { isTenkaiError } from "../../src/shared/errors.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";
import {
  FIXTURE_LABEL,
  type FixtureSpec,
  fixtureOptions,
  fixtureSlot,
  waitDeploymentsReady,
} from "../support/rotation-fixture.js";

const GATE = "target-health.elbv2.k8s.aws/k8s-web-api-0123456789";
const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);

let cluster: TestCluster | undefined;
before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster?.stop();
});

function fixture(group: string): FixtureSpec {
  return {
    group,
    nodes: 2,
    zones: ["ap-northeast-1a", "ap-northeast-1c"],
    instanceType: "m6i.xlarge",
    workloads: [{ namespace: group, name: "api", replicas: 2, budget: "maxUnavailable1" }],
    graceSeconds: 1,
  };
}

/** The blue slot and a Deployment whose pods carry the controller's readiness gate. */
async function build(kc: KubeConfig, provider: KwokNodeProvider, spec: FixtureSpec): Promise<void> {
  await provider.createSlot({ ...fixtureSlot(spec), slot: "blue", nodegroupName: `${spec.group}-blue` });
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: spec.group } } });
  const labels = { app: "api" };
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: spec.group,
    body: {
      metadata: { name: "api", namespace: spec.group },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { [FIXTURE_LABEL]: spec.group },
            terminationGracePeriodSeconds: 1,
            readinessGates: [{ conditionType: GATE }],
            containers: [{ name: "app", image: "registry.example/app:1.0" }],
          },
        },
      },
    },
  });
  await kc.makeApiClient(PolicyV1Api).createNamespacedPodDisruptionBudget({
    namespace: spec.group,
    body: { metadata: { name: "api" }, spec: { maxUnavailable: 1, selector: { matchLabels: labels } } },
  });
  await waitDeploymentsReady(kc, spec.workloads, 120_000);
  for (const p of await pods(kc, spec.group)) await setGate(kc, p);
}

async function pods(kc: KubeConfig, namespace: string): Promise<V1Pod[]> {
  return (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items.filter(
    (p) => !p.metadata?.deletionTimestamp,
  );
}

const gateTrue = (p: V1Pod) =>
  p.status?.conditions?.some((c) => c.type === GATE && c.status === "True") ?? false;

/** Sets the gate condition True, as the controller does, until it reads back True. */
async function setGate(kc: KubeConfig, pod: V1Pod): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = pod.metadata?.name ?? "";
  const namespace = pod.metadata?.namespace ?? "";
  for (let i = 0; i < 100; i++) {
    await core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: { status: { conditions: [{ type: GATE, status: "True", lastTransitionTime: new Date() }] } },
      },
      strategic,
    );
    if (gateTrue(await core.readNamespacedPod({ name, namespace }))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the gate of ${namespace}/${name} did not stay True`);
}

async function until<T>(what: string, ms: number, check: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const blueNodes = async (kc: KubeConfig, group: string) =>
  (await kc.makeApiClient(CoreV1Api).listNode({ labelSelector: `eks.amazonaws.com/nodegroup=${group}-blue` }))
    .items.length;

describe("rotation waits for healthy load balancer targets", () => {
  it("keeps the old slot until every moved pod's target-health gate is True", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const kc = cluster.kubeConfig;
    const spec = fixture("tg-a");
    const provider = new KwokNodeProvider({ kubeConfig: kc });
    await build(kc, provider, spec);
    const events: RotationEvent[] = [];
    let settled = false;
    const run = rotate(fixtureOptions(spec, { timeoutMs: 300_000 }), {
      cluster: rotationCluster(kc),
      provider,
      sink: (e) => events.push(e),
    }).finally(() => {
      settled = true;
    });
    run.catch(() => {});
    const waiting = await until("a rotation.targets.waiting event, or the rotation's end", 180_000, () =>
      settled ? "ended" : events.find((e) => e.code === "rotation.targets.waiting"),
    );
    assert.notEqual(
      waiting,
      "ended",
      `the rotation ended without waiting for the targets: ${events.map((e) => e.code).join(", ")}`,
    );
    assert.ok(typeof waiting !== "string" && waiting.code === "rotation.targets.waiting");
    assert.equal(waiting.data.nodegroup, "tg-a-blue");
    const moved = (await pods(kc, "tg-a")).filter((p) => !gateTrue(p));
    assert.equal(moved.length, 2, "both replicas moved and wait for their gate");
    assert.deepEqual(
      [...waiting.data.pods].sort(),
      moved.map((p) => `tg-a/${p.metadata?.name}`).sort(),
      "the event names the moved pods",
    );
    assert.ok(
      moved.every((p) => p.spec?.nodeName?.startsWith("tg-a-green-")),
      "the moved pods run on the new slot",
    );

    // One target healthy: the rotation still waits, and says for which pod.
    const [first, second] = moved as [V1Pod, V1Pod];
    await setGate(kc, first);
    const next = await until("a second waiting event for the pod left", 60_000, () =>
      events.find(
        (e) =>
          e.code === "rotation.targets.waiting" &&
          e.data.pods.length === 1 &&
          e.data.pods[0] === `tg-a/${second.metadata?.name}`,
      ),
    );
    assert.ok(next);
    assert.equal(settled, false, "the rotation has not finished");
    assert.ok(!events.some((e) => e.code === "rotation.slot.deleting"), "the old slot is not being deleted");
    assert.equal(await blueNodes(kc, "tg-a"), 2, "the old slot's nodes are still there");
    assert.ok(await provider.describeSlot("tg-a-blue"), "the old slot still exists");

    await setGate(kc, second);
    const result = await run;
    assert.equal(result.activeSlot, "green");
    const codes = events.map((e) => e.code);
    const healthy = codes.indexOf("rotation.targets.healthy");
    assert.ok(healthy > codes.lastIndexOf("rotation.targets.waiting"), codes.join(", "));
    assert.ok(codes.indexOf("rotation.slot.deleting") > healthy, "the slot is deleted after the targets");
    assert.equal(await provider.describeSlot("tg-a-blue"), undefined, "the old slot is gone");
  });

  it("stops with ROTATION_TARGETS_UNHEALTHY past --timeout, keeps the old slot, and resumes once healthy", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const kc = cluster.kubeConfig;
    const spec = fixture("tg-b");
    const provider = new KwokNodeProvider({ kubeConfig: kc });
    await build(kc, provider, spec);
    const deps = { cluster: rotationCluster(kc), provider, sink: () => {} };
    await assert.rejects(rotate(fixtureOptions(spec, { timeoutMs: 20_000 }), deps), (err: unknown) => {
      assert.ok(isTenkaiError(err, "ROTATION_TARGETS_UNHEALTHY"), String(err));
      assert.match(err.message, /tg-b-blue is not deleted/);
      assert.match(
        err.message,
        /readiness gate target-health\.elbv2\.k8s\.aws\/k8s-web-api-0123456789 not True/,
      );
      assert.match(err.fix ?? "", /run the same command again/);
      return true;
    });
    assert.ok(await provider.describeSlot("tg-b-blue"), "the old slot is kept");
    const state = await new StateStore(kc.makeApiClient(CoreV1Api)).read("tg-b");
    assert.equal(state?.phase, "deleting-blue");

    for (const p of await pods(kc, "tg-b")) await setGate(kc, p);
    const result = await rotate(fixtureOptions(spec), deps);
    assert.equal(result.activeSlot, "green");
    assert.equal(await provider.describeSlot("tg-b-blue"), undefined, "the old slot is gone");
  });
});
