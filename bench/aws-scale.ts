/**
 * Plans (synthesizes) the AWS plane of a generated platform of 1,000 tenants with 5 services each
 * and prints the synth time (target under 60 s), the largest stack's resource count (limit 500),
 * the number of stacks, and CloudFormation resources per tenant.
 *
 *   npx tsx bench/aws-scale.ts [tenants] [servicesPerTenant]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { definePlatform } from "../src/spec/define.js";
import type { PlatformInput } from "../src/spec/schema.js";

const tenants = Number(process.argv[2] ?? 1000);
const services = Number(process.argv[3] ?? 5);

const input: PlatformInput = parse(
  readFileSync(new URL("../examples/platform.yaml", import.meta.url), "utf8"),
);
input.spec.fargate = { profiles: [] };
input.spec.tenants = Array.from({ length: tenants }, (_, i) => ({
  name: `tenant-${String(i).padStart(4, "0")}`,
  access: [
    { role: `arn:aws:iam::123456789012:role/tenant-${i}-developers`, level: "edit" as const },
    { role: `arn:aws:iam::123456789012:role/tenant-${i}-oncall`, level: "view" as const },
  ],
  ciRole: `arn:aws:iam::123456789012:role/tenant-${i}-ci`,
  services: Array.from({ length: services }, (_, s) => ({
    name: `svc-${s}`,
    image: `svc-${s}`,
    tag: "1.0.0",
    port: 8080,
    route: { host: "api.example.com", path: `/t${i}/s${s}` },
    database: s < 2,
    ...(s < 3
      ? {
          aws: {
            allow: [
              {
                actions: ["sqs:SendMessage"],
                resources: [`arn:aws:sqs:ap-northeast-1:123456789012:t${i}-s${s}`],
              },
            ],
          },
        }
      : {}),
  })),
}));

const t0 = performance.now();
const platform = definePlatform(input);
const t1 = performance.now();
const { synthesizeAwsPlane } = await import("../src/aws/synth.js");
const t2 = performance.now();
const outdir = mkdtempSync(join(tmpdir(), "tenkai-aws-scale-"));
try {
  const result = await synthesizeAwsPlane(platform, { outdir });
  const t3 = performance.now();
  const largest = [...result.stacks].sort((a, b) => b.resourceCount - a.resourceCount)[0];
  const tenantStacks = result.stacks.filter((s) => s.stackName.includes("-tenants-"));
  const tenantResources = tenantStacks.reduce((n, s) => n + s.resourceCount, 0);
  console.log(
    `input: generated platform, ${tenants} tenants x ${services} services (2 with database, 3 with aws.allow), 2 access roles and a CI role each`,
  );
  console.log(`validate spec:            ${((t1 - t0) / 1000).toFixed(2)} s`);
  console.log(`load aws-cdk-lib:         ${((t2 - t1) / 1000).toFixed(2)} s`);
  console.log(`synthesize (plan) AWS:    ${((t3 - t2) / 1000).toFixed(2)} s   (target < 60 s)`);
  console.log(`stacks:                   ${result.stacks.length} (${tenantStacks.length} tenant stacks)`);
  console.log(
    `largest stack:            ${largest?.stackName} with ${largest?.resourceCount} resources (CloudFormation limit 500)`,
  );
  console.log(`resources per tenant:     ${(tenantResources / tenants).toFixed(1)} (tenant stacks only)`);
  const sizes = result.stacks.map((s) => statSync(join(result.assemblyDir, s.templateFile)).size);
  console.log(
    `largest template:         ${(Math.max(...sizes) / 1024).toFixed(0)} KiB (CloudFormation limit 1 MiB from S3, 51,200 bytes inline)`,
  );
  console.log(`total resources:          ${result.stacks.reduce((n, s) => n + s.resourceCount, 0)}`);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
