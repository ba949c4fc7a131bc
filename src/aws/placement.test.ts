import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { imageUri, tenantGroup, workloadRoleArn, workloadRoleName } from "../shared/aws-names.js";
import { isTenkaiError } from "../shared/errors.js";
import { definePlatform } from "../spec/define.js";
import type { PlatformInput } from "../spec/schema.js";
import { planTenantStacks, STACK_RESOURCE_GUARD, tenantResourceCount } from "./placement.js";

const raw = (): PlatformInput =>
  parse(readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8"));

function withTenants(count: number, servicesEach = 5): PlatformInput {
  const input = raw();
  input.spec.fargate = { profiles: [] };
  input.spec.tenants = Array.from({ length: count }, (_, i) => ({
    name: `t${String(i).padStart(4, "0")}`,
    access: [{ role: `arn:aws:iam::123456789012:role/t${i}-dev`, level: "edit" as const }],
    ciRole: `arn:aws:iam::123456789012:role/t${i}-ci`,
    services: Array.from({ length: servicesEach }, (_, s) => ({
      name: `svc-${s}`,
      image: `svc-${s}`,
      tag: "1.0.0",
      port: 8080,
      database: true,
      aws: {
        allow: [
          {
            actions: ["sqs:SendMessage"],
            resources: [`arn:aws:sqs:ap-northeast-1:123456789012:q-${i}-${s}`],
          },
        ],
      },
    })),
  }));
  return input;
}

describe("workload role names", () => {
  const platform = definePlatform(raw());
  it("are <platform>-<tenant>-<workload>, the ARN the IRSA annotation carries", () => {
    assert.equal(workloadRoleName(platform, "shop", "catalog-api"), "web-shop-catalog-api");
    assert.equal(
      workloadRoleArn(platform, "shop", "catalog-api"),
      "arn:aws:iam::123456789012:role/web-shop-catalog-api",
    );
  });
  it("stay within IAM's 64 characters for long names, deterministic and distinct", () => {
    const t = "a".repeat(40);
    const a = workloadRoleName(platform, t, `${"w".repeat(50)}-one`);
    const b = workloadRoleName(platform, t, `${"w".repeat(50)}-two`);
    assert.ok(a.length <= 64 && b.length <= 64, `${a} ${b}`);
    assert.notEqual(a, b);
    assert.equal(a, workloadRoleName(platform, t, `${"w".repeat(50)}-one`));
  });
  it("use the partition of the region", () => {
    const cn = definePlatform({
      ...raw(),
      spec: { ...raw().spec, aws: { account: "123456789012", region: "cn-north-1" } },
    });
    assert.match(workloadRoleArn(cn, "shop", "x"), /^arn:aws-cn:iam::/);
    assert.match(imageUri(cn, "shop", "api", "1.0"), /\.amazonaws\.com\.cn\/web\/shop\/api:1\.0$/);
  });
});

describe("tenant stack placement", () => {
  it("puts a fixed number of tenants per stack in spec order, so appending a tenant moves no one", () => {
    const before = planTenantStacks(definePlatform(withTenants(25)), 10);
    const afterAppend = planTenantStacks(definePlatform(withTenants(26)), 10);
    assert.deepEqual(
      before.map((p) => p.tenants.length),
      [10, 10, 5],
    );
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(
        afterAppend[i]?.tenants.map((t) => t.name),
        before[i]?.tenants.map((t) => t.name),
      );
    }
  });
  it("keeps 10 tenants of 5 services each well under CloudFormation's 500 resources", () => {
    const platform = definePlatform(withTenants(10));
    const [stack] = planTenantStacks(platform, 10);
    assert.ok(stack && stack.resourceCount < 300, `${stack?.resourceCount}`);
    assert.equal(tenantResourceCount(platform.spec.tenants[0] as never, platform), 5 + 1 + 2 + 1 + 5);
  });
  it("places each tenant role's access entry in its tenant's stack, with the tenant's group", () => {
    const placements = planTenantStacks(definePlatform(withTenants(3, 1)), 2);
    assert.deepEqual(
      placements.map((p) => p.accessEntries),
      [
        [
          { principalArn: "arn:aws:iam::123456789012:role/t0-dev", groups: [tenantGroup("t0000", "edit")] },
          { principalArn: "arn:aws:iam::123456789012:role/t1-dev", groups: [tenantGroup("t0001", "edit")] },
        ],
        [{ principalArn: "arn:aws:iam::123456789012:role/t2-dev", groups: [tenantGroup("t0002", "edit")] }],
      ],
    );
  });
  it("refuses a stack past the guard with a fix", () => {
    assert.throws(
      () => planTenantStacks(definePlatform(withTenants(40, 5)), 40),
      (e: unknown) =>
        isTenkaiError(e, "AWS_STACK_TOO_LARGE") &&
        /lower tenantsPerStack/.test(e.fix ?? "") &&
        e.message.includes(String(STACK_RESOURCE_GUARD)),
    );
  });
});
