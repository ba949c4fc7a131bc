import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderKubernetesPlane } from "../kube/render/render.js";
import { loadPlatform } from "../spec/load.js";
import { localPlane } from "./plane.js";

/** Rendered objects are plain data; tests read them by path. */
// biome-ignore lint/suspicious/noExplicitAny: reading rendered manifests by path in assertions
type Loose = any;

const PROBE = "tenkai.local/probe:v1";

describe("the local plane", async () => {
  const platform = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
  const rendered = renderKubernetesPlane(platform);
  const local = localPlane(rendered, PROBE);
  const find = (kind: string, ns: string | undefined, name: string) =>
    local.objects.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name) as
      | { spec: Loose }
      | undefined;

  it("runs every service on the probe image, serving the service's port, and reports each swap", () => {
    const d = find("Deployment", "shop", "storefront");
    assert.ok(d, "the Deployment is kept");
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.image, PROBE);
    assert.equal(c.imagePullPolicy, "IfNotPresent");
    assert.deepEqual(c.args.slice(0, 3), ["serve", "--http", ":3000"]);
    assert.equal(c.command, undefined);
    const services = platform.spec.tenants.flatMap((t) => t.services);
    const deployments = local.replaced.filter((r) => r.kind === "Deployment");
    assert.equal(deployments.length, services.length);
    assert.ok(deployments.every((r) => r.from.includes(".dkr.ecr.") && r.to === PROBE));
  });

  it("suspends cron jobs and says so", () => {
    assert.equal(find("CronJob", "shop", "nightly-report")?.spec.suspend, true);
    assert.deepEqual([...local.suspended].sort(), ["orders/invoice-batch", "shop/nightly-report"]);
  });

  it("leaves out the AWS-only platform controllers with a reason, keeps their CRDs", () => {
    const left = local.left.map((l) => l.ref);
    for (const ref of [
      "DaemonSet/tenkai-system/fluent-bit",
      "Deployment/kube-system/aws-load-balancer-controller",
    ])
      assert.ok(left.includes(ref), `${ref} is left out`);
    assert.ok(
      left.every((r) => /^(Deployment|DaemonSet)\//.test(r)),
      "only platform controllers are left out",
    );
    assert.ok(local.left.every((l) => l.reason.length > 20));
    assert.ok(local.objects.some((o) => o.kind === "CustomResourceDefinition"));
  });

  it("lets the image policy admit the probe image and nothing else new", () => {
    const p = find("ValidatingAdmissionPolicy", undefined, "tenkai-images");
    const text = JSON.stringify(p?.spec);
    assert.match(
      text,
      /c\.image == 'tenkai\.local\/probe:v1' \|\| c\.image\.startsWith\(variables\.prefix\) && /,
    );
    assert.doesNotMatch(
      text.replaceAll("(c.image == 'tenkai.local/probe:v1' || c.image.startsWith(variables.prefix) && ", ""),
      /c\.image\.startsWith\(variables\.prefix\)/,
    );
  });

  it("does not change the rendered plane it was given", () => {
    const again = renderKubernetesPlane(platform);
    assert.deepEqual(rendered, again);
  });
});
