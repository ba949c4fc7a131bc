import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decideAccess, decideProbe } from "./checks.js";

const ctx = { identity: "tenkai:shop:edit", action: "get secrets", target: "namespace users" };

describe("decideAccess", () => {
  it("passes a denied review and names the grant of an allowed one", () => {
    assert.equal(decideAccess({ allowed: false }, ctx).verdict, "pass");
    const breach = decideAccess(
      {
        allowed: true,
        reason: 'RBAC: allowed by RoleBinding "leak/users" of ClusterRole "view" to Group "tenkai:shop:edit"',
      },
      ctx,
    );
    assert.deepEqual([breach.verdict, breach.reason], ["breach", "ALLOWED"]);
    assert.match(
      breach.message,
      /tenkai:shop:edit may get secrets in namespace users: RBAC: allowed by RoleBinding "leak\/users"/,
    );
  });
});

describe("decideProbe", () => {
  const probe = {
    identity: "tenkai:shop:admin",
    action: "create a privileged pod",
    target: "namespace shop",
  };
  const cases: [string, { status: number; message: string }, Parameters<typeof decideProbe>[1], string][] = [
    ["accepted is a breach", { status: 201, message: "" }, { by: "pod-security" }, "breach"],
    [
      "rejected by PSA",
      { status: 403, message: 'pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged' },
      { by: "pod-security" },
      "pass",
    ],
    [
      "rejected by quota",
      { status: 403, message: "exceeded quota: tenkai-quota, requested: requests.cpu=13" },
      { by: "quota" },
      "pass",
    ],
    [
      "rejected by the named policy",
      {
        status: 422,
        message:
          "ValidatingAdmissionPolicy 'tenkai-images' with binding 'tenkai-images' denied request: image x",
      },
      { by: "policy", policy: "tenkai-images" },
      "pass",
    ],
    [
      "rejected by another policy proves nothing",
      { status: 422, message: "ValidatingAdmissionPolicy 'tenkai-ingress' with binding 'b' denied request" },
      { by: "policy", policy: "tenkai-images" },
      "error",
    ],
    [
      "RBAC refusing the identity proves nothing",
      { status: 403, message: 'pods is forbidden: User "u" cannot create resource "pods"' },
      { by: "pod-security" },
      "error",
    ],
  ];
  for (const [name, answer, expect, verdict] of cases) {
    it(name, () => assert.equal(decideProbe(answer, expect, probe).verdict, verdict));
  }
  it("passes RBAC refusing a level whose Role may not create the kind, and names an accepted one", () => {
    const view = { ...probe, identity: "tenkai:shop:view", mayCreate: false };
    const refused = { status: 403, message: 'pods is forbidden: User "u" cannot create resource "pods"' };
    assert.deepEqual(decideProbe(refused, { by: "pod-security" }, view).reason, "REFUSED_BY_RBAC");
    assert.equal(decideProbe({ status: 201, message: "" }, { by: "pod-security" }, view).verdict, "breach");
  });
  it("passes a template admitted with the Pod Security warning, and fails one admitted without it", () => {
    const warned = {
      status: 201,
      message: "",
      warnings: ['would violate PodSecurity "restricted:latest": privileged'],
    };
    assert.equal(decideProbe(warned, { by: "pod-security-warning" }, probe).verdict, "pass");
    assert.equal(
      decideProbe({ status: 201, message: "" }, { by: "pod-security-warning" }, probe).verdict,
      "breach",
    );
    assert.equal(
      decideProbe(warned, { by: "pod-security" }, probe).verdict,
      "breach",
      "a bare pod must be refused",
    );
  });
});
