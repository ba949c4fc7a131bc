/**
 * The rotation engine's vocabulary: its options (one readonly object, defaults resolved in
 * `resolveOptions`), its injected dependencies, the state it records in the cluster, and the typed
 * events it emits. The engine never prints; the CLI renders these events (STYLE.md 6, 7, 9).
 */
import type { NodeGroupSlotSpec, NodeProvider, Slot } from "../providers/node-provider.js";
import type { TargetHealthSource } from "../providers/target-health.js";
import type { Clock } from "../shared/clock.js";
import type { EventSink, TenkaiEvent } from "../shared/events.js";
import type { RotationCluster } from "./cluster.js";

export type RotationPhase =
  | "creating-green"
  | "waiting-green"
  | "cordoning"
  | "draining"
  | "deleting-blue"
  | "done"
  | "rolling-back"
  | "rolled-back";

/** What `rotation-<group>` in `tenkai-system` holds; written after every step. */
export interface RotationState {
  readonly group: string;
  readonly phase: RotationPhase;
  /** The slot being replaced (blue) and the one replacing it (green). */
  readonly from: Slot;
  readonly to: Slot;
  readonly fromNodegroup: string;
  readonly toNodegroup: string;
  /** The slot that carries the workloads now: `from` until the rotation is done, then `to`. */
  readonly activeSlot: Slot;
  /** Blue nodes seen when the rotation started (and any that joined blue since). */
  readonly blueNodes: readonly string[];
  readonly nodesDone: readonly string[];
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** The green slot as created, so a resumed run creates exactly the same one. */
  readonly greenSpec?: NodeGroupSlotSpec;
}

export interface RotationOptions {
  /** Spec node group name. */
  readonly group: string;
  /** The slot spec the green slot is created from, minus `slot`/`nodegroupName` (filled here). */
  readonly slotTemplate: Omit<NodeGroupSlotSpec, "slot" | "nodegroupName">;
  /** The spec's `activeSlot`; the slot recorded in the cluster by a finished rotation wins. */
  readonly specActiveSlot: Slot;
  /** Nodes draining at once (the rotation budget). Default 10. */
  readonly maxDraining?: number;
  /** Evictions in flight at once (HTTP requests). Default 64. */
  readonly maxConcurrentEvictions?: number;
  /**
   * Pods on their way at once (evicted and still terminating, or started and not Ready yet);
   * more evictions wait, budgets with the most rounds left first. Default: no limit (a window
   * of 64 measured slower on a loaded machine, where latency, not a queue, set the pace).
   */
  readonly maxPodsMoving?: number;
  /** Bound on every wait (green Ready, drain, surge, pods gone), ms. Default 30 min. */
  readonly timeoutMs?: number;
  /** A pod blocked this long emits `stalled` (and again every period). Default 10 s. */
  readonly stallAfterMs?: number;
  /** Evict pods that no controller will recreate. Default false (they block the rotation). */
  readonly forceUnreplicated?: boolean;
  /** Evict pods with emptyDir volumes (their data is lost). Default false (they block). */
  readonly deleteEmptyDirData?: boolean;
  /**
   * Past a tenant's budget: a pod in a tenant namespace (labelled `tenkai.dev/tenant`) that a
   * PodDisruptionBudget (or several overlapping ones) has held back this long is deleted instead of
   * evicted, with its UID as precondition and its grace period, and reported per pod
   * (`budget-overridden`), the way EKS managed node groups stop honouring a budget after 15 min.
   * Platform and system budgets are never overridden. Default 15 min; `undefined` after
   * resolution never happens: pass `Infinity` to always wait.
   */
  readonly budgetTimeoutMs?: number;
  /** Do not surge single-replica Deployments before evicting them. Default false. */
  readonly noSurge?: boolean;
  /** Decide and emit the plan; change nothing. Default false. */
  readonly dryRun?: boolean;
  /** Namespace of the state ConfigMap. Default `tenkai-system`. */
  readonly stateNamespace?: string;
  /** Stops the run (as if killed) when aborted; the next run resumes. */
  readonly signal?: AbortSignal;
  /**
   * Called at every step boundary and after each eviction with a point name; throwing from it
   * stops the run there. Fault tests use it to kill the rotation at known points.
   */
  readonly checkpoint?: (point: string) => void;
}

