/**
 * Deploy, diff and destroy through @aws-cdk/toolkit-lib, up to the point where AWS would be
 * called: the stacks selected and their order, the events, and the error a user without
 * credentials gets. The diff against a previous plan needs no AWS at all.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { synthesizeAwsPlane } from "./synth.js";
import {
  type AwsPlaneEvent,
  deployAwsPlane,
  deployOrder,
  destroyAwsPlane,
  diffAwsPlane,
  eventIoHost,
} from "./toolkit.js";

const EXAMPLE = new URL("../../examples/platform.yaml", import.meta.url).pathname;
const ORDER = [
  "web-network",
  "web-cluster",
  "web-nodes-general",
  "web-addons",
  "web-data",
  "web-tenants-001",
];

// No credentials from anywhere: env, files, SSO, or the EC2 metadata service.
for (const k of [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
]) {
  delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/nonexistent/tenkai-test/config";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/tenkai-test/credentials";
process.env.AWS_EC2_METADATA_DISABLED = "true";

let root: string;
let current: string;
let previous: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "tenkai-toolkit-"));
  const platform = await loadPlatform(EXAMPLE);
  current = (await synthesizeAwsPlane(platform, { outdir: join(root, "current"), rotating: ["general"] }))
    .assemblyDir;
  previous = (await synthesizeAwsPlane(platform, { outdir: join(root, "previous") })).assemblyDir;
});
after(() => rmSync(root, { recursive: true, force: true }));

describe("AWS plane toolkit", () => {
  it("orders stacks so each deploys after what it uses", () => {
    const order = deployOrder(current);
    assert.deepEqual(order.slice().sort(), ORDER.slice().sort());
    const before = (a: string, b: string) =>
      assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b}: ${order.join(", ")}`);
    before("web-network", "web-cluster");
    before("web-cluster", "web-nodes-general");
    before("web-cluster", "web-data");
    before("web-data", "web-tenants-001");
  });

  it("deploy without credentials announces the stacks in order, then fails saying how to sign in", async () => {
    const events: AwsPlaneEvent[] = [];
    await assert.rejects(
      deployAwsPlane({ assemblyDir: current, sink: (e) => events.push(e) }),
      (e: unknown) => {
        assert.ok(isTenkaiError(e, "AWS_NO_CREDENTIALS"), String(e));
        assert.match(e.message, /account 123456789012/);
        assert.match(e.fix ?? "", /aws sso login/);
        assert.match(e.fix ?? "", /AWS_ACCESS_KEY_ID/);
        return true;
      },
    );
    const plan = events.find((e) => e.code === "aws.plan");
    assert.deepEqual(plan?.code === "aws.plan" && plan.data.stacks, deployOrder(current));
  });

  it("destroy selects only the named stacks, newest first, and fails the same way without credentials", async () => {
    const events: AwsPlaneEvent[] = [];
    await assert.rejects(
      destroyAwsPlane({
        assemblyDir: current,
        stacks: ["web-tenants-001", "web-data"],
        sink: (e) => events.push(e),
      }),
      (e: unknown) => isTenkaiError(e, "AWS_NO_CREDENTIALS"),
    );
    const plan = events.find((e) => e.code === "aws.plan");
    assert.deepEqual(plan?.code === "aws.plan" && plan.data.stacks, ["web-tenants-001", "web-data"]);
  });

  it("refuses a stack the assembly does not have, listing the ones it has", async () => {
    await assert.rejects(diffAwsPlane({ assemblyDir: current, stacks: ["web-nope"] }), (e: unknown) => {
      return isTenkaiError(e, "AWS_UNKNOWN_STACK") && /web-network/.test(e.fix ?? "");
    });
  });

  it("diffs against a previous plan offline: only the rotated node group stack changes", async () => {
    const events: AwsPlaneEvent[] = [];
    const result = await diffAwsPlane({
      assemblyDir: current,
      against: previous,
      sink: (e) => events.push(e),
    });
    const changed = result.stacks.filter((s) => s.changes > 0).map((s) => s.stackName);
    assert.deepEqual(changed, ["web-nodes-general"]);
    assert.equal(result.stacks.length, ORDER.length);
    assert.ok(
      events.some(
        (e) =>
          e.code === "aws.stack.diff" && e.data.stack === "web-nodes-general" && /changes/.test(e.message),
      ),
    );
  });
});

describe("toolkit messages as events", () => {
  const base = { time: new Date(), level: "info" as const, action: "deploy" as const };
  it("turns stack progress and CloudFormation stack activity into typed events", async () => {
    const events: AwsPlaneEvent[] = [];
    const host = eventIoHost((e) => events.push(e), "deploy");
    await host.notify({
      ...base,
      code: "CDK_TOOLKIT_I5100",
      message: "",
      data: { total: 5, current: 2, stack: { stackName: "web-cluster" } },
    });
    await host.notify({
      ...base,
      code: "CDK_TOOLKIT_I5502",
      message: "",
      data: {
        deployment: "d",
        event: {
          StackName: "web-cluster",
          LogicalResourceId: "Cluster",
          ResourceType: "AWS::EKS::Cluster",
          ResourceStatus: "CREATE_FAILED",
          ResourceStatusReason: "quota",
        },
        progress: { completed: 3, total: 19, formatted: "3/19" },
      },
    });
    await host.notify({ ...base, level: "debug", message: "noise", data: undefined });
    assert.deepEqual(
      events.map((e) => e.code),
      ["aws.stack.start", "aws.resource"],
    );
    assert.equal(events[0]?.message, "deploying web-cluster (2/5)");
    const r = events[1];
    assert.ok(r?.code === "aws.resource");
    assert.equal(r.level, "warn", "a failed resource is a warning");
    assert.deepEqual(
      [r.data.stack, r.data.logicalId, r.data.status, r.data.reason],
      ["web-cluster", "Cluster", "CREATE_FAILED", "quota"],
    );
    assert.match(r.message, /3\/19 CREATE_FAILED AWS::EKS::Cluster Cluster: quota/);
  });
  it("confirms a destroy the CLI already confirmed, and answers other requests with the default", async () => {
    const host = eventIoHost(() => {}, "destroy");
    const req = { ...base, message: "", data: {}, defaultResponse: false };
    assert.equal(await host.requestResponse({ ...req, code: "CDK_TOOLKIT_I7010" }), true);
    assert.equal(await host.requestResponse({ ...req, code: "CDK_TOOLKIT_I5060" }), false);
  });
  it("ends the toolkit's wait on a stack that stays in progress past the bound, per stack, with AWS_STACK_STUCK", async () => {
    let now = 0;
    const host = eventIoHost(
      () => {},
      "deploy",
      60_000,
      () => now,
    );
    // The toolkit's stabilizeStack poll (cfn-api.js), one per polling interval.
    const poll = (stack: string) =>
      host.notify({
        ...base,
        level: "debug",
        code: "CDK_TOOLKIT_I0000",
        message: `Stack ${stack} has an ongoing operation in progress and is not stable (UPDATE_IN_PROGRESS)`,
        data: undefined,
      });
    await poll("web-nodes-general");
    now = 50_000;
    await poll("web-nodes-general");
    await poll("web-addons"); // another stack's wait starts now
    assert.equal(host.stuck, undefined);
    now = 60_001;
    await assert.rejects(poll("web-nodes-general"), (err: unknown) => {
      assert.ok(isTenkaiError(err, "AWS_STACK_STUCK"));
      assert.match(err.message, /web-nodes-general: it is still UPDATE_IN_PROGRESS after 1 min/);
      assert.match(err.fix ?? "", /describe-stack-events --stack-name web-nodes-general/);
      return true;
    });
    assert.ok(isTenkaiError(host.stuck, "AWS_STACK_STUCK"), "the verdict is kept for the caller");
    await poll("web-addons"); // 10 s into its own wait: fine
  });
});
