import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateText } from "./load.js";

/** A small valid spec; cases below edit one line of it (1-based) and expect one problem there. */
const BASE = [
  "apiVersion: tenkai.dev/v1alpha1", // 1
  "kind: Platform", // 2
  "metadata:", // 3
  "  name: web", // 4
  "spec:", // 5
  "  aws:", // 6
  '    account: "123456789012"', // 7
  "    region: ap-northeast-1", // 8
  "  cluster:", // 9
  '    version: "1.35"', // 10
  "  nodeGroups:", // 11
  "    - name: general", // 12
  "      instanceTypes: [m6i.large]", // 13
  "      min: 3", // 14
  "      max: 6", // 15
  "  tenants:", // 16
  "    - name: shop", // 17
  '      quota: { cpu: "8", memory: 16Gi, pods: 40 }', // 18
  "      services:", // 19
  "        - name: api", // 20
  "          image: api", // 21
  '          tag: "1.0.0"', // 22
  "          port: 8080", // 23
  "          route: { host: api.example.com, path: /api }", // 24
  "      cronJobs:", // 25
  "        - name: nightly", // 26
  '          schedule: "0 3 * * *"', // 27
  "          image: batch", // 28
  '          tag: "2.0.0"', // 29
];

function variant(edits: Record<number, string | null>, append: string[] = []): string {
  const lines = BASE.flatMap((text, i) => {
    const edit = edits[i + 1];
    if (edit === null) return [];
    return edit === undefined ? [text] : edit.split("\n");
  });
  return [...lines, ...append].join("\n");
}

const NOW = new Date("2026-11-28T00:00:00Z");

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly code: string;
  readonly line: number;
  readonly column: number;
  readonly path?: string;
  readonly message: RegExp;
  readonly fix?: RegExp;
}

