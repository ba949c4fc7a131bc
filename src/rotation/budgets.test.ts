import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod, V1PodDisruptionBudget } from "@kubernetes/client-node";
import { FakeClock } from "../../test/support/fake-clock.js";
import { BudgetTracker } from "./budgets.js";

const pdb = (
  status: { allowed: number; disrupted?: string[]; observed?: number },
  generation = 1,
): V1PodDisruptionBudget => ({
  metadata: { name: "web", namespace: "shop", generation },
  spec: { selector: { matchLabels: { app: "web" } }, minAvailable: 2 },
  status: {
    currentHealthy: 3,
    desiredHealthy: 2,
    expectedPods: 3,
    disruptionsAllowed: status.allowed,
    disruptedPods: Object.fromEntries((status.disrupted ?? []).map((p) => [p, new Date(0)])),
    observedGeneration: status.observed ?? generation,
  },
});
const pod = (name: string, app = "web"): V1Pod => ({
  metadata: { name, namespace: "shop", labels: { app } },
});

describe("budget tracking", () => {
  it("allows the status's disruptions minus this run's evictions the status does not show yet", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 2 }));
    assert.deepEqual(t.budgetsFor(pod("web-0")), ["shop/web"]);
    assert.deepEqual(t.budgetsFor(pod("api-0", "api")), []);
    t.reserve(["shop/web"], "web-0");
    assert.equal(t.status("shop/web").allowed, 1);
    t.reserve(["shop/web"], "web-1");
    assert.equal(t.status("shop/web").allowed, 0, "two in flight spend both");
    t.release(["shop/web"], "web-1");
    assert.equal(t.status("shop/web").allowed, 1, "a refused eviction gives the budget back");
  });

  it("holds the next eviction under a budget until the previous one's status write is watched, not until its answer", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 2 }));
    assert.equal(t.requesting("shop/web"), false);
    t.reserve(["shop/web"], "web-0");
    assert.equal(t.requesting("shop/web"), true, "sent, its status write not seen: the next would collide");
    t.upsert(pdb({ allowed: 1, disrupted: ["web-0"] }));
    assert.equal(t.requesting("shop/web"), false, "the write is done though the answer is not back");
    assert.equal(t.status("shop/web").allowed, 0, "and it is still counted against the budget");
    t.reserve(["shop/web"], "web-1");
    t.podGone("shop", "web-1");
    assert.equal(t.requesting("shop/web"), false, "a pod seen terminating was written before it went");
    t.reserve(["shop/web"], "web-2");
    t.release(["shop/web"], "web-2");
    assert.equal(t.requesting("shop/web"), false, "a refused eviction holds nothing");
  });

  it("stops counting an accepted eviction once the status lists the pod as disrupted", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    t.accepted(["shop/web"], "web-0");
    assert.equal(t.status("shop/web").allowed, 0);
    // The eviction subresource wrote disruptedPods and allowed-1 together.
    t.upsert(pdb({ allowed: 0, disrupted: ["web-0"] }));
    assert.equal(t.status("shop/web").inFlight, 0);
    assert.equal(t.status("shop/web").allowed, 0);
  });

  it("stops counting when the pod is gone and the budget changed since", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    t.accepted(["shop/web"], "web-0");
    t.podGone("shop", "web-0");
    assert.equal(t.status("shop/web").inFlight, 1, "counted until the budget is seen again");
    t.upsert(pdb({ allowed: 1 }));
    assert.equal(t.status("shop/web").allowed, 1);
  });

  it("lets go of an eviction whose status write and pod deletion were watched before its answer", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    // Watch events overtake the HTTP answer: the eviction's own write, the pod terminating, then
    // the controller's recount that drops the terminating pod from disruptedPods again.
    t.upsert(pdb({ allowed: 0, disrupted: ["web-0"] }));
    t.podGone("shop", "web-0");
    t.upsert(pdb({ allowed: 0 }));
    assert.equal(t.status("shop/web").allowed, -1, "still requesting: counted");
    t.accepted(["shop/web"], "web-0");
    assert.equal(t.status("shop/web").inFlight, 0, "the status showed it: not counted twice");
    t.upsert(pdb({ allowed: 1 }));
    assert.equal(
      t.status("shop/web").allowed,
      1,
      "the replacement is Ready: one more, at once, not after the expiry",
    );
  });

  it("lets go after the next status when the pod was seen terminating before the answer", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now());
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    t.podGone("shop", "web-0");
    t.accepted(["shop/web"], "web-0");
    assert.equal(t.status("shop/web").inFlight, 1, "counted until the budget is seen again");
    t.upsert(pdb({ allowed: 1 }));
    assert.equal(t.status("shop/web").inFlight, 0);
  });

  it("forgets an answered eviction the status never shows after the expiry (unhealthy pods)", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now(), 10_000);
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    t.accepted(["shop/web"], "web-0");
    clock.advance(9_000);
    assert.equal(t.status("shop/web").allowed, 0);
    clock.advance(2_000);
    assert.equal(t.status("shop/web").allowed, 1);
  });

  it("a request still in flight is counted however long it takes", () => {
    const clock = new FakeClock();
    const t = new BudgetTracker(() => clock.now(), 10_000);
    t.upsert(pdb({ allowed: 1 }));
    t.reserve(["shop/web"], "web-0");
    clock.advance(60_000);
    assert.equal(t.status("shop/web").allowed, 0);
  });

  it("allows nothing while the status is older than the spec (the controller has not caught up)", () => {
    const t = new BudgetTracker(() => 0);
    t.upsert(pdb({ allowed: 3, observed: 1 }, 2));
    assert.equal(t.status("shop/web").allowed, 0);
    assert.equal(t.status("shop/web").statusAllowed, 0);
    t.upsert(pdb({ allowed: 3, observed: 2 }, 2));
    assert.equal(t.status("shop/web").allowed, 3);
  });

  it("forgets a deleted budget", () => {
    const t = new BudgetTracker(() => 0);
    const b = pdb({ allowed: 1 });
    t.upsert(b);
    t.remove(b);
    assert.deepEqual(t.budgetsFor(pod("web-0")), []);
    assert.deepEqual(t.all(), []);
  });
});
