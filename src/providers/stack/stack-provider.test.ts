/**
 * The stack node provider through the CDK toolkit library with CloudFormation mocked at the SDK
 * level (test/support/cloudformation-mock.ts: aws-sdk-client-mock over the very client modules the
 * toolkit loads). So the real toolkit deploy and destroy paths run (change sets, the template
 * uploaded to the bootstrap bucket, the bootstrap version check, polling the stack), and the real
 * activeSlot edit of platform.yaml; what CloudFormation and EKS then do is modelled, not run.
 * No EC2 instances: kwok nodes in the local cluster stand in for a slot's nodes, joining when the
 * stack holds the slot and leaving when it no longer does. Nothing here proves EKS itself (README,
 * "What is proven where").
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import {
  type CloudFormationMock,
  cloudFormationClient,
  mockCloudFormation,
} from "../../../test/support/cloudformation-mock.js";
import {
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
} from "../../../test/support/cluster.js";
import { nodeProviderConformance } from "../../../test/support/provider-conformance.js";
import { TenkaiError } from "../../shared/errors.js";
import { loadPlatform } from "../../spec/load.js";
import type { Platform } from "../../spec/schema.js";
import { KwokNodeProvider } from "../kwok/index.js";
import { isNodeProviderError, type NodeGroupSlotSpec, type NodeProvider } from "../node-provider.js";
import { nodegroupNodeNames } from "../slot-records.js";
import { StackNodeProvider } from "./stack-provider.js";

const EXAMPLE = new URL("../../../examples/platform.yaml", import.meta.url).pathname;
const REGION = "ap-northeast-1";
const ZONES = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"];

let mock: CloudFormationMock;
let platform: Platform;
let work: string;
let cfn: CloudFormationClient;
const saved = { ...process.env };

before(async () => {
  work = mkdtempSync(join(tmpdir(), "tenkai-stack-provider-"));
  // The toolkit's own credential chain finds these (the mocked STS says whose they are).
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
  platform = await loadPlatform(EXAMPLE);
  mock = mockCloudFormation({ account: platform.spec.aws.account, region: REGION });
  cfn = cloudFormationClient(REGION);
});
after(() => {
  mock?.restore();
  process.env = saved;
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Fast polls, so a test of a stuck stack takes seconds; the bound itself is per test. */
const POLL = { pollIntervalMs: 50 } as const;

const template = (stack: string) => {
  const t = mock.templateOf(stack);
  assert.ok(t, `stack ${stack} is deployed`);
  return t as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
};
const nodegroups = (t: ReturnType<typeof template>) =>
  Object.fromEntries(
    Object.values(t.Resources)
      .filter((r) => r.Type === "AWS::EKS::Nodegroup")
      .map((r) => [r.Properties.NodegroupName as string, r.Properties]),
  );

