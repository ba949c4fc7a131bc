/**
 * The eks provider against moto's EKS server (the real AWS SDK over HTTP) for the calls moto
 * implements, and aws-sdk-client-mock for the answers moto cannot give (a NodeCreationFailure
 * health issue, throttling, server errors). Then the shared conformance suite, with moto as EKS
 * and kwok nodes in the local cluster standing in for the instances EKS would launch.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DeleteNodegroupCommand,
  DescribeNodegroupCommand,
  EKSClient,
} from "@aws-sdk/client-eks";
import { CoreV1Api } from "@kubernetes/client-node";
import { mockClient } from "aws-sdk-client-mock";
import {
  startTestCluster,
  type TestCluster,
  testClusterUnavailableReason,
} from "../../../test/support/cluster.js";
import { nodeProviderConformance } from "../../../test/support/provider-conformance.js";
import { KwokNodeProvider, kwokInstanceTypes } from "../kwok/index.js";
import { isNodeProviderError, type NodeGroupSlotSpec, type NodeProvider } from "../node-provider.js";
import { EksNodeProvider, SPEC_HASH_TAG } from "./eks-provider.js";

const MOTO = fileURLToPath(new URL("../../../.venv/bin/moto_server", import.meta.url));
const ZONES = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"];
const SUBNETS = {
  "ap-northeast-1a": ["subnet-a"],
  "ap-northeast-1c": ["subnet-c"],
  "ap-northeast-1d": ["subnet-d"],
};
const ROLE = "arn:aws:iam::123456789012:role/web-nodes";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

interface Moto {
  readonly endpoint: string;
  readonly proc: ChildProcess;
}

async function startMoto(): Promise<Moto | string> {
  if (!existsSync(MOTO)) return `moto_server is not installed at ${MOTO}; run: bash scripts/setup-python.sh`;
  const port = await freePort();
  const proc = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      return { endpoint, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.kill();
  return `moto_server did not answer on ${endpoint} within 10 s`;
}

function eksClient(endpoint: string): EKSClient {
  return new EKSClient({
    endpoint,
    region: "ap-northeast-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

async function createMotoCluster(client: EKSClient, name: string): Promise<void> {
  await client.send(
    new CreateClusterCommand({
      name,
      roleArn: "arn:aws:iam::123456789012:role/eks",
      resourcesVpcConfig: { subnetIds: ["subnet-a", "subnet-c"] },
    }),
  );
}

const spec = (over: Partial<NodeGroupSlotSpec> = {}): NodeGroupSlotSpec => ({
  group: "general",
  slot: "green",
  nodegroupName: "general-green",
  instanceTypes: ["m6i.large"],
  desired: 3,
  min: 3,
  max: 12,
  zones: ZONES.slice(0, 2),
  kubernetesVersion: "1.35",
  labels: { team: "platform" },
  taints: [{ key: "dedicated", value: "web", effect: "NoSchedule" }],
  capacityType: "ON_DEMAND",
  ...over,
});

let moto: Moto | undefined;
let motoSkip = "";
before(async () => {
  const m = await startMoto();
  if (typeof m === "string") {
    motoSkip = m;
    process.stderr.write(`eks provider: skipping moto tests: ${m}\n`);
  } else moto = m;
});
after(() => {
  moto?.proc.kill();
});

describe("EksNodeProvider against moto's EKS API", () => {
  it("creates the node group from the slot spec, describes it, and deletes it idempotently", async (t) => {
    if (!moto) return t.skip(motoSkip);
    const client = eksClient(moto.endpoint);
    await createMotoCluster(client, "web");
    const p = new EksNodeProvider({ client, clusterName: "web", nodeRoleArn: ROLE, subnetsByZone: SUBNETS });
    assert.equal(await p.describeSlot("general-green"), undefined);
    await p.createSlot(spec());
    const raw = (
      await client.send(new DescribeNodegroupCommand({ clusterName: "web", nodegroupName: "general-green" }))
    ).nodegroup;
    assert.deepEqual(raw?.scalingConfig, { minSize: 3, maxSize: 12, desiredSize: 3 });
    assert.deepEqual(raw?.subnets, ["subnet-a", "subnet-c"]);
    assert.deepEqual(raw?.instanceTypes, ["m6i.large"]);
    assert.equal(raw?.nodeRole, ROLE);
    assert.equal(raw?.labels?.team, "platform");
    assert.deepEqual(raw?.taints, [{ key: "dedicated", value: "web", effect: "NO_SCHEDULE" }]);
    assert.ok(raw?.tags?.[SPEC_HASH_TAG], "the spec hash is tagged");
    const state = await p.describeSlot("general-green");
    assert.equal(state?.status, "ACTIVE");
    assert.deepEqual(state?.issues, []);

    await p.createSlot(spec()); // same spec again: no error
    await assert.rejects(
      p.createSlot(spec({ desired: 4 })),
      (err: unknown) =>
        isNodeProviderError(err, "ALREADY_EXISTS_DIFFERENT") && /another spec/.test(err.message),
    );

    await p.deleteSlot("general-green");
    assert.equal(await p.describeSlot("general-green"), undefined);
    await p.deleteSlot("general-green");
  });

  it("refuses a slot whose zone has no subnet, before calling EKS", async (t) => {
    if (!moto) return t.skip(motoSkip);
    const client = eksClient(moto.endpoint);
    const p = new EksNodeProvider({
      client,
      clusterName: "web",
      nodeRoleArn: ROLE,
      subnetsByZone: { "ap-northeast-1a": ["subnet-a"] },
    });
    await assert.rejects(
      p.createSlot(spec({ nodegroupName: "general-blue", slot: "blue" })),
      (err: unknown) => {
        assert.ok(isNodeProviderError(err, "CREATE_FAILED"));
        assert.match(err.message, /ap-northeast-1c/);
        return true;
      },
    );
  });
});

describe("EksNodeProvider failure answers (aws-sdk-client-mock)", () => {
  const provider = (client: EKSClient) =>
    new EksNodeProvider({ client, clusterName: "web", nodeRoleArn: ROLE, subnetsByZone: SUBNETS });

  it("maps a NodeCreationFailure health issue to CREATE_FAILED with the issue verbatim", async () => {
    const client = new EKSClient({ region: "ap-northeast-1" });
    const mock = mockClient(client);
    mock.on(DescribeNodegroupCommand).resolves({
      nodegroup: {
        nodegroupName: "general-green",
        status: "CREATE_FAILED",
        health: {
          issues: [
            {
              code: "NodeCreationFailure",
              message: "Instances failed to join the kubernetes cluster",
              resourceIds: ["i-0abc"],
            },
          ],
        },
      },
    });
    const state = await provider(client).describeSlot("general-green");
    assert.equal(state?.status, "CREATE_FAILED");
    assert.deepEqual(state?.issues, [
      { code: "NodeCreationFailure", message: "Instances failed to join the kubernetes cluster (i-0abc)" },
    ]);
  });

  it("maps ThrottlingException to THROTTLED (retryable) and server errors to UNAVAILABLE", async () => {
    const client = new EKSClient({ region: "ap-northeast-1" });
    const mock = mockClient(client);
    const throttled = Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    mock.on(CreateNodegroupCommand).rejects(throttled);
    mock
      .on(DescribeNodegroupCommand)
      .rejects(
        Object.assign(new Error("internal"), { name: "ServerException", $metadata: { httpStatusCode: 500 } }),
      );
    mock.on(DeleteNodegroupCommand).rejects(throttled);
    const p = provider(client);
    await assert.rejects(
      p.createSlot(spec()),
      (err: unknown) => isNodeProviderError(err, "THROTTLED") && err.retryable,
    );
    await assert.rejects(
      p.describeSlot("general-green"),
      (err: unknown) => isNodeProviderError(err, "UNAVAILABLE") && err.retryable,
    );
    await assert.rejects(p.deleteSlot("general-green"), (err: unknown) =>
      isNodeProviderError(err, "THROTTLED"),
    );
  });

  it("other create failures are CREATE_FAILED and not retryable", async () => {
    const client = new EKSClient({ region: "ap-northeast-1" });
    mockClient(client)
      .on(CreateNodegroupCommand)
      .rejects(
        Object.assign(new Error("Subnets are not in the cluster VPC"), {
          name: "InvalidParameterException",
          $metadata: { httpStatusCode: 400 },
        }),
      );
    await assert.rejects(
      provider(client).createSlot(spec()),
      (err: unknown) =>
        isNodeProviderError(err, "CREATE_FAILED") &&
        !err.retryable &&
        /InvalidParameterException/.test(err.message),
    );
  });
});

/**
 * moto keeps node groups but launches no instances, so the test stands in for EC2 and the
 * kubelet: after EKS (moto) accepts a node group, kwok nodes with the same labels join the local
 * cluster, and they leave when EKS deletes it. Every call the suite makes still goes through
 * EksNodeProvider to moto.
 */
