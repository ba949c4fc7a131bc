/**
 * The stack node provider through the CDK toolkit library against moto's CloudFormation (the real
 * toolkit and AWS SDK over HTTP: change sets, S3 template upload, SSM bootstrap version). moto
 * creates the launch templates but no EKS node group (it has no CloudFormation model for
 * AWS::EKS::Nodegroup), and launches no instances: kwok nodes in the local cluster stand in for
 * them, joining when the stack holds the slot and leaving when it no longer does. So this proves
 * what the provider deploys and reads back, with CloudFormation mocked; not EKS itself. The
 * toolkit deploys with change sets as `tenkai deploy` does; one answer of moto is corrected below.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeChangeSetCommand,
  GetTemplateCommand,
} from "@aws-sdk/client-cloudformation";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { CoreV1Api } from "@kubernetes/client-node";
import {
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
} from "../../../test/support/cluster.js";
import { type Moto, startMoto } from "../../../test/support/moto.js";
import { nodeProviderConformance } from "../../../test/support/provider-conformance.js";
import { synthesizeAwsPlane } from "../../aws/synth.js";
import { loadPlatform } from "../../spec/load.js";
import type { Platform } from "../../spec/schema.js";
import { KwokNodeProvider } from "../kwok/index.js";
import type { NodeGroupSlotSpec, NodeProvider } from "../node-provider.js";
import { StackNodeProvider } from "./stack-provider.js";

const EXAMPLE = new URL("../../../examples/platform.yaml", import.meta.url).pathname;
const REGION = "ap-northeast-1";
const ZONES = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"];

/**
 * moto answers DescribeChangeSet of a change set that is gone (the toolkit deletes the previous
 * `cdk-deploy-change-set` before making a new one, then waits until it is gone) with
 * ValidationError "Stack with id cdk-deploy-change-set does not exist"; CloudFormation answers
 * ChangeSetNotFound, which the toolkit takes for "gone". Only that answer is translated.
 */
const send = CloudFormationClient.prototype.send;
CloudFormationClient.prototype.send = async function (this: CloudFormationClient, ...args: unknown[]) {
  try {
    return await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  } catch (err) {
    const cmd = args[0];
    if (cmd instanceof DescribeChangeSetCommand && /does not exist/.test(String((err as Error).message)))
      throw Object.assign(new Error(`ChangeSet ${cmd.input.ChangeSetName} does not exist`), {
        name: "ChangeSetNotFoundException",
      });
    throw err;
  }
} as typeof send;

let moto: Moto | undefined;
let skip = "";
let platform: Platform;
let work: string;
let cfn: CloudFormationClient;