describe("StackNodeProvider: one owner for node groups (CloudFormation mocked at the SDK level)", () => {
  it("rotates a spec group by deploying its stack with both slots, then the new one only, and flips activeSlot in place", async () => {
    const file = join(work, "platform.yaml");
    copyFileSync(EXAMPLE, file);
    const original = readFileSync(file, "utf8");
    const written: string[] = [];
    const provider = new StackNodeProvider({
      platform,
      cloudFormation: cfn,
      specFile: file,
      onActiveSlotWritten: (g, s) => written.push(`${g}=${s}`),
      ...POLL,
    });
    const g = platform.spec.nodeGroups.find((x) => x.name === "general");
    assert.ok(g && g.activeSlot === "blue");
    const slot = (s: "blue" | "green", over: Partial<NodeGroupSlotSpec> = {}): NodeGroupSlotSpec => ({
      group: "general",
      slot: s,
      nodegroupName: `general-${s}`,
      instanceTypes: g.instanceTypes,
      desired: g.desired ?? g.min,
      min: g.min,
      max: g.max,
      zones: ZONES,
      kubernetesVersion: platform.spec.cluster.version,
      labels: g.labels,
      taints: g.taints,
      capacityType: g.capacityType,
      ...over,
    });
    // What `tenkai deploy` made: the blue slot.
    await provider.createSlot(slot("blue"));
    assert.deepEqual(Object.keys(nodegroups(template("web-nodes-general"))), ["general-blue"]);

    // The rotation's new slot, on other instance types and the next Kubernetes version.
    const green = slot("green", { instanceTypes: ["m7i.large"], kubernetesVersion: "1.36" });
    await provider.createSlot(green);
    const both = nodegroups(template("web-nodes-general"));
    assert.deepEqual(Object.keys(both).sort(), ["general-blue", "general-green"]);
    const desired = g.desired ?? g.min;
    assert.deepEqual(
      both["general-blue"]?.ScalingConfig,
      { MinSize: g.min, MaxSize: desired, DesiredSize: desired },
      "the draining slot's maximum is held at its size",
    );
    assert.deepEqual(both["general-green"]?.ScalingConfig, {
      MinSize: g.min,
      MaxSize: g.max,
      DesiredSize: desired,
    });
    assert.deepEqual(both["general-green"]?.InstanceTypes, ["m7i.large"]);
    assert.equal(both["general-green"]?.Version, "1.36");
    assert.equal(both["general-blue"]?.Version, undefined, "blue stays on the cluster's version");
    assert.equal((await provider.describeSlot("general-green"))?.status, "ACTIVE");
    await provider.createSlot(green); // the same slot again: nothing to do

    const executed = mock.commands().filter((c) => c === "ExecuteChangeSetCommand").length;
    await provider.deleteSlot("general-blue");
    assert.equal(
      mock.commands().filter((c) => c === "ExecuteChangeSetCommand").length,
      executed + 1,
      "the slot was removed by deploying the stack (a change set), not by deleting the stack",
    );
    assert.equal(mock.statusOf("web-nodes-general"), "UPDATE_COMPLETE");
    assert.deepEqual(Object.keys(nodegroups(template("web-nodes-general"))), ["general-green"]);
    assert.equal(await provider.describeSlot("general-blue"), undefined);
    assert.deepEqual(written, ["general=green"]);
    const edited = readFileSync(file, "utf8");
    assert.equal(
      edited,
      original.replace(/activeSlot: blue,/, "activeSlot: green,"),
      "only activeSlot changed",
    );
    assert.notEqual(edited, original);
    await provider.deleteSlot("general-blue"); // gone already: nothing to do
    assert.deepEqual(mock.unanswered, [], "every call the toolkit made was answered");
  });

  it("refuses a slot that exists with another spec, naming both", async () => {
    const provider = new StackNodeProvider({ platform, cloudFormation: cfn, ...POLL });
    const base: NodeGroupSlotSpec = {
      group: "batch",
      slot: "blue",
      nodegroupName: "batch-blue",
      instanceTypes: ["c7i.large"],
      desired: 1,
      min: 0,
      max: 3,
      zones: ZONES,
      kubernetesVersion: platform.spec.cluster.version,
      labels: {},
      taints: [],
      capacityType: "ON_DEMAND",
    };
    await provider.createSlot(base);
    await assert.rejects(provider.createSlot({ ...base, desired: 2 }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, "PROVIDER_ALREADY_EXISTS_DIFFERENT");
      assert.match(String((err as Error).message), /1 × c7i\.large .*asked 2 × c7i\.large/);
      return true;
    });
    await provider.deleteSlot("batch-blue");
    assert.equal(await provider.describeSlot("batch-blue"), undefined, "the last slot's stack is destroyed");
    assert.equal(mock.statusOf("web-nodes-batch"), undefined);
  });

  it("never waits for ever on a stack left in progress: AWS_STACK_STUCK after the bound, then THROTTLED while it stays", async () => {
    const provider = new StackNodeProvider({
      platform,
      cloudFormation: cfn,
      stackWaitTimeoutMs: 500,
      ...POLL,
    });
    const blue: NodeGroupSlotSpec = {
      group: "stuck",
      slot: "blue",
      nodegroupName: "stuck-blue",
      instanceTypes: ["c7i.large"],
      desired: 1,
      min: 0,
      max: 3,
      zones: ZONES,
      kubernetesVersion: platform.spec.cluster.version,
      labels: {},
      taints: [],
      capacityType: "ON_DEMAND",
    };
    const green = { ...blue, slot: "green" as const, nodegroupName: "stuck-green" };
    await provider.createSlot(blue);
    // The update that adds green never finishes (a resource that never stabilizes).
    mock.holdNextExecution("web-nodes-stuck", "UPDATE_IN_PROGRESS");
    const started = Date.now();
    await assert.rejects(provider.createSlot(green), (err: unknown) => {
      assert.ok(isNodeProviderError(err, "CREATE_FAILED"), `got ${String(err)}`);
      assert.equal(err.nodegroupName, "stuck-green");
      const cause = err.cause;
      assert.ok(cause instanceof TenkaiError, `cause is a TenkaiError: ${String(cause)}`);
      assert.equal(cause.code, "AWS_STACK_STUCK");
      assert.match(cause.message, /stack web-nodes-stuck: it is still UPDATE_IN_PROGRESS after 1 s/);
      assert.match(cause.fix ?? "", /cancel-update-stack --stack-name web-nodes-stuck/);
      return true;
    });
    assert.ok(Date.now() - started < 30_000, `gave up after ${Date.now() - started} ms, bound 500 ms`);
    assert.equal(mock.statusOf("web-nodes-stuck"), "UPDATE_IN_PROGRESS", "CloudFormation goes on");
    // Asked again while it is still in progress: CloudFormation refuses the change set at once.
    await assert.rejects(provider.createSlot(green), (err: unknown) => {
      assert.ok(isNodeProviderError(err, "THROTTLED"), `got ${String(err)}`);
      assert.ok(err.retryable);
      assert.match(err.message, /UPDATE_IN_PROGRESS state and can not be updated/);
      return true;
    });
  });
});

