/**
 * Rotation end to end on the local control plane (test/support/cluster.ts) with the kwok node
 * provider: real PDB status, real eviction 429s, real ReplicaSets re-creating pods, kwok stages
 * turning pods Ready and deleting them when their grace period ends.
 */

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { clientsFor, rotationCluster } from "../../src/rotation/cluster.js";
import { rollback } from "../../src/rotation/rollback.js";
import { rotate } from "../../src/rotation/rotate.js";
import { StateStore } from "../../src/rotation/state.js";
import { rotationStatus } from "../../src/rotation/status.js";
import type { RotationEvent } from "../../src/rotation/types.js";
import { isTenkaiError } from "../../src/shared/errors.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";
import { PdbMonitor } from "../support/pdb-monitor.js";
import {
  buildFixture,
  deploymentsNotReady,
  type FixtureSpec,
  fixtureOptions,
  mixedWorkloads,
  waitBudgetsSettled,
} from "../support/rotation-fixture.js";

let cluster: TestCluster | undefined;
let monitor: PdbMonitor | undefined;
before(async () => {
  cluster = await startTestCluster();
  if (cluster) monitor = await PdbMonitor.start(cluster.kubeConfig);
});
after(async () => {
  await monitor?.stop();
  await cluster?.stop();
});

const ZONES = ["ap-northeast-1a", "ap-northeast-1c"];
function fixture(group: string, over: Partial<FixtureSpec> = {}): FixtureSpec {
  return {
    group,
    nodes: 4,
    zones: ZONES,
    instanceType: "m6i.xlarge",
    workloads: mixedWorkloads(group, 10, 40, 2),
    graceSeconds: 1,
    ...over,
  };
}

async function nodeNames(c: TestCluster, nodegroup: string): Promise<{ name: string; cordoned: boolean }[]> {
  const list = await c.kubeConfig
    .makeApiClient(CoreV1Api)
    .listNode({ labelSelector: `eks.amazonaws.com/nodegroup=${nodegroup}` });
  return list.items.map((n) => ({ name: n.metadata?.name ?? "", cordoned: n.spec?.unschedulable === true }));
}

