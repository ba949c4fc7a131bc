/**
 * How a real local node of a slot is started: the `cluster/node.sh up` arguments for the i-th
 * node. Placement and labels come from `../node-placement.ts`, the same code the kwok provider
 * uses, so a real node and a simulated one of the same slot carry the same EKS labels, zone and
 * instance type. Pure, unit-tested without a cluster.
 *
 * What differs from kwok, and why:
 * - CPU and memory are the machine's: a kubelet reports what it finds. The instance type sets the
 *   pod limit (`--max-pods`, the EKS AMI's number for the type) and the labels.
 * - `kubernetes.io/arch`, `kubernetes.io/os` and `kubernetes.io/hostname` are left to the kubelet,
 *   which sets them from the machine and the node name; an instance type of another architecture
 *   than this machine's is refused rather than labelled with an architecture it does not run.
 */
import { arch as hostArch } from "node:process";
import { type InstanceType, type NodePlacement, placeNode } from "../node-placement.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";

/** Labels the kubelet sets itself from the machine and the node name. */
const KUBELET_OWNED_LABELS = new Set(["kubernetes.io/arch", "kubernetes.io/os", "kubernetes.io/hostname"]);

/** This machine's architecture in Kubernetes' words. */
export function machineArch(): string {
  return hostArch === "x64" ? "amd64" : hostArch;
}

export interface NodeStart {
  readonly placement: NodePlacement;
  /** Arguments after `node.sh up`. */
  readonly args: readonly string[];
}

export interface NodeArgsOptions {
  readonly clusterDir: string;
  readonly instanceTypes: Readonly<Record<string, InstanceType>>;
  readonly region?: string;
}

/**
 * `node.sh up` arguments for the i-th node of the slot.
 * @throws Error when the instance type is unknown or of another architecture than this machine.
 */
export function nodeStart(spec: NodeGroupSlotSpec, index: number, opts: NodeArgsOptions): NodeStart {
  const placement = placeNode(spec, index, {
    provider: "local",
    instanceTypes: opts.instanceTypes,
    ...(opts.region ? { region: opts.region } : {}),
  });
  const args = ["--dir", opts.clusterDir, "--name", placement.name];
  for (const [k, v] of Object.entries(placement.labels)) {
    if (!KUBELET_OWNED_LABELS.has(k)) args.push("--label", `${k}=${v}`);
  }
  for (const t of spec.taints) args.push("--taint", `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`);
  args.push("--max-pods", String(placement.type.maxPods));
  const version = nodeVersion(spec.kubernetesVersion);
  if (version) args.push("--version", version);
  return { placement, args };
}

/**
 * The kubelet/kube-proxy release a real node of the slot runs: a patch release (`1.36.3`,
 * `v1.36.3`) is started exactly (node.sh refuses one that is not built); a minor (`1.36`, as
 * platform.yaml says it) leaves it to node.sh, which starts the control plane's own release.
 */
export function nodeVersion(kubernetesVersion: string): string | undefined {
  const m = /^v?(\d+\.\d+\.\d+)$/.exec(kubernetesVersion.trim());
  return m ? `v${m[1]}` : undefined;
}

/**
 * Why a real node of this slot cannot run on this machine, or undefined: every instance type must
 * be of this machine's architecture.
 */
export function realNodeProblem(
  spec: NodeGroupSlotSpec,
  types: Readonly<Record<string, InstanceType>>,
  arch: string = machineArch(),
): string | undefined {
  const foreign = spec.instanceTypes.filter((t) => types[t] && types[t].arch !== arch);
  if (foreign.length === 0) return undefined;
  return `instance type ${foreign.join(", ")} is ${types[foreign[0] ?? ""]?.arch}, but real local nodes run on this ${arch} machine; use an ${arch} instance type for this node group, or kwok nodes (local: { nodes: kwok })`;
}