/** No instances are launched: kwok nodes join when the stack holds a slot and leave with it. */
class StackWithKwokNodes implements NodeProvider {
  readonly name = "eks";
  constructor(
    private readonly stack: StackNodeProvider,
    private readonly nodes: KwokNodeProvider,
  ) {}
  async createSlot(s: NodeGroupSlotSpec): Promise<void> {
    await this.stack.createSlot(s);
    await this.nodes.createSlot(s);
  }
  describeSlot(name: string) {
    return this.stack.describeSlot(name);
  }
  async deleteSlot(name: string): Promise<void> {
    await this.stack.deleteSlot(name);
    await this.nodes.deleteSlot(name);
  }
}

let cluster: TestCluster | undefined;
after(async () => {
  await cluster?.stop();
});
nodeProviderConformance("stack (CloudFormation mocked at the SDK level + kwok nodes)", async () => {
  cluster = await startTestCluster();
  if (!cluster) return `no local cluster: ${testClusterUnavailableReason()}`;
  const stack = new StackNodeProvider({
    platform,
    cloudFormation: cfn,
    nodeNames: nodegroupNodeNames(cluster.kubeConfig),
    ...POLL,
  });
  return {
    provider: new StackWithKwokNodes(stack, new KwokNodeProvider({ kubeConfig: cluster.kubeConfig })),
    kubeConfig: cluster.kubeConfig,
    zones: ZONES,
    instanceTypes: ["m6i.large", "c7i.xlarge"],
    kubernetesVersion: "1.36",
    readyTimeoutMs: 60_000,
    goneTimeoutMs: 60_000,
  };
});
