/**
 * Late-bound values: the VPC id from the AWS plane, and the webhook serving certificate reused
 * from the cluster's Secret or made on the first apply (never committed, never in a plan).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { isTenkaiError } from "../../shared/errors.js";
import { loadPlatform } from "../../spec/load.js";
import { albController, LATE_VPC_ID } from "../render/alb-controller.js";
import { hasLateBound, resolveLateBound, webhookDnsNames } from "./late-bound.js";

const platform = await loadPlatform(new URL("../../../examples/platform.yaml", import.meta.url).pathname);
const objects = albController(platform);
const none = async () => undefined;
const secretOf = (objs: readonly { kind: string; data?: unknown }[]) =>
  objs.find((o) => o.kind === "Secret")?.data as Record<string, string>;

describe("late-bound values", () => {
  it("the render carries the VPC id and the certificate as late-bound values, and no key", () => {
    assert.ok(hasLateBound(objects));
    assert.ok(JSON.stringify(objects).includes(LATE_VPC_ID));
    assert.doesNotMatch(JSON.stringify(objects), /BEGIN (EC |RSA )?PRIVATE KEY/);
  });

  it("fills the VPC id and makes a CA and serving certificate for the webhook Service on the first apply", async () => {
    const out = await resolveLateBound(objects, { vpcId: "vpc-0abc", readSecret: none });
    assert.ok(!hasLateBound(out));
    assert.ok(JSON.stringify(out).includes("--aws-vpc-id=vpc-0abc"));
    const data = secretOf(out);
    const ca = new X509Certificate(Buffer.from(data["ca.crt"] ?? "", "base64"));
    const cert = new X509Certificate(Buffer.from(data["tls.crt"] ?? "", "base64"));
    assert.ok(ca.ca && cert.verify(ca.publicKey));
    for (const name of webhookDnsNames(objects)) assert.equal(cert.checkHost(name), name);
    assert.ok(webhookDnsNames(objects).includes("aws-load-balancer-webhook-service.kube-system.svc"));
  });

  it("reuses the certificate the cluster already holds", async () => {
    const held = { "ca.crt": "Y2E=", "tls.crt": "Y2VydA==", "tls.key": "a2V5" };
    const out = await resolveLateBound(objects, {
      vpcId: "vpc-0abc",
      readSecret: async (ns, name) =>
        ns === "kube-system" && name === "aws-load-balancer-tls" ? held : undefined,
      makeTls: () => assert.fail("must not make a new certificate while one is held"),
    });
    assert.deepEqual(secretOf(out), held);
    const hooks = out.filter((o) => o.kind.endsWith("WebhookConfiguration"));
    for (const h of hooks)
      for (const w of h.webhooks as { clientConfig: { caBundle: string } }[])
        assert.equal(w.clientConfig.caBundle, "Y2E=");
  });

  it("says where to get the VPC id when the AWS plane gave none", async () => {
    await assert.rejects(resolveLateBound(objects, { readSecret: none }), (e: unknown) => {
      assert.ok(isTenkaiError(e, "KUBE_VPC_ID_UNKNOWN"));
      assert.match(e.fix ?? "", /--vpc-id/);
      return true;
    });
  });
});