const cases: Case[] = [
  {
    name: "unknown top-level field with did-you-mean",
    yaml: variant({ 2: "kind: Platform\nmetdata: {}" }),
    code: "SPEC_UNKNOWN_FIELD",
    line: 3,
    column: 1,
    path: "metdata",
    message: /unknown field "metdata"; did you mean "metadata"\?/,
  },
  {
    name: "misspelt service field",
    yaml: variant({ 23: "          prot: 8080" }),
    code: "SPEC_UNKNOWN_FIELD",
    line: 23,
    column: 11,
    path: "spec.tenants[0].services[0].prot",
    message: /did you mean "port"/,
    fix: /rename it to "port"/,
  },
  {
    name: "unknown field with no close match lists the allowed ones",
    yaml: variant({ 15: "      max: 6\n      colour: blue" }),
    code: "SPEC_UNKNOWN_FIELD",
    line: 16,
    column: 7,
    message: /unknown field "colour"/,
    fix: /fields allowed here: name, instanceTypes/,
  },
  {
    name: "wrong apiVersion",
    yaml: variant({ 1: "apiVersion: tenkai.dev/v1" }),
    code: "SPEC_INVALID_VALUE",
    line: 1,
    column: 13,
    path: "apiVersion",
    message: /apiVersion must be tenkai.dev\/v1alpha1/,
  },
  {
    name: "wrong kind",
    yaml: variant({ 2: "kind: Cluster" }),
    code: "SPEC_INVALID_VALUE",
    line: 2,
    column: 7,
    message: /kind must be Platform/,
  },
  {
    name: "account as a number loses its leading zeros",
    yaml: variant({ 7: "    account: 012345678901" }),
    code: "SPEC_WRONG_TYPE",
    line: 7,
    column: 14,
    path: "spec.aws.account",
    message: /expected string, got number/,
  },
  {
    name: "account of 11 digits",
    yaml: variant({ 7: '    account: "12345678901"' }),
    code: "SPEC_INVALID_VALUE",
    line: 7,
    column: 14,
    message: /12-digit AWS account id/,
  },
  {
    name: "region typo",
    yaml: variant({ 8: "    region: tokyo" }),
    code: "SPEC_INVALID_VALUE",
    line: 8,
    column: 13,
    message: /expected an AWS region like ap-northeast-1/,
  },
  {
    name: "missing aws block",
    yaml: variant({ 6: null, 7: null, 8: null }),
    code: "SPEC_MISSING_FIELD",
    line: 6,
    column: 3,
    path: "spec.aws",
    message: /required field is missing/,
    fix: /add "aws"/,
  },
  {
    name: "unquoted version 1.30 reads as the number 1.3",
    yaml: variant({ 10: "    version: 1.3" }),
    code: "SPEC_INVALID_VALUE",
    line: 10,
    column: 14,
    message: /Kubernetes minor version like "1.35"/,
  },
  {
    name: "version EKS does not offer",
    yaml: variant({ 10: '    version: "1.99"' }),
    code: "SPEC_VERSION_UNKNOWN",
    line: 10,
    column: 14,
    message: /EKS does not offer Kubernetes 1.99/,
    fix: /use one of .*1.35/,
  },
  {
    name: "version past extended support",
    yaml: variant({ 10: '    version: "1.29"' }),
    code: "SPEC_VERSION_ENDED",
    line: 10,
    column: 14,
    message: /left EKS extended support on 2026-03-23/,
  },
  {
    name: "instance type without a size",
    yaml: variant({ 13: "      instanceTypes: [m6i]" }),
    code: "SPEC_INVALID_VALUE",
    line: 13,
    column: 23,
    path: "spec.nodeGroups[0].instanceTypes[0]",
    message: /EC2 instance type like m6i.large/,
  },
  {
    name: "min above max",
    yaml: variant({ 14: "      min: 9" }),
    code: "SPEC_MIN_OVER_MAX",
    line: 14,
    column: 12,
    message: /min \(9\) is above max \(6\)/,
  },
  {
    name: "negative min",
    yaml: variant({ 14: "      min: -1" }),
    code: "SPEC_OUT_OF_RANGE",
    line: 14,
    column: 12,
    message: /got number -1/,
    fix: /at least 0/,
  },
  {
    name: "empty node group list",
    yaml: variant({ 11: "  nodeGroups: []", 12: null, 13: null, 14: null, 15: null }),
    code: "SPEC_OUT_OF_RANGE",
    line: 11,
    column: 15,
    message: /at least one node group/,
  },
  {
    name: "tenant name with upper case",
    yaml: variant({ 17: "    - name: Shop" }),
    code: "SPEC_INVALID_VALUE",
    line: 17,
    column: 13,
    path: "spec.tenants[0].name",
    message: /tenant name must be a DNS label/,
  },
  {
    name: "tenant takes a reserved namespace",
    yaml: variant({ 17: "    - name: kube-system" }),
    code: "SPEC_RESERVED_NAME",
    line: 17,
    column: 13,
    message: /namespace the cluster or tenkai owns/,
  },
  {
    name: "port out of range",
    yaml: variant({ 23: "          port: 70000" }),
    code: "SPEC_OUT_OF_RANGE",
    line: 23,
    column: 17,
    message: /got number 70000/,
    fix: /at most 65535/,
  },
  {
    name: "port as a string",
    yaml: variant({ 23: '          port: "8080"' }),
    code: "SPEC_WRONG_TYPE",
    line: 23,
    column: 17,
    message: /expected number, got string "8080"/,
  },
  {
    name: "mutable latest tag",
    yaml: variant({ 22: "          tag: latest" }),
    code: "SPEC_INVALID_VALUE",
    line: 22,
    column: 16,
    message: /'latest' is mutable/,
  },
  {
    name: "image with a registry host",
    yaml: variant({ 21: "          image: docker.io/library/nginx:1.27" }),
    code: "SPEC_INVALID_VALUE",
    line: 21,
    column: 18,
    message:
      /"docker\.io" is a registry host: an image here is a repository name in the tenant's own ECR prefix/,
  },
  {
    name: "route path without a leading slash",
    yaml: variant({ 24: "          route: { host: api.example.com, path: api }" }),
    code: "SPEC_INVALID_VALUE",
    line: 24,
    column: 49,
    path: "spec.tenants[0].services[0].route.path",
    message: /absolute URL path/,
  },
  {
    name: "cron schedule with six fields",
    yaml: variant({ 27: '          schedule: "0 0 3 * * *"' }),
    code: "SPEC_INVALID_VALUE",
    line: 27,
    column: 21,
    message: /cron schedule of five fields/,
  },
  {
    name: "cron hour out of range",
    yaml: variant({ 27: '          schedule: "0 25 * * *"' }),
    code: "SPEC_INVALID_VALUE",
    line: 27,
    column: 21,
    message: /cron schedule/,
  },
  {
    name: "memory quantity without a unit suffix typo",
    yaml: variant({ 18: '      quota: { cpu: "8", memory: 16GB, pods: 40 }' }),
    code: "SPEC_INVALID_VALUE",
    line: 18,
    column: 34,
    path: "spec.tenants[0].quota.memory",
    message: /memory quantity like 512Mi/,
  },
  {
    name: "enum value with did-you-mean",
    yaml: variant({ 15: "      max: 6\n      capacityType: SPOTS" }),
    code: "SPEC_INVALID_VALUE",
    line: 16,
    column: 21,
    message: /expected one of "ON_DEMAND", "SPOT"/,
    fix: /did you mean "SPOT"/,
  },
  {
    name: "duplicate tenant",
    yaml: variant({}, ["    - name: shop"]),
    code: "SPEC_DUPLICATE_TENANT",
    line: 30,
    column: 13,
    message: /tenant "shop" is already defined at spec.tenants\[0\]/,
  },
  {
    name: "cron job and service share a name",
    yaml: variant({ 26: "        - name: api" }),
    code: "SPEC_DUPLICATE_WORKLOAD",
    line: 26,
    column: 17,
    message: /"api" is already used by spec.tenants\[0\].services\[0\]/,
  },
  {
    name: "two services claim the same host and path",
    yaml: variant({}, [
      "    - name: other",
      "      services:",
      "        - { name: api2, image: api2, tag: '1', port: 80, route: { host: api.example.com, path: /api/ } }",
    ]),
    code: "SPEC_ROUTE_CLASH",
    line: 32,
    column: 96,
    message: /api.example.com\/api is already routed to shop\/api/,
  },
  {
    name: "Fargate selector names a namespace no tenant has",
    yaml: variant({
      15: "      max: 6\n  fargate:\n    profiles:\n      - { name: batch, selectors: [{ namespace: shops }] }",
    }),
    code: "SPEC_FARGATE_UNKNOWN_NAMESPACE",
    line: 18,
    column: 49,
    message: /namespace "shops", which is no tenant's/,
    fix: /did you mean shop\?/,
  },
  {
    name: "VPC CIDR with host bits set",
    yaml: variant({ 15: "      max: 6\n  network: { vpcCidr: 10.0.0.1/16 }" }),
    code: "SPEC_INVALID_VALUE",
    line: 16,
    column: 23,
    message: /IPv4 CIDR/,
  },
  {
    name: "VPC too small for nodes and pods during a rotation",
    yaml: variant({ 15: "      max: 200\n  network: { vpcCidr: 10.0.0.0/22 }" }),
    code: "SPEC_SUBNETS_TOO_SMALL",
    line: 16,
    column: 23,
    message: /need \d+ for nodes and pods/,
  },
  {
    name: "publicCidrs while the public endpoint is off",
    yaml: variant({
      10: '    version: "1.35"\n    endpoint: { public: false, publicCidrs: [203.0.113.0/24] }',
    }),
    code: "SPEC_ENDPOINT_CIDRS_UNUSED",
    line: 11,
    column: 45,
    message: /public endpoint is off/,
  },
  {
    name: "services over the tenant's CPU quota",
    yaml: variant({ 18: '      quota: { cpu: "100m", memory: 16Gi, pods: 40 }' }),
    code: "SPEC_QUOTA_CPU",
    line: 18,
    column: 21,
    message: /services request 0.5 CPU at their minimum replicas; the quota allows 100m/,
  },
  {
    name: "database asked for but not defined",
    yaml: variant({ 23: "          port: 8080\n          database: true" }),
    code: "SPEC_NO_DATABASE",
    line: 24,
    column: 21,
    message: /asks for the database but spec.database is not set/,
  },
  {
    name: "log retention CloudWatch does not accept",
    yaml: variant({ 15: "      max: 6\n  logging: { retentionDays: 10 }" }),
    code: "SPEC_INVALID_VALUE",
    line: 16,
    column: 29,
    message: /retention must be one of 1, 3, 5, 7, 14, 30/,
  },
  {
    name: "aws.allow pattern that reaches the platform's roles",
    yaml: variant({
      23: "          port: 8080\n          aws: { allow: [{ actions: [iam:PassRole], resources: ['arn:aws:iam::*:role/*'] }] }",
    }),
    code: "SPEC_ALLOW_REACHES_OTHERS",
    line: 24,
    column: 65,
    path: "spec.tenants[0].services[0].aws.allow[0].resources[0]",
    message: /also matches the platform's arn:aws:iam::123456789012:role\//,
  },
  {
    name: "tabs in indentation",
    yaml: variant({ 14: "\t  min: 3" }),
    code: "SPEC_YAML_TAB",
    line: 14,
    column: 1,
    message: /tab/i,
  },
  {
    name: "duplicate key",
    yaml: variant({ 23: "          port: 8080\n          port: 9090" }),
    code: "SPEC_YAML_SYNTAX",
    line: 24,
    column: 11,
    message: /unique/i,
    fix: /remove or rename the repeated key/,
  },
];

