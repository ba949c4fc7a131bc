import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isTransient } from "./apply.js";
import { KubeApiError } from "./client.js";

const req = { method: "PATCH", path: "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/cart-api" };
const err = (status: number, reason: string, message: string) =>
  new KubeApiError(status, reason, message, req);

describe("apply retries what a moment fixes, and only that", () => {
  it("retries the quota admission's lost race on the namespace's ResourceQuota (409)", () => {
    assert.ok(
      isTransient(
        err(
          409,
          "Conflict",
          'Operation cannot be fulfilled on resourcequotas "tenkai-quota": the object has been modified; please apply your changes to the latest version and try again',
        ),
      ),
    );
  });
  it("does not retry a field-manager conflict (409): that needs --force-conflicts", () => {
    assert.equal(
      isTransient(
        err(
          409,
          "Conflict",
          'Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas',
        ),
      ),
      false,
    );
  });
  it("retries throttling, server errors and quota status not yet known; not a refusal", () => {
    assert.ok(isTransient(err(429, "TooManyRequests", "slow down")));
    assert.ok(isTransient(err(503, "ServiceUnavailable", "unavailable")));
    assert.ok(isTransient(err(403, "Forbidden", "status unknown for quota: tenkai-quota")));
    assert.equal(isTransient(err(403, "Forbidden", "exceeded quota: tenkai-quota")), false);
  });
});
