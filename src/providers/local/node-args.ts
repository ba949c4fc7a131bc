/**
 * How a real local node of a slot is started: the `cluster/node.sh up` arguments for the i-th
 * node. Placement and labels come from `../node-placement.ts`, the same code the kwok provider
 * uses, so a real node and a simulated one of the same slot carry the same EKS labels, zone and
 * instance type. Pure, unit-tested without a cluster.
 *
 * What differs from kwok, and why:
 * - Capacity is the machine's: a kubelet reports what it finds. Allocatable, what the scheduler
 *   uses, is brought down to the instance type's (the same numbers the kwok provider gives a
 *   simulated node, `nodeResources`) by reserving the rest for the system (`--kube-reserved`,
 *   written to the kubelet's `kubeReserved`); the pod limit is the EKS AMI's `--max-pods`. Where
 *   the machine has less than the type allocates (2 cores here, a 4-vCPU type), nothing is
 *   reserved for that resource and the node says so in the annotation `tenkai.dev/allocatable-clamped`.
 * - `kubernetes.io/arch`, `kubernetes.io/os` and `kubernetes.io/hostname` are left to the kubelet,
 *   which sets them from the machine and the node name; an instance type of another architecture
 *   than this machine's is refused rather than labelled with an architecture it does not run.
 */
import { availableParallelism, totalmem } from "node:os";
import { arch as hostArch } from "node:process";
import { type InstanceType, type NodePlacement, nodeResources, placeNode } from "../node-placement.js";
import type { NodeGroupSlotSpec } from "../node-provider.js";

/** Labels the kubelet sets itself from the machine and the node name. */
const KUBELET_OWNED_LABELS = new Set(["kubernetes.io/arch", "kubernetes.io/os", "kubernetes.io/hostname"]);

/** This machine's architecture in Kubernetes' words. */
export function machineArch(): string {
  return hostArch === "x64" ? "amd64" : hostArch;
}

/** Says which instance type's allocatable a real node reserves down to. */
export const ALLOCATABLE_FROM_ANNOTATION = "tenkai.dev/allocatable-from";
/** What the machine could not give (present only when something was clamped). */
export const ALLOCATABLE_CLAMPED_ANNOTATION = "tenkai.dev/allocatable-clamped";

/** What a kubelet on this machine reports as capacity (cadvisor: logical CPUs, MemTotal). */
export interface Machine {
  readonly cpuMilli: number;
  readonly memoryMi: number;
}

export function thisMachine(): Machine {
  return { cpuMilli: availableParallelism() * 1000, memoryMi: Math.floor(totalmem() / 2 ** 20) };
}

/** `evictionHard: memory.available` of every real node (cluster/node.sh): allocatable excludes it. */
export const NODE_EVICTION_MEMORY_MI = 50;

export interface Reservation {
  /** The kubelet's kubeReserved, e.g. `cpu=70m,memory=16537Mi`, or "" when nothing is reserved. */
  readonly kubeReserved: string;
  /** Allocatable the node will report. */
  readonly allocatable: { readonly cpuMilli: number; readonly memoryMi: number; readonly pods: number };
  /** One line per resource the machine has less of than the type allocates, else empty. */
  readonly clamped: readonly string[];
}

const milli = (q: string): number => (q.endsWith("m") ? Number(q.slice(0, -1)) : Number(q) * 1000);
const mebi = (q: string): number => Number(q.replace(/Mi$/, ""));

/**
 * How much a real node of instance type `type` reserves on `machine` so that its allocatable is
 * the type's (allocatable = capacity - kubeReserved - evictionHard for memory), clamped to what
 * the machine has.
 */
export function reservationFor(typeName: string, type: InstanceType, machine: Machine): Reservation {
  const want = nodeResources(type).allocatable;
  const wantCpu = milli(want.cpu ?? "0");
  const wantMem = mebi(want.memory ?? "0");
  const machineMem = machine.memoryMi - NODE_EVICTION_MEMORY_MI;
  const cpu = Math.max(0, machine.cpuMilli - wantCpu);
  const mem = Math.max(0, machineMem - wantMem);
  const clamped: string[] = [];
  if (machine.cpuMilli < wantCpu)
    clamped.push(`cpu: ${typeName} allocates ${wantCpu}m, this machine has ${machine.cpuMilli}m`);
  if (machineMem < wantMem)
    clamped.push(`memory: ${typeName} allocates ${wantMem}Mi, this machine has ${machineMem}Mi`);
  const parts = [...(cpu > 0 ? [`cpu=${cpu}m`] : []), ...(mem > 0 ? [`memory=${mem}Mi`] : [])];
  return {
    kubeReserved: parts.join(","),
    allocatable: {
      cpuMilli: Math.min(wantCpu, machine.cpuMilli),
      memoryMi: Math.min(wantMem, machineMem),
      pods: type.maxPods,
    },
    clamped,
  };
}

/** The annotations a real node carries about its allocatable (set when the provider adopts it). */
export function reservationAnnotations(typeName: string, r: Reservation): Record<string, string | null> {
  return {
    [ALLOCATABLE_FROM_ANNOTATION]: `${typeName}: cpu ${r.allocatable.cpuMilli}m, memory ${r.allocatable.memoryMi}Mi, pods ${r.allocatable.pods}`,
    [ALLOCATABLE_CLAMPED_ANNOTATION]: r.clamped.length > 0 ? r.clamped.join("; ") : null,
  };
}

export interface NodeStart {
  readonly placement: NodePlacement;
  /** What the node reserves so its allocatable is its instance type's. */
  readonly reservation: Reservation;
  /** Arguments after `node.sh up`. */
  readonly args: readonly string[];
}

export interface NodeArgsOptions {
  readonly clusterDir: string;
  readonly instanceTypes: Readonly<Record<string, InstanceType>>;
  readonly region?: string;
  /** The machine the kubelet runs on. Default {@link thisMachine}. */
  readonly machine?: Machine;
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
  const reservation = reservationFor(placement.instanceType, placement.type, opts.machine ?? thisMachine());
  if (reservation.kubeReserved) args.push("--kube-reserved", reservation.kubeReserved);
  const version = nodeVersion(spec.kubernetesVersion);
  if (version) args.push("--version", version);
  return { placement, reservation, args };
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
