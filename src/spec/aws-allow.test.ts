import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { buildAwsPlane } from "../aws/synth.js";
import { isTenkaiError } from "../shared/errors.js";
import { arnPatternMatches, crossTenantAllowProblems } from "./aws-allow.js";
import { definePlatform } from "./define.js";
import { SpecError } from "./problems.js";
import { type PlatformInput, PlatformSchema } from "./schema.js";

const raw = (): PlatformInput =>
  parse(readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8"));

/** The example with `resource` added to users/auth-api's aws.allow. */
function withUsersAllow(resource: string) {
  const input = raw();
  const auth = input.spec.tenants
    ?.find((t) => t.name === "users")
    ?.services?.find((s) => s.name === "auth-api");
  auth?.aws?.allow.push({ actions: ["secretsmanager:GetSecretValue"], resources: [resource] });
  return input;
}

/**
 * Schema-valid but not cross-checked: `tenkai validate` already refuses these (tested below), and
 * the AWS plane must refuse them on its own too, for platforms built without the loader.
 */
const unchecked = (input: PlatformInput) => PlatformSchema.parse(input);

describe("aws.allow stays inside the tenant", () => {
  it("matches ARNs the way IAM wildcards do (or broader)", () => {
    assert.ok(arnPatternMatches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"));
    assert.ok(arnPatternMatches("arn:aws:sqs:*:123456789012:q?", "arn:aws:sqs:us-east-1:123456789012:q1"));
    assert.ok(!arnPatternMatches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket2/a"));
  });
  it("lets the example through", () => {
    assert.deepEqual(crossTenantAllowProblems(definePlatform(raw())), []);
  });
  const cases: [string, RegExp][] = [
    ["arn:*", /^arn:aws:/],
    [
      "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:tenkai/web/*",
      /secret:tenkai\/web\/(shop|orders)\/database/,
    ],
    ["arn:aws:ecr:ap-northeast-1:123456789012:repository/web/*", /repository\/web\/(shop|orders)\//],
    ["arn:aws:logs:*:*:log-group:/tenkai/web/orders*", /log-group:\/tenkai\/web\/orders/],
    ["arn:aws:iam::123456789012:role/web-*", /role\/web-/],
  ];
  for (const [resource, reaches] of cases) {
    it(`refuses ${resource}`, () => {
      const [problem, ...rest] = crossTenantAllowProblems(unchecked(withUsersAllow(resource)));
      assert.equal(rest.length, 0);
      assert.equal(problem?.tenant, "users");
      assert.equal(problem?.workload, "auth-api");
      assert.notEqual(problem?.owner, "users");
      assert.match(problem?.reaches ?? "", reaches);
      assert.ok(!(problem?.reaches ?? "").includes("/users"), "never flags the tenant's own resources");
    });
  }
  it("allows a pattern over the tenant's own secret", () => {
    assert.deepEqual(
      crossTenantAllowProblems(
        definePlatform(
          withUsersAllow("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:tenkai/web/users/*"),
        ),
      ),
      [],
    );
  });
  it("stops the plan before any stack is built, naming the workload and the fix", () => {
    assert.throws(
      () =>
        buildAwsPlane(unchecked(withUsersAllow("arn:aws:secretsmanager:*:*:secret:*")), {
          outdir: "/nonexistent/never-written",
        }),
      (e: unknown) =>
        isTenkaiError(e, "AWS_ALLOW_REACHES_OTHERS") &&
        /users\/auth-api/.test(e.message) &&
        /narrow each pattern/.test(e.fix ?? ""),
    );
  });
  it("tenkai validate refuses it first, at the resource, with a fix", () => {
    assert.throws(
      () => definePlatform(withUsersAllow("arn:*")),
      (e: unknown) =>
        e instanceof SpecError &&
        e.problems.some(
          (p) =>
            p.code === "SPEC_ALLOW_REACHES_OTHERS" &&
            p.path === "spec.tenants[1].services[1].aws.allow[1].resources[0]" &&
            /narrow the pattern/.test(p.fix ?? ""),
        ),
    );
  });
});
