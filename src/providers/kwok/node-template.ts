/**
 * What a simulated node of a node group slot looks like: the Node object the kwok provider
 * creates. Pure functions, so the shape is unit-tested without a cluster.
 *
 * Labels follow what EKS managed node groups put on their nodes (eks.amazonaws.com/nodegroup,
 * eks.amazonaws.com/capacityType) and what the kubelet and the AWS cloud provider add
 * (topology.kubernetes.io/zone and region, node.kubernetes.io/instance-type, kubernetes.io/arch,
 * kubernetes.io/os, kubernetes.io/hostname), so selectors and spread constraints written for EKS
 * behave the same on kwok nodes.
 */
import { createHash } from "node:crypto";
import type { V1Node, V1Taint } from "@kubernetes/client-node";
import { readData } from "../../shared/data.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";

/** kwok manages only nodes with this annotation (`manageNodesWithAnnotationSelector` in cluster/up.sh). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_NODE_ANNOTATION_VALUE = "fake";
/** Optional taint that keeps workloads without a toleration off fake nodes in a mixed cluster. */
export const KWOK_NODE_TAINT: V1Taint = { key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" };
export const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";
export const CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType";
/** sha256 of the slot spec, to tell "same spec again" (idempotent) from "another spec". */
export const SLOT_SPEC_HASH_ANNOTATION = "tenkai.dev/slot-spec-hash";
export const PROVIDER_LABEL = "tenkai.dev/node-provider";

export interface KwokInstanceType {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly maxPods: number;
  readonly arch: "amd64" | "arm64";
}

interface InstanceTypeTable {
  readonly source: string;
  readonly asOf: string;
  readonly types: Readonly<Record<string, KwokInstanceType>>;
}

/** The table in `data/instance-types.json`. */
export function kwokInstanceTypes(): Readonly<Record<string, KwokInstanceType>> {
  return readData<InstanceTypeTable>("instance-types.json").types;
}

/**
 * Region of an availability zone: `ap-northeast-1a` -> `ap-northeast-1`, and for Local Zones
 * `us-west-2-lax-1a` -> `us-west-2`. Returns undefined for anything that is not an AWS zone name.
 */
export function regionOfZone(zone: string): string | undefined {
  return /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)(?:[a-z]|-[a-z0-9-]+)$/.exec(zone)?.[1];
}

/**
 * Capacity and allocatable the way the EKS AMIs' bootstrap (nodeadm) reserves them for the
 * kubelet: kube-reserved memory 255 MiB + 11 MiB per pod, CPU 6% of the first core, 1% of the
 * second, 0.5% of the next two and 0.25% of the rest; eviction threshold memory.available 100 MiB.
 */
export function nodeResources(t: KwokInstanceType): {
  capacity: Record<string, string>;
  allocatable: Record<string, string>;
} {
  const cpuMilli = t.vcpu * 1000;
  const tiers: [cores: number, share: number][] = [
    [1, 0.06],
    [1, 0.01],
    [2, 0.005],
    [Number.POSITIVE_INFINITY, 0.0025],
  ];
  let reservedCpu = 0;
  let left = t.vcpu;
  for (const [cores, share] of tiers) {
    const n = Math.min(left, cores);
    reservedCpu += n * 1000 * share;
    left -= n;
  }
  const memMi = t.memoryGiB * 1024;
  const reservedMemMi = 255 + 11 * t.maxPods + 100;
  return {
    capacity: {
      cpu: String(t.vcpu),
      memory: `${memMi}Mi`,
      pods: String(t.maxPods),
      "ephemeral-storage": "20Gi",
    },
    allocatable: {
      cpu: `${cpuMilli - Math.ceil(reservedCpu)}m`,
      memory: `${memMi - reservedMemMi}Mi`,
      pods: String(t.maxPods),
      "ephemeral-storage": "18Gi",
    },
  };
}

/** Stable hash of everything in the spec that shapes the nodes. */
export function slotSpecHash(spec: NodeGroupSlotSpec): string {
  const canonical = JSON.stringify(spec, (_key, value: unknown) =>
    value && typeof value === "object" && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)))
      : value,
  );
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/**
 * A private IPv4 address for the i-th node, unique per node group and index (the second octet is
 * a hash of the node group name), so nodes and the pods kwok gives them host IPs are told apart.
 * The Pod CIDR (10.244.0.0/16) is kept clear.
 */
