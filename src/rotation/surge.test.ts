import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../../test/support/fake-clock.js";
import { apiError, FakeRotationCluster } from "../../test/support/fake-rotation-cluster.js";
import { isTenkaiError } from "../shared/errors.js";
import { emitter } from "../shared/events.js";
import { SURGE_ANNOTATION, Surger, surgeRecord } from "./surge.js";
import type { RotationEvent } from "./types.js";

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

function setUp() {
  const clock = new FakeClock();
  const c = new FakeRotationCluster(clock);
  c.addDeployment("solo", { replicas: 1, nodes: ["blue-0"] });
  const events: RotationEvent[] = [];
  const surger = new Surger({
    clients: c.clients(),
    view: c.view(),
    group: "general",
    leaving: (n) => n.startsWith("blue-"),
    emit: emitter<RotationEvent>((e) => events.push(e), clock),
  });
  const dep = () => structuredClone(c.deployments.get("shop/solo")!);
  const oldPod = [...c.pods.values()][0]!;
  return { c, events, surger, dep, oldPod };
}

describe("surge", () => {
  it("scales up by one, recording the replicas it found, and allows the eviction once the replacement is Ready off the old nodes", async () => {
    const { c, events, surger, dep, oldPod } = setUp();
    assert.equal(surger.poke(dep(), oldPod), false, "not before the surge pod exists");
    await flush();
    assert.deepEqual(c.patches, ["shop/solo replicas=2"]);
    assert.deepEqual(surgeRecord(c.deployments.get("shop/solo")!), { group: "general", replicas: 1 });
    assert.equal(surger.poke(dep(), oldPod), true);
    assert.deepEqual(
      events.map((e) => e.code),
      ["rotation.surge.started", "rotation.surge.ready"],
    );
  });

  it("does not count a replacement on a node that is leaving", async () => {
    const { c, surger, dep, oldPod } = setUp();
    c.greenNodes = ["blue-1"];
    surger.poke(dep(), oldPod);
    await flush();
    assert.equal(surger.poke(dep(), oldPod), false);
  });

  it("restores the recorded replica count and removes the record", async () => {
    const { c, events, surger, dep, oldPod } = setUp();
    surger.poke(dep(), oldPod);
    await flush();
    await surger.restore("shop/solo");
    assert.deepEqual(c.patches, ["shop/solo replicas=2", "shop/solo replicas=1"]);
    assert.equal(c.deployments.get("shop/solo")?.metadata?.annotations?.[SURGE_ANNOTATION], undefined);
    assert.equal(events.at(-1)?.code, "rotation.surge.restored");
  });

  it("restoreAll scales back only what this group's rotation surged (a run killed halfway)", async () => {
    const { c, surger } = setUp();
    c.addDeployment("other", { replicas: 2, nodes: ["blue-0"] });
    c.deployments.get("shop/solo")!.metadata!.annotations = {
      [SURGE_ANNOTATION]: JSON.stringify({ group: "general", replicas: 1 }),
    };
    c.deployments.get("shop/other")!.metadata!.annotations = {
      [SURGE_ANNOTATION]: JSON.stringify({ group: "another-group", replicas: 2 }),
    };
    assert.deepEqual(await surger.restoreAll(), ["shop/solo"]);
    assert.deepEqual(c.patches, ["shop/solo replicas=1"]);
  });

  it("a failed scale-up surfaces as ROTATION_SURGE_FAILED on the next poke", async () => {
    const { c, surger, dep, oldPod } = setUp();
    c.deploymentFault = (call) => (call === "patch" ? apiError(403, "forbidden") : undefined);
    surger.poke(dep(), oldPod);
    await flush();
    assert.throws(
      () => surger.poke(dep(), oldPod),
      (err: unknown) =>
        isTenkaiError(err, "ROTATION_SURGE_FAILED") && /scaling up: forbidden/.test(err.message),
    );
  });
});