/** What a rotation works with, injected (STYLE.md 9): tests pass fakes, the CLI the real ones. */
export interface RotationDeps {
  /** The cluster: API clients and the pod/budget watch; `rotationCluster(kubeConfig)` makes one. */
  readonly cluster: RotationCluster;
  readonly provider: NodeProvider;
  /** Where events go. Default: nowhere. */
  readonly sink?: EventSink<RotationEvent>;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default Math.random; used for backoff jitter. */
  readonly random?: () => number;
  /**
   * The load balancer's view of the moved pods, asked before the old slot is deleted once their
   * target-health readiness gates are True (elbv2 on EKS). Default: the readiness gates only.
   */
  readonly targetHealth?: TargetHealthSource;
}

/** One reason a pod or the rotation as a whole cannot go ahead (kubectl filters.go style). */
export interface Blocker {
  readonly code: string;
  readonly message: string;
  readonly fix: string;
  readonly pod?: string;
  readonly node?: string;
  readonly budgets?: readonly string[];
}

export interface RotationPlan {
  readonly group: string;
  readonly from: Slot;
  readonly to: Slot;
  readonly fromNodegroup: string;
  readonly toNodegroup: string;
  readonly blueNodes: readonly string[];
  readonly zones: readonly string[];
  readonly greenSpec: NodeGroupSlotSpec;
  /** Pods to evict, `ns/name`. */
  readonly evict: readonly string[];
  /** Single-replica Deployments surged before their pod is evicted, `ns/name`. */
  readonly surge: readonly string[];
  readonly skipped: readonly { pod: string; reason: string }[];
  readonly warnings: readonly { pod: string; code: string; message: string }[];
  readonly blockers: readonly Blocker[];
  /** Requests of the pods to move against green's allocatable. */
  readonly capacity: {
    readonly cpuMilli: number;
    readonly memoryBytes: number;
    readonly pods: number;
    readonly greenCpuMilli: number;
    readonly greenMemoryBytes: number;
    readonly greenPods: number;
  };
}

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** What a rotation reports (shared/events.ts): `rotation.<thing>[.<what happened>]`, ids in `data`. */
export type RotationEvent =
  | Ev<"rotation.plan", { plan: RotationPlan }>
  | Ev<"rotation.resumed", { group: string; phase: RotationPhase; nodesDone: number }>
  | Ev<"rotation.phase", { group: string; phase: RotationPhase }>
  | Ev<
      "rotation.green.waiting",
      { nodegroup: string; ready: number; desired: number; missingZones: string[] }
    >
  | Ev<"rotation.green.ready", { nodegroup: string; nodes: string[] }>
  | Ev<"rotation.node.cordoned", { node: string }>
  | Ev<"rotation.node.uncordoned", { node: string }>
  | Ev<"rotation.node.draining", { node: string; pods: number }>
  | Ev<"rotation.node.drained", { node: string; ms: number }>
  | Ev<"rotation.pod.evicted", { pod: string; node: string; budgets: string[]; ms: number }>
  | Ev<"rotation.drain.done", { nodes: number; evictions: number; ms: number; scans: number; scanMs: number }>
  | Ev<"rotation.pod.retry", { pod: string; node: string; status: number; attempt: number; delayMs: number }>
  | Ev<"rotation.pod.gone", { pod: string; node: string }>
  | Ev<"rotation.surge.started", { deployment: string; replicas: number }>
  | Ev<"rotation.surge.ready", { deployment: string; pod: string; node: string }>
  | Ev<"rotation.surge.restored", { deployment: string; replicas: number }>
  | Ev<
      "rotation.stalled",
      {
        pod: string;
        node: string;
        budget: string;
        healthy: number;
        desired: number;
        allowed: number;
        /** Evictions of this run the budget's status does not show yet. */
        inFlight: number;
        waitedMs: number;
      }
    >
  /** A tenant's pod deleted past the budget(s) that held it back longer than `budgetTimeoutMs`. */
  | Ev<"rotation.budget.overridden", { pod: string; node: string; budget: string; waitedMs: number }>
  /** Moved pods are not healthy load balancer targets yet; emitted whenever that set changes. */
  | Ev<
      "rotation.targets.waiting",
      {
        group: string;
        nodegroup: string;
        pods: string[];
        gates: number;
        targets: number;
        sourceError?: string;
      }
    >
  | Ev<"rotation.targets.healthy", { group: string; nodegroup: string; ms: number }>
  | Ev<"rotation.slot.deleting", { nodegroup: string }>
  /** The `stack` provider set the group's activeSlot in platform.yaml (the CLI reports it). */
  | Ev<"rotation.spec.written", { group: string; slot: Slot; file: string }>
  | Ev<"rotation.done", { group: string; activeSlot: Slot; ms: number }>
  /** Something to look at that does not stop the run; `warning` is its stable code. */
  | Ev<"rotation.warning", { warning: string }>;