/** The account as `cdk bootstrap` and `tenkai deploy` of the network stack leave it, in moto. */
async function seed(m: Moto): Promise<void> {
  const config = { ...m.clientConfig(REGION), endpoint: localhost(m.endpoint) };
  await new SSMClient(config).send(
    new PutParameterCommand({ Name: "/cdk-bootstrap/hnb659fds/version", Value: "30", Type: "String" }),
  );
  await new S3Client(config).send(
    new CreateBucketCommand({
      Bucket: `cdk-hnb659fds-assets-123456789012-${REGION}`,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  // The nodes stack imports the private subnets from the network stack: a stand-in exports them.
  const dir = mkdtempSync(join(work, "net-"));
  const { assemblyDir } = await synthesizeAwsPlane(platform, { outdir: dir });
  const nodes = readFileSync(join(assemblyDir, "web-nodes-general.template.json"), "utf8");
  const imports = [
    ...new Set([...nodes.matchAll(/"Fn::ImportValue":\s*"([^"]+)"/g)].map((x) => x[1] as string)),
  ];
  assert.ok(imports.length >= 2, "the nodes stack imports the subnets");
  await cfn
    .send(
      new CreateStackCommand({
        StackName: "web-network",
        TemplateBody: JSON.stringify({
          Resources: {
            Marker: { Type: "AWS::SSM::Parameter", Properties: { Type: "String", Value: "net" } },
          },
          Outputs: Object.fromEntries(
            imports.map((name, i) => [`Subnet${i}`, { Value: `subnet-${i}`, Export: { Name: name } }]),
          ),
        }),
      }),
    )
    .catch((err: unknown) => {
      // A retried first call (moto slow to answer) finds the stack made.
      if ((err as { name?: string }).name !== "AlreadyExistsException") throw err;
    });
}

/** moto reads a TemplateURL's bucket from the path only when the host is `localhost`. */
const localhost = (endpoint: string) => endpoint.replace("127.0.0.1", "localhost");

before(async () => {
  const m = await startMoto();
  if (typeof m === "string") {
    skip = m;
    process.stderr.write(`stack provider: skipping: ${m}\n`);
    return;
  }
  moto = m;
  work = mkdtempSync(join(tmpdir(), "tenkai-stack-provider-"));
  // The toolkit makes its own SDK clients: the standard endpoint variable points them at moto.
  process.env.AWS_ENDPOINT_URL = localhost(m.endpoint);
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  delete process.env.AWS_PROFILE;
  platform = await loadPlatform(EXAMPLE);
  cfn = new CloudFormationClient({ ...m.clientConfig(REGION), endpoint: localhost(m.endpoint) });
  await seed(m);
});
after(() => {
  moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const template = async (stack: string) =>
  JSON.parse((await cfn.send(new GetTemplateCommand({ StackName: stack }))).TemplateBody ?? "{}") as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
const nodegroups = (t: Awaited<ReturnType<typeof template>>) =>
  Object.fromEntries(
    Object.values(t.Resources)
      .filter((r) => r.Type === "AWS::EKS::Nodegroup")
      .map((r) => [r.Properties.NodegroupName as string, r.Properties]),
  );

describe("StackNodeProvider: one owner for node groups (CloudFormation in moto)", () => {
  it("rotates a spec group by deploying its stack with both slots, then the new one only, and flips activeSlot in place", async (t) => {
    if (!moto) return t.skip(skip);
    const file = join(work, "platform.yaml");
    copyFileSync(EXAMPLE, file);
    const original = readFileSync(file, "utf8");
    const written: string[] = [];
    const provider = new StackNodeProvider({
      platform,
      cloudFormation: cfn,
      specFile: file,
      onActiveSlotWritten: (g, s) => written.push(`${g}=${s}`),
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
    assert.deepEqual(Object.keys(nodegroups(await template("web-nodes-general"))), ["general-blue"]);

    // The rotation's new slot, on other instance types and the next Kubernetes version.
    const green = slot("green", { instanceTypes: ["m7i.large"], kubernetesVersion: "1.36" });
    await provider.createSlot(green);
    const both = nodegroups(await template("web-nodes-general"));
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

    try {
      await provider.deleteSlot("general-blue");
    } catch (err) {
      // Seen with moto 5.2.5: the UpdateStack that removes the old slot answers an HTML 500 page.
      if (/XML parse error/.test(String((err as Error).message))) {
        const why = `moto's CloudFormation failed the update that removes a slot (HTML 500): ${String((err as Error).message).slice(0, 160)}`;
        process.stderr.write(`stack provider: skipping the rest: ${why}\n`);
        return t.skip(why);
      }
      throw err;
    }
    assert.deepEqual(Object.keys(nodegroups(await template("web-nodes-general"))), ["general-green"]);
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
  });

  it("refuses a slot that exists with another spec, naming both", async (t) => {
    if (!moto) return t.skip(skip);
    const provider = new StackNodeProvider({ platform, cloudFormation: cfn });
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
  });
});

/** moto launches no instances: kwok nodes join when the stack holds a slot and leave with it. */
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
nodeProviderConformance("stack (CloudFormation in moto + kwok nodes)", async () => {
  if (!moto) return skip;
  cluster = await startTestCluster();
  if (!cluster) return `no local cluster: ${testClusterUnavailableReason()}`;
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const stack = new StackNodeProvider({
    platform,
    cloudFormation: cfn,
    nodeNames: async (ng) =>
      (await core.listNode({ labelSelector: `eks.amazonaws.com/nodegroup=${ng}` })).items
        .map((n) => n.metadata?.name ?? "")
        .sort(),
  });
  return {
    provider: new StackWithKwokNodes(stack, new KwokNodeProvider({ kubeConfig: cluster.kubeConfig })),
    kubeConfig: cluster.kubeConfig,
    zones: ZONES,
    instanceTypes: ["m6i.large", "c7i.xlarge"],
    kubernetesVersion: "1.36",
    readyTimeoutMs: 60_000,
    goneTimeoutMs: 60_000,
    // moto's CloudFormation answers the stack update that removes one slot while another stays
    // with an HTML 500 page, and the stack is then left in progress: the toolkit waits on it for
    // ever. Removing a slot is proven by the template tests and the activeSlot edit's unit tests
    // only (README, "What is proven where").
    cannotRun: {
      "deleteSlot removes the slot and its nodes, leaves the other slot alone, and is idempotent":
        "moto's CloudFormation fails (HTML 500) the stack update that removes one of two slots, then leaves the stack in progress",
    },
  };
});
