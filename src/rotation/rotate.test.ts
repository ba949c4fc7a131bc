import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { apiError, FakeRotationCluster } from "../../test/support/fake-rotation-cluster.js";
import { isTenkaiError } from "../shared/errors.js";
import { RotationRun, resolveOptions } from "./rotate.js";
import type { StateStore } from "./state.js";
import type { RotationState } from "./types.js";

function run(c: FakeRotationCluster, clock: FakeClock, timeoutMs = 5_000) {
  const o = resolveOptions({
    group: "general",
    slotTemplate: {
      group: "general",
      instanceTypes: ["m6i.large"],
      desired: 1,
      min: 1,
      max: 2,
      zones: [],
      kubernetesVersion: "1.35",
      labels: {},
      taints: [],
      capacityType: "ON_DEMAND",
    },
    specActiveSlot: "blue",
    timeoutMs,
  });
  const state = { group: "general", phase: "draining" } as RotationState;
  return new RotationRun(
    o,
    { cluster: { clients: c.clients(), watch: async () => c.view() }, provider: {} as never },
    clock,
    c.clients(),
    {} as StateStore,
    c.view(),
    state,
    undefined,
  );
}

describe("waiting for moved Deployments", () => {
  it("a Deployment that could not be read is not ready: a 403 stops the run with ROTATION_READ_FAILED", async () => {
    const clock = new FakeClock();
    const c = new FakeRotationCluster(clock);
    c.addDeployment("web", { replicas: 2, nodes: ["green-0"] });
    c.deploymentFault = (call) => (call === "read" ? apiError(403, "forbidden") : undefined);
    await assert.rejects(run(c, clock).waitWorkloadsReady(["shop/web"]), (err: unknown) => {
      assert.ok(isTenkaiError(err, "ROTATION_READ_FAILED"), String(err));
      assert.equal(err.details?.deployment, "shop/web");
      return true;
    });
  });

  it("a transient read error is waited out like an unready Deployment", async () => {
    const clock = new FakeClock();
    const c = new FakeRotationCluster(clock);
    c.addDeployment("web", { replicas: 2, nodes: ["green-0"] });
    let reads = 0;
    c.deploymentFault = (call) =>
      call === "read" && ++reads <= 3 ? apiError(503, "unavailable") : undefined;
    await run(c, clock).waitWorkloadsReady(["shop/web"]);
    assert.equal(reads, 4);
    assert.deepEqual(clock.sleeps, [250, 250, 250]);
  });

  it("a Deployment that can never be read times out saying so, never counted as ready", async () => {
    const clock = new FakeClock();
    const c = new FakeRotationCluster(clock);
    c.addDeployment("web", { replicas: 2, nodes: ["green-0"] });
    c.deploymentFault = (call) => (call === "read" ? apiError(429, "slow down") : undefined);
    await assert.rejects(run(c, clock, 1_000).waitWorkloadsReady(["shop/web"]), (err: unknown) => {
      assert.ok(isTenkaiError(err, "ROTATION_TIMEOUT"), String(err));
      assert.match(err.message, /1 could not be read: slow down/);
      return true;
    });
  });

  it("waits for ready replicas, and a Deployment deleted meanwhile has nothing left to wait for", async () => {
    const clock = new FakeClock();
    const c = new FakeRotationCluster(clock);
    c.addDeployment("web", { replicas: 2, nodes: ["green-0"] });
    const web = c.deployments.get("shop/web")!;
    web.status = { readyReplicas: 1 };
    let reads = 0;
    c.deploymentFault = (call) => {
      if (call === "read" && ++reads === 3) web.status = { readyReplicas: 2 };
      return undefined;
    };
    await run(c, clock).waitWorkloadsReady(["shop/web", "shop/gone"]);
    assert.ok(reads >= 3);
  });
});
