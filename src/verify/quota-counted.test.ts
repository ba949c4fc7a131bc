import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeQuotaState, quotaCounted } from "./quota-counted.js";

describe("quota counted", () => {
  it("counts only when the controller enforces the written limit and counted every Ingress", () => {
    assert.equal(
      quotaCounted({ namespace: "orders", specHard: 1, statusHard: 1, used: 1, existing: 1 }),
      true,
    );
    // Behind: counted none of the one that exists (a second Ingress would be admitted).
    assert.equal(
      quotaCounted({ namespace: "orders", specHard: 1, statusHard: 1, used: 0, existing: 1 }),
      false,
    );
    // The limit is written but not yet taken up: admission does not enforce it.
    assert.equal(quotaCounted({ namespace: "orders", specHard: 1, existing: 1 }), false);
    // A loosened limit taken up is counted: a probe admitted then is a breach.
    assert.equal(
      quotaCounted({ namespace: "orders", specHard: 2, statusHard: 2, used: 1, existing: 1 }),
      true,
    );
    // No Ingress limit: nothing to wait for (the guard check reports a missing quota).
    assert.equal(quotaCounted({ namespace: "orders", existing: 1 }), true);
  });

  it("says what the quota held, for the breach message", () => {
    assert.equal(
      describeQuotaState({ namespace: "orders", specHard: 1, statusHard: 1, used: 0, existing: 1 }),
      "tenkai-quota in orders: Ingress limit 1 (enforced 1), 0 counted, 1 exist",
    );
    assert.equal(
      describeQuotaState({ namespace: "orders", specHard: 1, existing: 1 }),
      "tenkai-quota in orders: Ingress limit 1 (not yet taken up by the controller), none counted, 1 exist",
    );
  });
});
