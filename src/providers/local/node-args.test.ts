import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildNode } from "../kwok/node-template.js";
import { instanceTypeTable, PROVIDER_LABEL } from "../node-placement.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";
import { parseNodeList } from "./local-provider.js";
import { nodeStart, realNodeProblem } from "./node-args.js";

const spec: NodeGroupSlotSpec = {
  group: "general",
  slot: "green",
  nodegroupName: "general-green",
  instanceTypes: ["m6i.large", "c7i.xlarge"],
  desired: 3,
  min: 1,
  max: 6,
  zones: ["ap-northeast-1a", "ap-northeast-1c"],
  kubernetesVersion: "1.36",
  labels: { team: "platform" },
  taints: [
    { key: "dedicated", value: "web", effect: "NoSchedule" },
    { key: "spot-only", effect: "PreferNoSchedule" },
  ],
  capacityType: "ON_DEMAND",
};
const types = instanceTypeTable();

/** `--flag value` pairs of an argument list, repeated flags gathered. */
function flags(args: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i] ?? "";
    out[key] = [...(out[key] ?? []), args[i + 1] ?? ""];
  }
  return out;
}

describe("local node arguments", () => {
  it("starts the i-th node with the kwok node's name, zone, instance type and EKS labels", () => {
    for (const i of [0, 1, 2]) {
      const { placement, args } = nodeStart(spec, i, { clusterDir: "/c", instanceTypes: types });
      const kwok = buildNode(spec, i, { taintFakeNodes: false, instanceTypes: types });
      const f = flags(args);
      assert.deepEqual(f["--dir"], ["/c"]);
      assert.deepEqual(f["--name"], [kwok.metadata?.name]);
      const labels = Object.fromEntries((f["--label"] ?? []).map((l) => l.split("=", 2) as [string, string]));
      // Every label the kwok node carries, except kwok's own and those the kubelet sets itself.
      const expected: Record<string, string> = { ...kwok.metadata?.labels, [PROVIDER_LABEL]: "local" };
      for (const k of ["type", "kubernetes.io/arch", "kubernetes.io/os", "kubernetes.io/hostname"])
        delete expected[k];
      assert.deepEqual(labels, expected);
      assert.equal(placement.zone, kwok.metadata?.labels?.["topology.kubernetes.io/zone"]);
      assert.deepEqual(f["--max-pods"], [String(types[placement.instanceType]?.maxPods)]);
    }
  });

  it("passes taints as key=value:Effect, or key:Effect without a value", () => {
    const f = flags(nodeStart(spec, 0, { clusterDir: "/c", instanceTypes: types }).args);
    assert.deepEqual(f["--taint"], ["dedicated=web:NoSchedule", "spot-only:PreferNoSchedule"]);
  });

  it("starts a patch release exactly and leaves a minor to node.sh (the control plane's own release)", () => {
    assert.equal(
      flags(nodeStart(spec, 0, { clusterDir: "/c", instanceTypes: types }).args)["--version"],
      undefined,
    );
    for (const v of ["1.36.3", "v1.36.3"]) {
      const f = flags(
        nodeStart({ ...spec, kubernetesVersion: v }, 0, { clusterDir: "/c", instanceTypes: types }).args,
      );
      assert.deepEqual(f["--version"], ["v1.36.3"]);
    }
  });

  it("refuses an instance type of another architecture than this machine's", () => {
    const withArm = { ...types, "m7g.large": { vcpu: 2, memoryGiB: 8, maxPods: 29, arch: "arm64" as const } };
    assert.equal(realNodeProblem(spec, withArm, "amd64"), undefined);
    assert.match(
      realNodeProblem({ ...spec, instanceTypes: ["m6i.large", "m7g.large"] }, withArm, "amd64") ?? "",
      /m7g\.large is arm64.*amd64.*kwok/,
    );
  });

  it("reads node.sh list output, skipping lines that are not node records", () => {
    const out = [
      '{"name":"a-blue-0","address":"10.64.1.2","podCIDR":"10.244.1.0/24"}',
      "starting...",
      '{"x":1}',
      '{"name":"a-blue-1","address":"10.64.1.3","podCIDR":"","running":false}',
    ].join("\n");
    assert.deepEqual(parseNodeList(out), [
      { name: "a-blue-0", address: "10.64.1.2", podCIDR: "10.244.1.0/24", running: true },
      { name: "a-blue-1", address: "10.64.1.3", podCIDR: "", running: false },
    ]);
  });
});