class MotoWithKwokNodes implements NodeProvider {
  readonly name = "eks";
  constructor(
    private readonly eks: EksNodeProvider,
    private readonly nodes: KwokNodeProvider,
  ) {}
  async createSlot(s: NodeGroupSlotSpec): Promise<void> {
    await this.eks.createSlot(s);
    await this.nodes.createSlot(s);
  }
  describeSlot(name: string) {
    return this.eks.describeSlot(name);
  }
  async deleteSlot(name: string): Promise<void> {
    await this.eks.deleteSlot(name);
    await this.nodes.deleteSlot(name);
  }
}

let cluster: TestCluster | undefined;
after(async () => {
  await cluster?.stop();
});
nodeProviderConformance("eks (moto + kwok nodes)", async () => {
  if (!moto) return motoSkip;
  cluster = await startTestCluster();
  if (!cluster) return `no local cluster: ${testClusterUnavailableReason()}`;
  const client = eksClient(moto.endpoint);
  await createMotoCluster(client, "conformance");
  const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
  const eks = new EksNodeProvider({
    client,
    clusterName: "conformance",
    nodeRoleArn: ROLE,
    subnetsByZone: SUBNETS,
    knownInstanceTypes: Object.keys(kwokInstanceTypes()),
    nodeNames: async (ng) =>
      (await core.listNode({ labelSelector: `eks.amazonaws.com/nodegroup=${ng}` })).items
        .map((n) => n.metadata?.name ?? "")
        .sort(),
  });
  return {
    provider: new MotoWithKwokNodes(eks, new KwokNodeProvider({ kubeConfig: cluster.kubeConfig })),
    kubeConfig: cluster.kubeConfig,
    zones: ZONES,
    instanceTypes: ["m6i.large", "c7i.xlarge"],
    kubernetesVersion: "1.36",
    readyTimeoutMs: 20_000,
    goneTimeoutMs: 20_000,
  };
});