export function nodeIP(nodegroupName: string, index: number): string {
  const h = createHash("sha256").update(nodegroupName).digest();
  const second = 16 + ((h[0] ?? 0) % 200); // 10.16.x.x - 10.215.x.x
  return `10.${second}.${Math.floor(index / 250) % 256}.${(index % 250) + 4}`;
}

/** Name of the i-th node of a slot, e.g. `general-blue-0`. Deterministic, so creating again is idempotent. */
export function nodeName(nodegroupName: string, index: number): string {
  return `${nodegroupName}-${index}`;
}

export interface NodeTemplateOptions {
  /** Add {@link KWOK_NODE_TAINT}. */
  readonly taintFakeNodes: boolean;
  /** Region label; derived from the zone when not given. */
  readonly region?: string;
  readonly instanceTypes: Readonly<Record<string, KwokInstanceType>>;
}

/**
 * The i-th Node of a slot: zones and instance types are taken round-robin, so `desired` nodes over
 * `n` zones put `ceil(desired/n)` or `floor(desired/n)` in each (as the EKS Auto Scaling group
 * balances a managed node group over its subnets).
 * @throws Error when the instance type is not in the table (callers wrap it with the slot name).
 */
export function buildNode(spec: NodeGroupSlotSpec, index: number, opts: NodeTemplateOptions): V1Node {
  const name = nodeName(spec.nodegroupName, index);
  const zone = spec.zones[index % spec.zones.length];
  const instanceType = spec.instanceTypes[index % spec.instanceTypes.length];
  if (zone === undefined || instanceType === undefined) {
    throw new Error(`node group ${spec.nodegroupName} needs at least one zone and one instance type`);
  }
  const type = opts.instanceTypes[instanceType];
  if (type === undefined) {
    throw new Error(
      `instance type ${instanceType} is not in data/instance-types.json; use one of ${Object.keys(opts.instanceTypes).join(", ")} or add it to the table`,
    );
  }
  const region = opts.region ?? regionOfZone(zone) ?? zone;
  const { capacity, allocatable } = nodeResources(type);
  const kubeletVersion = `v${spec.kubernetesVersion}${/^\d+\.\d+$/.test(spec.kubernetesVersion) ? ".0" : ""}`;
  const taints: V1Taint[] = spec.taints.map((t) => ({
    key: t.key,
    effect: t.effect,
    ...(t.value ? { value: t.value } : {}),
  }));
  if (opts.taintFakeNodes) taints.push(KWOK_NODE_TAINT);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        ...spec.labels,
        [NODEGROUP_LABEL]: spec.nodegroupName,
        [CAPACITY_TYPE_LABEL]: spec.capacityType,
        "node.kubernetes.io/instance-type": instanceType,
        "topology.kubernetes.io/zone": zone,
        "topology.kubernetes.io/region": region,
        "kubernetes.io/arch": type.arch,
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        // kwok's own convention for selecting fake nodes.
        type: "kwok",
        [PROVIDER_LABEL]: "kwok",
      },
      annotations: {
        [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE,
        [SLOT_SPEC_HASH_ANNOTATION]: slotSpecHash(spec),
        // What the kubelet sets; the TTL controller would otherwise keep updating it.
        "node.alpha.kubernetes.io/ttl": "0",
      },
    },
    spec: {
      providerID: `kwok://${name}`,
      ...(taints.length > 0 ? { taints } : {}),
    },
    // Nodes accept status on create; kwok's node-initialize stage keeps these and adds conditions.
    status: {
      addresses: [
        { type: "InternalIP", address: nodeIP(spec.nodegroupName, index) },
        { type: "Hostname", address: name },
      ],
      capacity,
      allocatable,
      nodeInfo: {
        architecture: type.arch,
        operatingSystem: "linux",
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        containerRuntimeVersion: "kwok://v0.8.0",
        kernelVersion: "kwok",
        osImage: "Amazon Linux 2023 (simulated by kwok)",
        machineID: "",
        systemUUID: "",
        bootID: "",
      },
    },
  };
}
