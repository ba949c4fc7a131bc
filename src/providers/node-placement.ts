/**
 * Where the i-th node of a node group slot goes and how it is labelled: shared by every local
 * provider (`kwok` makes a simulated Node with these labels, `local` starts a real kubelet that
 * registers with them), so selectors and spread constraints written for EKS behave the same on
 * both. Pure functions, unit-tested without a cluster.
 *
 * Labels follow what EKS managed node groups put on their nodes (eks.amazonaws.com/nodegroup,
 * eks.amazonaws.com/capacityType) and what the kubelet and the AWS cloud provider add
 * (topology.kubernetes.io/zone and region, node.kubernetes.io/instance-type, kubernetes.io/arch,
 * kubernetes.io/os, kubernetes.io/hostname).
 */
import { createHash } from "node:crypto";
import { readData } from "../shared/data.js";
import type { NodeGroupSlotSpec } from "./node-provider.js";

export const NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup";
export const CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType";
/** sha256 of the slot spec, to tell "same spec again" (idempotent) from "another spec". */
export const SLOT_SPEC_HASH_ANNOTATION = "tenkai.dev/slot-spec-hash";
/** Which provider made a node: `kwok` or `local`. */
export const PROVIDER_LABEL = "tenkai.dev/node-provider";

export interface InstanceType {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly maxPods: number;
  readonly arch: "amd64" | "arm64";
}

interface InstanceTypeTable {
  readonly source: string;
  readonly asOf: string;
  readonly types: Readonly<Record<string, InstanceType>>;
}

/** The table in `data/instance-types.json`. */
export function instanceTypeTable(): Readonly<Record<string, InstanceType>> {
  return readData<InstanceTypeTable>("instance-types.json").types;
}

/**
 * Capacity and allocatable the way the EKS AMIs' bootstrap (nodeadm) reserves them for the
 * kubelet: kube-reserved memory 255 MiB + 11 MiB per pod, CPU 6% of the first core, 1% of the
 * second, 0.5% of the next two and 0.25% of the rest; eviction threshold memory.available 100 MiB.
 */
export function nodeResources(t: InstanceType): {
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

/**
 * Region of an availability zone: `ap-northeast-1a` -> `ap-northeast-1`, and for Local Zones
 * `us-west-2-lax-1a` -> `us-west-2`. Returns undefined for anything that is not an AWS zone name.
 */
export function regionOfZone(zone: string): string | undefined {
  return /^([a-z]{2}(?:-gov)?-[a-z]+-\d+)(?:[a-z]|-[a-z0-9-]+)$/.exec(zone)?.[1];
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

/** Name of the i-th node of a slot, e.g. `general-blue-0`. Deterministic, so creating again is idempotent. */
export function nodeName(nodegroupName: string, index: number): string {
  return `${nodegroupName}-${index}`;
}

/**
 * Why a provider cannot build this slot, or undefined when it can: the message names the value
 * and the fix (providers throw it as `CREATE_FAILED`).
 */
export function slotSpecProblem(
  spec: NodeGroupSlotSpec,
  types: Readonly<Record<string, InstanceType>>,
): string | undefined {
  if (spec.zones.length === 0)
    return "no zones given; list the availability zones the node group spreads over";
  if (spec.instanceTypes.length === 0) return "no instance types given";
  const unknown = spec.instanceTypes.filter((t) => types[t] === undefined);
  if (unknown.length > 0) {
    return `instance type ${unknown.join(", ")} is not in data/instance-types.json; use one of ${Object.keys(types).join(", ")} or add it to the table`;
  }
  if (!Number.isInteger(spec.desired) || spec.desired < spec.min || spec.desired > spec.max) {
    return `desired ${spec.desired} must be a whole number between min ${spec.min} and max ${spec.max}`;
  }
  return undefined;
}

export interface PlacementOptions {
  /** Value of {@link PROVIDER_LABEL}. */
  readonly provider: string;
  /** Region label; derived from the zone when not given. */
  readonly region?: string;
  readonly instanceTypes: Readonly<Record<string, InstanceType>>;
}

export interface NodePlacement {
  readonly name: string;
  readonly zone: string;
  readonly region: string;
  readonly instanceType: string;
  readonly type: InstanceType;
  /** Every label the node carries: the spec's own, then the EKS, topology and provider labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The i-th node of a slot: zones and instance types are taken round-robin, so `desired` nodes over
 * `n` zones put `ceil(desired/n)` or `floor(desired/n)` in each (as the EKS Auto Scaling group
 * balances a managed node group over its subnets).
 * @throws Error when the instance type is not in the table (callers wrap it with the slot name).
 */
export function placeNode(spec: NodeGroupSlotSpec, index: number, opts: PlacementOptions): NodePlacement {
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
  return {
    name,
    zone,
    region,
    instanceType,
    type,
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
      [PROVIDER_LABEL]: opts.provider,
    },
  };
}
