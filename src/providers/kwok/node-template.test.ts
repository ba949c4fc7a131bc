import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeGroupSlotSpec } from "../node-provider.js";
import { buildNode, kwokInstanceTypes, nodeResources, regionOfZone, slotSpecHash } from "./node-template.js";

const spec: NodeGroupSlotSpec = {
  group: "general",
  slot: "blue",
  nodegroupName: "general-blue",
  instanceTypes: ["m6i.large", "m7i.xlarge"],
  desired: 3,
  min: 1,
  max: 6,
  zones: ["ap-northeast-1a", "ap-northeast-1c"],
  kubernetesVersion: "1.35",
  labels: { team: "platform" },
  taints: [{ key: "dedicated", value: "web", effect: "NoSchedule" }],
  capacityType: "SPOT",
};
const opts = { taintFakeNodes: false, instanceTypes: kwokInstanceTypes() };

describe("kwok node template", () => {
  it("labels a node the way EKS labels a managed node group's node", () => {
    const n = buildNode(spec, 1, opts);
    assert.equal(n.metadata?.name, "general-blue-1");
    assert.deepEqual(n.metadata?.labels, {
      team: "platform",
      "eks.amazonaws.com/nodegroup": "general-blue",
      "eks.amazonaws.com/capacityType": "SPOT",
      "node.kubernetes.io/instance-type": "m7i.xlarge",
      "topology.kubernetes.io/zone": "ap-northeast-1c",
      "topology.kubernetes.io/region": "ap-northeast-1",
      "kubernetes.io/arch": "amd64",
      "kubernetes.io/os": "linux",
      "kubernetes.io/hostname": "general-blue-1",
      type: "kwok",
      "tenkai.dev/node-provider": "kwok",
    });
    assert.equal(n.metadata?.annotations?.["kwok.x-k8s.io/node"], "fake");
    assert.equal(n.spec?.providerID, "kwok://general-blue-1");
    assert.deepEqual(n.spec?.taints, [{ key: "dedicated", value: "web", effect: "NoSchedule" }]);
    assert.equal(n.status?.nodeInfo?.kubeletVersion, "v1.35.0");
    assert.deepEqual(n.status?.addresses?.[1], { type: "Hostname", address: "general-blue-1" });
    assert.match(n.status?.addresses?.[0]?.address ?? "", /^10\.\d+\.0\.5$/);
  });

  it("gives every node its own InternalIP", () => {
    const ips = new Set<string>();
    for (const ng of ["general-blue", "general-green"]) {
      for (let i = 0; i < 600; i++)
        ips.add(buildNode({ ...spec, nodegroupName: ng }, i, opts).status?.addresses?.[0]?.address ?? "");
    }
    assert.equal(ips.size, 1200);
  });

  it("spreads zones and instance types round-robin", () => {
    const zones = [0, 1, 2, 3].map(
      (i) => buildNode(spec, i, opts).metadata?.labels?.["topology.kubernetes.io/zone"],
    );
    assert.deepEqual(zones, ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1a", "ap-northeast-1c"]);
  });

  it("adds the kwok taint only when asked", () => {
    const n = buildNode({ ...spec, taints: [] }, 0, { ...opts, taintFakeNodes: true });
    assert.deepEqual(n.spec?.taints, [{ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }]);
    assert.equal(buildNode({ ...spec, taints: [] }, 0, opts).spec?.taints, undefined);
  });

  it("says how to fix an unknown instance type", () => {
    assert.throws(
      () => buildNode({ ...spec, instanceTypes: ["m5.huge"] }, 0, opts),
      /m5\.huge is not in data\/instance-types\.json/,
    );
  });

  // Expected values: EKS AMI kube-reserved formula (see nodeResources) worked by hand.
  const cases = [
    { type: "m5.large", cpu: "1930m", memory: `${8192 - (255 + 11 * 29 + 100)}Mi`, pods: "29" },
    { type: "c6i.xlarge", cpu: "3920m", memory: `${8192 - (255 + 11 * 58 + 100)}Mi`, pods: "58" },
    { type: "r6i.4xlarge", cpu: "15890m", memory: `${131072 - (255 + 11 * 234 + 100)}Mi`, pods: "234" },
  ];
  for (const c of cases) {
    it(`allocatable of ${c.type} subtracts the EKS kube-reserved share`, () => {
      const t = kwokInstanceTypes()[c.type];
      assert.ok(t, `${c.type} is in the table`);
      const { allocatable } = nodeResources(t);
      assert.equal(allocatable.cpu, c.cpu);
      assert.equal(allocatable.memory, c.memory);
      assert.equal(allocatable.pods, c.pods);
    });
  }

  it("derives the region from a zone name", () => {
    assert.equal(regionOfZone("us-east-1a"), "us-east-1");
    assert.equal(regionOfZone("us-west-2-lax-1a"), "us-west-2");
    assert.equal(regionOfZone("us-gov-west-1b"), "us-gov-west-1");
    assert.equal(regionOfZone("moon-1"), undefined);
  });

  it("hashes specs independent of key order and sensitive to values", () => {
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as unknown as NodeGroupSlotSpec;
    assert.equal(slotSpecHash(reordered), slotSpecHash(spec));
    assert.notEqual(slotSpecHash({ ...spec, desired: 4 }), slotSpecHash(spec));
  });
});
