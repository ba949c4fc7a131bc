import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXHAUSTIVE_BUDGET, exhaustiveSize, planReviews, type Target } from "./review-plan.js";

const namespacedTargets: Target[] = Array.from({ length: 50 }, (_, i) => ({
  group: "",
  resource: `r${i}`,
  verbs: ["get", "list", "create", "delete"],
}));
const clusterTargets: Target[] = Array.from({ length: 40 }, (_, i) => ({
  group: "",
  resource: `c${i}`,
  verbs: ["get", "create"],
}));
const tenants = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`);
const base = (n: number) => ({
  tenants: tenants(n),
  levels: ["view", "edit", "admin"] as const,
  namespacedTargets,
  clusterTargets,
});

describe("planReviews", () => {
  it("sweeps every resource and verb in every other namespace when exhaustive", () => {
    const plan = planReviews({ ...base(3), levels: ["view", "edit", "admin"], mode: "auto" });
    assert.equal(plan.mode, "exhaustive");
    assert.equal(plan.reviews.length, exhaustiveSize({ ...base(3), levels: ["view", "edit", "admin"] }));
    const cross = plan.reviews.filter((r) => r.identity === "tenkai:t0:edit" && r.kind === "cross-tenant");
    assert.deepEqual([...new Set(cross.map((r) => r.target))], ["t1", "t2"]);
    assert.equal(cross.length, 2 * 200);
  });

  it("goes targeted past the budget: full sweeps only where a binding names the group", () => {
    const n = 200;
    assert.ok(exhaustiveSize({ ...base(n), levels: ["view", "edit", "admin"] }) > EXHAUSTIVE_BUDGET);
    const bindings = {
      namespaced: new Map([["t150", new Set(["tenkai:t0:view"])]]),
      cluster: new Set<string>(),
    };
    const plan = planReviews({ ...base(n), levels: ["view", "edit", "admin"], mode: "auto", bindings });
    assert.equal(plan.mode, "targeted");
    const t0view = plan.reviews.filter((r) => r.identity === "tenkai:t0:view" && r.kind === "cross-tenant");
    assert.equal(t0view.filter((r) => r.target === "t150").length, 200, "full sweep where bound");
    assert.deepEqual([...new Set(t0view.map((r) => r.target))].sort(), ["t1", "t150", "t2", "t3"]);
    assert.ok(plan.reviews.length < EXHAUSTIVE_BUDGET, `${plan.reviews.length} reviews`);
  });
});

describe("who the reviews ask about", () => {
  const clusterWithSelfReviews: Target[] = [
    ...clusterTargets,
    { group: "authorization.k8s.io", resource: "selfsubjectaccessreviews", verbs: ["create"] },
    { group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies", verbs: ["delete"] },
  ];
  const plan = planReviews({
    ...base(2),
    clusterTargets: clusterWithSelfReviews,
    mode: "exhaustive",
    users: new Map([["t0", { edit: "arn:aws:sts::123456789012:assumed-role/t0-devs/tenkai-verify" }]]),
    serviceAccounts: new Map([["t0", "api"]]),
  });
  it("asks as the access entry's user with the tenant group and system:authenticated", () => {
    const edit = plan.reviews.find((r) => r.identity === "tenkai:t0:edit");
    assert.equal(edit?.user, "arn:aws:sts::123456789012:assumed-role/t0-devs/tenkai-verify");
    assert.deepEqual(edit?.groups, ["tenkai:t0:edit", "system:authenticated"]);
  });
  it("asks as the tenant's workloads: a ServiceAccount with the service-account groups", () => {
    const sa = plan.reviews.filter((r) => r.identity === "system:serviceaccounts:t0");
    assert.equal(sa[0]?.user, "system:serviceaccount:t0:api");
    assert.deepEqual(sa[0]?.groups, [
      "system:serviceaccounts",
      "system:serviceaccounts:t0",
      "system:authenticated",
    ]);
    assert.deepEqual([...new Set(sa.map((r) => r.kind))].sort(), [
      "cluster-scoped",
      "cross-tenant",
      "guard-write",
    ]);
  });
  it("sweeps the cluster scope as everyone, leaving out what Kubernetes gives every user", () => {
    const anyone = plan.reviews.filter(
      (r) => r.identity === "system:authenticated" && r.target === "(cluster)",
    );
    assert.ok(
      anyone.some((r) => r.attrs.resource === "validatingadmissionpolicies" && r.attrs.verb === "delete"),
    );
    assert.ok(!plan.reviews.some((r) => r.attrs.resource === "selfsubjectaccessreviews"));
    assert.equal(plan.reviews.length, exhaustiveSize({ ...base(2), clusterTargets: clusterWithSelfReviews }));
  });
});