describe("tenkai nodes rotate on kwok", () => {
  it("rotates blue to green with zero budget violations and every Deployment back at full strength", async (t) => {
    if (!cluster || !monitor) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const spec = fixture("rot-a");
    const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
    await buildFixture(cluster.kubeConfig, provider, spec);
    await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
    const before = monitor.violations().length;
    const events: RotationEvent[] = [];
    const result = await rotate(fixtureOptions(spec, { maxDraining: 2 }), {
      cluster: rotationCluster(cluster.kubeConfig),
      provider,
      sink: (e) => events.push(e),
    });

    assert.equal(result.activeSlot, "green");
    assert.deepEqual(
      monitor.violations().slice(before),
      [],
      "no budget dropped below its desired healthy count",
    );
    assert.deepEqual(await deploymentsNotReady(cluster.kubeConfig, spec.workloads), []);
    assert.deepEqual(await nodeNames(cluster, "rot-a-blue"), [], "blue is gone");
    const green = await nodeNames(cluster, "rot-a-green");
    assert.equal(green.length, 4);
    assert.ok(green.every((n) => !n.cordoned));
    const drained = events.flatMap((e) => (e.code === "rotation.node.drained" ? [e.data.node] : [])).sort();
    assert.deepEqual(drained, ["rot-a-blue-0", "rot-a-blue-1", "rot-a-blue-2", "rot-a-blue-3"]);
    const surged = events
      .flatMap((e) => (e.code === "rotation.surge.restored" ? [e.data.deployment] : []))
      .sort();
    assert.deepEqual(
      surged,
      ["rot-a-0/solo-0", "rot-a-1/solo-1"],
      "single-replica Deployments were surged and restored",
    );
    const state = await new StateStore(cluster.kubeConfig.makeApiClient(CoreV1Api)).read("rot-a");
    assert.equal(state?.phase, "done");
    assert.equal(state?.activeSlot, "green");
    const [status] = await rotationStatus(clientsFor(cluster.kubeConfig), "rot-a");
    assert.equal(status?.live.fromNodes, 0);
    assert.equal(status?.live.toNodes, 4);

    // The next rotation goes back from green to blue.
    const back = await rotate(fixtureOptions(spec), {
      cluster: rotationCluster(cluster.kubeConfig),
      provider,
      sink: () => {},
    });
    assert.equal(back.activeSlot, "blue");
    assert.deepEqual(monitor.violations().slice(before), []);
    assert.deepEqual(await deploymentsNotReady(cluster.kubeConfig, spec.workloads), []);
  });

  it("reports every blocker before changing anything, and --dry-run changes nothing", async (t) => {
    if (!cluster || !monitor) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const spec = fixture("rot-b", { nodes: 2, workloads: mixedWorkloads("rot-b", 3, 6, 1) });
    const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
    await buildFixture(cluster.kubeConfig, provider, spec);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({
      namespace: "rot-b-0",
      body: {
        metadata: { name: "bare" },
        spec: {
          nodeSelector: { "tenkai.dev/fixture": "rot-b" },
          containers: [{ name: "c", image: "x" }],
          volumes: [{ name: "scratch", emptyDir: {} }],
        },
      },
    });
    const deps = { cluster: rotationCluster(cluster.kubeConfig), provider, sink: () => {} };
    await assert.rejects(rotate(fixtureOptions(spec), deps), (err: unknown) => {
      assert.ok(isTenkaiError(err, "ROTATION_BLOCKED"), String(err));
      assert.match(err.message, /POD_UNREPLICATED: .*rot-b-0\/bare/);
      return true;
    });
    assert.deepEqual(await nodeNames(cluster, "rot-b-green"), [], "no green node was created");
    assert.ok(
      (await nodeNames(cluster, "rot-b-blue")).every((n) => !n.cordoned),
      "no blue node was cordoned",
    );

    const dry = await rotate(
      fixtureOptions(spec, { dryRun: true, forceUnreplicated: true, deleteEmptyDirData: true }),
      deps,
    );
    assert.equal(dry.plan?.blockers.length, 0);
    assert.ok(dry.plan?.evict.includes("rot-b-0/bare"));
    assert.deepEqual(dry.plan?.surge, ["rot-b-0/solo-0"]);
    assert.deepEqual(await nodeNames(cluster, "rot-b-green"), [], "dry run created nothing");
    await core.deleteNamespacedPod({ name: "bare", namespace: "rot-b-0", gracePeriodSeconds: 0 });
  });

  it("shows which pod and which budget hold a drain back, and rolls back without a violation", async (t) => {
    if (!cluster || !monitor) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    // Replacements take 3 s to turn Ready, so a maxUnavailable-1 budget holds the second pod back.
    const spec = fixture("rot-c", {
      nodes: 2,
      workloads: [{ namespace: "rot-c", name: "slow", replicas: 4, budget: "maxUnavailable1" }],
      readyDelay: "3s",
    });
    const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
    await buildFixture(cluster.kubeConfig, provider, spec);
    await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
    const before = monitor.violations().length;
    const events: RotationEvent[] = [];
    const deps = {
      cluster: rotationCluster(cluster.kubeConfig),
      provider,
      sink: (e: RotationEvent) => events.push(e),
    };
    const stop = new AbortController();
    await assert.rejects(
      rotate(
        fixtureOptions(spec, {
          stallAfterMs: 1000,
          signal: stop.signal,
          checkpoint: (p) => {
            if (p === "evicted:2") stop.abort(new Error("stopped by the test"));
          },
        }),
        deps,
      ),
    );
    const stalled = events.find((e) => e.code === "rotation.stalled");
    assert.ok(stalled && stalled.code === "rotation.stalled", "a stalled event was emitted");
    assert.equal(stalled.level, "warn");
    const d = stalled.data;
    assert.equal(d.budget, "rot-c/slow");
    assert.match(d.pod, /^rot-c\/slow-/);
    assert.ok(d.desired === 3 && d.healthy <= 3, `healthy ${d.healthy}/${d.desired}`);

    const rb = await rollback(fixtureOptions(spec), deps);
    assert.equal(rb.activeSlot, "blue");
    assert.deepEqual(await nodeNames(cluster, "rot-c-green"), [], "green is gone");
    assert.ok(
      (await nodeNames(cluster, "rot-c-blue")).every((n) => !n.cordoned),
      "blue is uncordoned",
    );
    assert.deepEqual(monitor.violations().slice(before), []);
    assert.deepEqual(await deploymentsNotReady(cluster.kubeConfig, spec.workloads), []);
    const state = await new StateStore(cluster.kubeConfig.makeApiClient(CoreV1Api)).read("rot-c");
    assert.equal(state?.phase, "rolled-back");
  });

  it("the PDB monitor catches pods deleted past their budget (what a rotation must never do)", async (t) => {
    if (!cluster || !monitor) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const spec = fixture("rot-d", {
      nodes: 1,
      workloads: [{ namespace: "rot-d", name: "web", replicas: 3, budget: "maxUnavailable1" }],
      readyDelay: "2s",
    });
    const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
    await buildFixture(cluster.kubeConfig, provider, spec);
    await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const pods = (await core.listNamespacedPod({ namespace: "rot-d" })).items.slice(0, 2);
    // Plain deletes bypass the budget: two of three pods go at once where the budget allows one.
    await Promise.all(
      pods.map((p) => core.deleteNamespacedPod({ name: p.metadata?.name ?? "", namespace: "rot-d" })),
    );
    const deadline = Date.now() + 10_000;
    while (!monitor.violations().some((v) => v.budget === "rot-d/web") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const v = monitor.violations().find((x) => x.budget === "rot-d/web");
    assert.ok(v, "the monitor recorded the breach");
    assert.equal(v.desired, 2);
    assert.ok(v.healthy < 2);
    await core.deleteNamespace({ name: "rot-d" });
  });
});