describe("spec loader: malformed specs", () => {
  it("accepts the base spec once someone can administer the cluster", () => {
    const r = validateText(variant({ 10: '    version: "1.35"\n    creatorAdmin: true' }), "p.yaml", {
      now: NOW,
    });
    assert.deepEqual(r.problems, []);
    assert.ok(r.platform);
  });

  it("refuses a spec that would lock every administrator out", () => {
    const r = validateText(variant({}), "p.yaml", { now: NOW });
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.severity, p.path]),
      [["SPEC_NO_ADMIN", "error", "spec.cluster.adminRoles"]],
    );
    assert.match(r.problems[0]?.fix ?? "", /adminRoles/);
  });

  for (const c of cases) {
    it(c.name, () => {
      const r = validateText(c.yaml, "platform.yaml", { now: NOW });
      assert.equal(r.platform, undefined, "a spec with errors yields no platform");
      const p = r.problems.find((x) => x.code === c.code);
      assert.ok(p, `expected ${c.code}, got ${JSON.stringify(r.problems, null, 1)}`);
      assert.equal(p.file, "platform.yaml");
      assert.deepEqual({ line: p.line, column: p.column }, { line: c.line, column: c.column }, p.message);
      assert.match(p.message, c.message);
      if (c.path) assert.equal(p.path, c.path);
      if (c.fix) assert.match(p.fix ?? "", c.fix);
      assert.ok(p.fix, "every problem says how to fix it");
    });
  }

  it("reports every problem at once, in file order", () => {
    const yaml = variant({ 8: "    region: tokyo", 14: "      min: -1", 23: "          prot: 8080" });
    const r = validateText(yaml, "platform.yaml", { now: NOW });
    assert.deepEqual(
      r.problems.map((p) => [p.code, p.line]),
      [
        ["SPEC_INVALID_VALUE", 8],
        ["SPEC_OUT_OF_RANGE", 14],
        ["SPEC_MISSING_FIELD", 20],
        ["SPEC_UNKNOWN_FIELD", 23],
      ],
    );
  });
});
