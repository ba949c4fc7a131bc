/**
 * Kills the rotation at every step boundary and at random moments, then starts it again: it must
 * finish with zero budget violations, every Deployment at full ready replicas and no node left
 * behind. "Killed" is an exception from the checkpoint hook (the run stops where it is, with its
 * requests in flight), an AbortSignal fired after a random delay, or a child process killed with
 * SIGKILL.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AppsV1Api, CoreV1Api } from "@kubernetes/client-node";
import { KwokNodeProvider } from "../../src/providers/kwok/index.js";
import { rotationCluster } from "../../src/rotation/cluster.js";
import { rotate } from "../../src/rotation/rotate.js";
import { StateStore } from "../../src/rotation/state.js";
import { SURGE_ANNOTATION } from "../../src/rotation/surge.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";
import { PdbMonitor } from "../support/pdb-monitor.js";
import {
  buildFixture,
  deploymentsNotReady,
  FIXTURE_LABEL,
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

const fixture = (group: string): FixtureSpec => ({
  group,
  nodes: 3,
  zones: ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"],
  instanceType: "m6i.xlarge",
  workloads: mixedWorkloads(group, 5, 16, 1),
  graceSeconds: 1,
});

class Crash extends Error {}

/** Asserts what a user checks after a rotation: done, green only, uncordoned, workloads whole, nothing surged. */
async function assertFinished(c: TestCluster, spec: FixtureSpec, violationsBefore: number): Promise<void> {
  const core = c.kubeConfig.makeApiClient(CoreV1Api);
  const state = await new StateStore(core).read(spec.group);
  assert.equal(state?.phase, "done");
  assert.equal(state?.activeSlot, "green");
  const nodes = (await core.listNode({ labelSelector: `${FIXTURE_LABEL}=${spec.group}` })).items;
  assert.deepEqual(
    nodes
      .map((n) => n.metadata?.labels?.["eks.amazonaws.com/nodegroup"])
      .filter((g) => g !== `${spec.group}-green`),
    [],
    "no blue node left behind",
  );
  assert.equal(nodes.length, spec.nodes, "green has all its nodes");
  assert.ok(
    nodes.every((n) => !n.spec?.unschedulable),
    "green is schedulable",
  );
  assert.deepEqual(monitor?.violations().slice(violationsBefore), [], "no budget violation");
  assert.deepEqual(await deploymentsNotReady(c.kubeConfig, spec.workloads), []);
  const deps = await c.kubeConfig
    .makeApiClient(AppsV1Api)
    .listNamespacedDeployment({ namespace: `${spec.group}-0` });
  assert.deepEqual(
    deps.items.filter((d) => d.metadata?.annotations?.[SURGE_ANNOTATION]).map((d) => d.metadata?.name),
    [],
    "no surge left",
  );
}

const POINTS = [
  "state-created",
  "green-created",
  "phase:waiting-green",
  "phase:cordoning",
  "cordoned:",
  "phase:draining",
  "evicted:1",
  "evicted:6",
  "node-drained:",
  "phase:deleting-blue",
  "blue-deleted",
];

describe("rotation survives being killed", () => {
  POINTS.forEach((point, i) => {
    it(`killed at ${point} and started again: completes with zero violations`, async (t) => {
      if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
      const spec = fixture(`fault-${i}`);
      const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
      await buildFixture(cluster.kubeConfig, provider, spec);
      await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
      const before = monitor?.violations().length ?? 0;
      const deps = { cluster: rotationCluster(cluster.kubeConfig), provider, sink: () => {} };
      let hit = false;
      await assert.rejects(
        rotate(
          fixtureOptions(spec, {
            maxDraining: 2,
            checkpoint: (p) => {
              if (!hit && p.startsWith(point)) {
                hit = true;
                throw new Crash(`killed at ${p}`);
              }
            },
          }),
          deps,
        ),
        Crash,
      );
      assert.ok(hit, `the run reached ${point}`);
      await rotate(fixtureOptions(spec, { maxDraining: 2 }), deps);
      await assertFinished(cluster, spec, before);
    });
  });

  // Random moments: a seeded delay so a failure can be replayed (the seed is in the test name).
  for (const seed of [1, 2, 3]) {
    const delayMs = 150 + ((seed * 7919) % 1700);
    it(`aborted at a random moment (${delayMs} ms in) twice, then completes`, async (t) => {
      if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
      const spec = fixture(`abort-${seed}`);
      const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
      await buildFixture(cluster.kubeConfig, provider, spec);
      await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
      const before = monitor?.violations().length ?? 0;
      const deps = { cluster: rotationCluster(cluster.kubeConfig), provider, sink: () => {} };
      for (const d of [delayMs, Math.round(delayMs / 2)]) {
        await rotate(fixtureOptions(spec, { maxDraining: 1, signal: AbortSignal.timeout(d) }), deps).catch(
          () => undefined,
        );
      }
      await rotate(fixtureOptions(spec, { maxDraining: 1 }), deps);
      await assertFinished(cluster, spec, before);
    });
  }

  it("a rotation process killed with SIGKILL mid-drain resumes in a new process", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const spec = fixture("sigkill");
    const provider = new KwokNodeProvider({ kubeConfig: cluster.kubeConfig });
    await buildFixture(cluster.kubeConfig, provider, spec);
    await waitBudgetsSettled(cluster.kubeConfig, spec.workloads, 60_000);
    const before = monitor?.violations().length ?? 0;
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const script = join(root, "test/support/rotation-child.ts");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", script, cluster.kubeconfigPath, JSON.stringify(spec)],
      { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    const killed = new Promise<void>((resolve) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        // Kill it the moment it reports its first eviction: mid-drain, requests in flight.
        if (out.includes('"code":"rotation.pod.evicted"') && child.exitCode === null) child.kill("SIGKILL");
      });
      child.on("exit", () => resolve());
    });
    await killed;
    assert.equal(child.signalCode, "SIGKILL", `the child was killed mid-run (output: ${out.slice(-300)})`);
    const state = await new StateStore(cluster.kubeConfig.makeApiClient(CoreV1Api)).read(spec.group);
    assert.equal(state?.phase, "draining", "the record says where it stopped");
    await rotate(fixtureOptions(spec), {
      cluster: rotationCluster(cluster.kubeConfig),
      provider,
      sink: () => {},
    });
    await assertFinished(cluster, spec, before);
  });
});
