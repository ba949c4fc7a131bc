/**
 * Issue 10, "inputs accepted that must not be": each value with a known domain is checked by
 * `validate`, and nothing `validate` passes makes `plan` fail.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EXAMPLE, tenkai } from "./support.js";

const example = readFileSync(EXAMPLE, "utf8");

async function specWith(edit: (text: string) => string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "tenkai-refuse-"));
  const file = join(dir, "platform.yaml");
  const text = edit(example);
  assert.notEqual(text, example, "the edit applied");
  await writeFile(file, text);
  return { dir, file };
}

async function validateJson(file: string) {
  const r = await tenkai(["validate", file, "-o", "json"]);
  return {
    code: r.code,
    doc: JSON.parse(r.stdout) as {
      problems: { code: string; path: string; message: string; fix: string; line?: number }[];
    },
  };
}

describe("validate refuses values outside their domain, naming the place and the fix", () => {
  const cases: {
    name: string;
    edit: (t: string) => string;
    code: string;
    path: string;
    message: RegExp;
    fix: RegExp;
  }[] = [
    {
      name: "an image with a registry host (docker.io)",
      edit: (t) => t.replace("image: catalog-api", "image: docker.io/library/nginx"),
      code: "SPEC_INVALID_VALUE",
      path: "spec.tenants[0].services[0].image",
      message: /"docker\.io" is a registry host.*tenant's own ECR prefix/,
      fix: /write only the repository name/,
    },
    {
      name: "an image from another account's ECR",
      edit: (t) => t.replace("image: catalog-api", "image: 999999999999.dkr.ecr.us-east-1.amazonaws.com/app"),
      code: "SPEC_INVALID_VALUE",
      path: "spec.tenants[0].services[0].image",
      message: /999999999999\.dkr\.ecr\.us-east-1\.amazonaws\.com" is a registry host/,
      fix: /push the image to the tenant's ECR prefix/,
    },
    {
      name: "a misspelt instance type",
      edit: (t) => t.replace("instanceTypes: [m6i.large,", "instanceTypes: [m6i.lrge,"),
      code: "SPEC_UNKNOWN_INSTANCE_TYPE",
      path: "spec.nodeGroups[0].instanceTypes[0]",
      message: /"m6i\.lrge".*did you mean "m6i\.large"/,
      fix: /^write m6i\.large$/,
    },
    {
      name: "a region that does not exist",
      edit: (t) => t.replace("region: ap-northeast-1 }", "region: ap-northeast-9 }"),
      code: "SPEC_UNKNOWN_REGION",
      path: "spec.aws.region",
      message: /"ap-northeast-9" is not an AWS region/,
      fix: /write region: ap-northeast-1/,
    },
    {
      name: "a certificate from another region",
      edit: (t) => t.replace("arn:aws:acm:ap-northeast-1:", "arn:aws:acm:us-east-1:"),
      code: "SPEC_CERTIFICATE_REGION",
      path: "spec.ingress.certificateArn",
      message: /certificate is in us-east-1, the platform in ap-northeast-1/,
      fix: /in ACM in ap-northeast-1/,
    },
    {
      name: "a tenant's route under another tenant's path on the same host",
      edit: (t) => t.replace("path: /orders }", "path: /catalog/admin }"),
      code: "SPEC_ROUTE_OVERLAP",
      path: "spec.tenants[2].services[0].route.path",
      message:
        /api\.example\.com\/catalog\/admin lies under api\.example\.com\/catalog, which tenant shop owns/,
      fix: /outside \/catalog\//,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { file } = await specWith(c.edit);
      const { code, doc } = await validateJson(file);
      assert.equal(code, 2);
      const p = doc.problems.find((x) => x.code === c.code);
      assert.ok(p, JSON.stringify(doc.problems, null, 1));
      assert.equal(p.path, c.path);
      assert.match(p.message, c.message);
      assert.match(p.fix, c.fix);
      assert.ok(p.line && p.line > 1, "a line in the file");
    });
  }

  it("more than 100 routes on one host: refused by validate, not first by plan", async () => {
    const tenants = Array.from(
      { length: 101 },
      (_, i) =>
        `    - name: t${i}\n      services:\n        - { name: api, image: api, tag: "1.0.0", port: 80, route: { host: one.example.com, path: /t${i} } }\n`,
    ).join("");
    const { file } = await specWith((t) =>
      t
        .replace(/\n {2}tenants:\n[\s\S]*?\nenvironments:/, `\n  tenants:\n${tenants}environments:`)
        .replace(/\n {2}fargate:\n(?: {4}.*\n)+/, "\n"),
    );
    const { code, doc } = await validateJson(file);
    assert.equal(code, 2);
    const p = doc.problems.find((x) => x.code === "SPEC_HOST_OVER_ALB_LIMIT");
    assert.ok(p, JSON.stringify(doc.problems.slice(0, 3)));
    assert.match(p.message, /one\.example\.com .*t0, t1, t2, t3, t4 and 96 more.*101 rules/);
  });
});

describe("a region with no prices plans without cost, with a warning", () => {
  it("validate warns, plan writes everything and says there is no estimate", async () => {
    const { dir, file } = await specWith((t) =>
      t
        .replace("region: ap-northeast-1 }", "region: eu-west-3 }")
        .replace("arn:aws:acm:ap-northeast-1:", "arn:aws:acm:eu-west-3:"),
    );
    const v = await tenkai(["validate", file]);
    assert.equal(v.code, 0, v.stdout);
    assert.match(v.stdout, /warning SPEC_NO_PRICES spec\.aws\.region/);
    const out = join(dir, "out");
    const p = await tenkai(["plan", file, "--out", out]);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stderr, /warning: the price table has no prices for eu-west-3; no cost estimate/);
    assert.match(p.stdout, /No cost estimate: the price table has no prices for eu-west-3/);
    assert.ok(existsSync(join(out, "cdk.out", "manifest.json")));
    assert.equal(JSON.parse(readFileSync(join(out, "plan.json"), "utf8")).cost, undefined);
  });
});

describe("init checks --region, --account and --name before writing", () => {
  for (const [flags, message, fix] of [
    [["--region", "mars-1"], /--region: expected an AWS region/, /pass --region/],
    [["--region", "eu-wst-1"], /--region: "eu-wst-1" is not an AWS region/, /pass --region eu-west-1/],
    [["--account", "12345"], /--account: expected a 12-digit AWS account id/, /pass --account a 12-digit/],
    [["--name", "My Platform"], /--name: platform name must be a DNS label/, /pass --name my-platform/],
  ] as const) {
    it(flags.join(" "), async () => {
      const dir = await mkdtemp(join(tmpdir(), "tenkai-init-"));
      const r = await tenkai(["init", ...flags], dir);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /error CLI_BAD_FLAG: not writing platform\.yaml/);
      assert.match(r.stderr, message);
      assert.match(r.stderr, fix);
      assert.ok(!existsSync(join(dir, "platform.yaml")), "nothing written");
    });
  }
});
