/**
 * What a simulated node of a node group slot looks like: the Node object the kwok provider
 * creates. Pure functions, so the shape is unit-tested without a cluster. Placement and labels
 * (zone, instance type, the EKS labels) come from `../node-placement.ts`, shared with the `local`
 * provider's real nodes, and so do capacity and allocatable from the instance-type table (a real
 * node reserves down to the same allocatable); this file adds what only a simulated node needs
 * (addresses, kwok's annotation).
 */
import { createHash } from "node:crypto";
import type { V1Node, V1Taint } from "@kubernetes/client-node";
import {
  type InstanceType,
  instanceTypeTable,
  nodeResources,
  placeNode,
  SLOT_SPEC_HASH_ANNOTATION,
  slotSpecHash,
} from "../node-placement.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";

export {
  CAPACITY_TYPE_LABEL,
  NODEGROUP_LABEL,
  nodeName,
  nodeResources,
  PROVIDER_LABEL,
  regionOfZone,
  SLOT_SPEC_HASH_ANNOTATION,
  slotSpecHash,
} from "../node-placement.js";

/** kwok manages only nodes with this annotation (`manageNodesWithAnnotationSelector` in cluster/up.sh). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";
export const KWOK_NODE_ANNOTATION_VALUE = "fake";
/** Optional taint that keeps workloads without a toleration off fake nodes in a mixed cluster. */
export const KWOK_NODE_TAINT: V1Taint = { key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" };

/** An instance type of `data/instance-types.json` (the name predates the `local` provider). */
export type KwokInstanceType = InstanceType;

/** The table in `data/instance-types.json`. */
export function kwokInstanceTypes(): Readonly<Record<string, KwokInstanceType>> {
  return instanceTypeTable();
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
  const { name, type, labels } = placeNode(spec, index, {
    provider: "kwok",
    instanceTypes: opts.instanceTypes,
    ...(opts.region ? { region: opts.region } : {}),
  });
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
        ...labels,
        // kwok's own convention for selecting fake nodes.
        type: "kwok",
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
