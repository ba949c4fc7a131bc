/**
 * Fluent Bit's configuration on EC2 nodes does not grow with tenants: one output whose log group
 * comes from the tenant label on the namespace, the platform group for every other namespace.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { definePlatform } from "../../spec/define.js";
import type { PlatformInput } from "../../spec/schema.js";
import { FLUENT_BIT_IMAGE, fluentBit, fluentBitConfig } from "./logging.js";
import { tenantNamespace } from "./tenant-namespace.js";

function platformWithTenants(n: number) {
  const input = parse(
    readFileSync(new URL("../../../examples/platform.yaml", import.meta.url), "utf8"),
  ) as PlatformInput;
  input.spec.fargate = { profiles: [] };
  input.spec.tenants = Array.from({ length: n }, (_, i) => ({
    name: `team-${String(i).padStart(4, "0")}`,
    services: [{ name: "api", image: "api", tag: "1.0.0", port: 8080 }],
  }));
  return definePlatform(input);
}

describe("Fluent Bit on EC2 nodes", () => {
  it("renders the same bounded configuration for 1 and 1,000 tenants: one output, a log group template", () => {
    const one = fluentBitConfig(platformWithTenants(1));
    const thousand = fluentBitConfig(platformWithTenants(1000));
    assert.equal(thousand, one);
    assert.equal(thousand.match(/\[OUTPUT\]/g)?.length, 1);
    assert.ok(thousand.length < 2000, `${thousand.length} bytes`);
    assert.doesNotMatch(thousand, /team-0/);
    assert.match(thousand, /Namespace_Labels\s+On/);
    assert.match(
      thousand,
      /log_group_template\s+\/tenkai\/web\/\$kubernetes_namespace\['labels'\]\['tenkai\.dev\/tenant'\]/,
    );
    // Platform namespaces carry no tenant label: their records fall back to the platform group.
    assert.match(thousand, /log_group_name\s+\/tenkai\/web\/_platform/);
    assert.match(thousand, /auto_create_group\s+false/);
    console.log(
      `fluent-bit.conf: ${one.length} bytes for 1 tenant, ${thousand.length} bytes for 1,000 tenants`,
    );
  });

  it("the label the template reads is on tenant namespaces only", () => {
    const platform = platformWithTenants(1);
    const ns = tenantNamespace(platform, platform.spec.tenants[0] as (typeof platform.spec.tenants)[number]);
    assert.equal(ns.metadata.labels?.["tenkai.dev/tenant"], "team-0000");
    const ds = fluentBit(platform).find((o) => o.kind === "DaemonSet") as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    assert.equal(ds.spec.template.spec.containers[0]?.image, FLUENT_BIT_IMAGE);
    assert.match(FLUENT_BIT_IMAGE, /aws-for-fluent-bit:3\.\d+\.\d+$/);
  });
});
