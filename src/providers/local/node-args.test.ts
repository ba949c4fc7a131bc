import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildNode } from "../kwok/node-template.js";
import { instanceTypeTable, PROVIDER_LABEL } from "../node-placement.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";
import { parseNodeList } from "./local-provider.js";
import {
  ALLOCATABLE_CLAMPED_ANNOTATION,
  ALLOCATABLE_FROM_ANNOTATION,
  nodeStart,
  realNodeProblem,
  reservationAnnotations,
  reservationFor,
} from "./node-args.js";

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

  it("reserves the machine's surplus so allocatable is the instance type's (what kwok gives)", () => {
    // A 2-core, 24 GiB machine like this one; the kubelet keeps 50Mi for evictionHard besides.
    const machine = { cpuMilli: 2000, memoryMi: 24105 };
    const large = types["m6i.large"];
    assert.ok(large);
    const kwok = buildNode({ ...spec, instanceTypes: ["m6i.large"] }, 0, {
      taintFakeNodes: false,
      instanceTypes: types,
    });
    const r = reservationFor("m6i.large", large, machine);
    // kwok: cpu 1930m (2 vCPU less the EKS AMI's 70m), memory 7518Mi (8192 - 255 - 11 x 29 - 100).
    assert.equal(kwok.status?.allocatable?.cpu, "1930m");
    assert.equal(kwok.status?.allocatable?.memory, "7518Mi");
    assert.deepEqual(r.allocatable, { cpuMilli: 1930, memoryMi: 7518, pods: 29 });
    assert.equal(r.kubeReserved, `cpu=70m,memory=${24105 - 50 - 7518}Mi`);
    assert.deepEqual(r.clamped, []);
    const f = flags(
      nodeStart({ ...spec, instanceTypes: ["m6i.large"] }, 0, {
        clusterDir: "/c",
        instanceTypes: types,
        machine,
      }).args,
    );
    assert.deepEqual(f["--kube-reserved"], [r.kubeReserved]);
    const a = reservationAnnotations("m6i.large", r);
    assert.equal(a[ALLOCATABLE_FROM_ANNOTATION], "m6i.large: cpu 1930m, memory 7518Mi, pods 29");
    assert.equal(a[ALLOCATABLE_CLAMPED_ANNOTATION], null);
  });

  it("clamps to the machine and says so where the machine has less than the type allocates", () => {
    const machine = { cpuMilli: 2000, memoryMi: 24105 };
    const xl = types["c7i.xlarge"];
    assert.ok(xl);
    const r = reservationFor("c7i.xlarge", xl, machine);
    // 4 vCPU allocate 3920m; the machine has 2000m: no CPU reserved, memory still reserved down.
    assert.equal(r.allocatable.cpuMilli, 2000);
    assert.match(r.kubeReserved, /^memory=\d+Mi$/);
    assert.deepEqual(r.clamped, ["cpu: c7i.xlarge allocates 3920m, this machine has 2000m"]);
    assert.match(
      reservationAnnotations("c7i.xlarge", r)[ALLOCATABLE_CLAMPED_ANNOTATION] ?? "",
      /cpu: c7i\.xlarge allocates 3920m/,
    );
    // A small machine: both clamped, nothing reserved, no --kube-reserved flag.
    const tiny = reservationFor("c7i.xlarge", xl, { cpuMilli: 1000, memoryMi: 2048 });
    assert.equal(tiny.kubeReserved, "");
    assert.deepEqual(tiny.allocatable, { cpuMilli: 1000, memoryMi: 1998, pods: xl.maxPods });
    assert.equal(tiny.clamped.length, 2);
    const args = nodeStart({ ...spec, instanceTypes: ["c7i.xlarge"] }, 0, {
      clusterDir: "/c",
      instanceTypes: types,
      machine: { cpuMilli: 1000, memoryMi: 2048 },
    }).args;
    assert.ok(!args.includes("--kube-reserved"));
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
