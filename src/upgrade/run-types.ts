/**
 * `tenkai upgrade run`'s vocabulary: the contracts it is given (the control plane, add-ons, node
 * providers, the verification and the record of what the environment before this one passed), the
 * state it keeps in the cluster, its options and the typed events it emits. The engine never
 * prints; the CLI renders these (STYLE.md 6, 7, 9).
 */
import type { NodeProvider } from "../providers/node-provider.js";
import type { RotationCluster } from "../rotation/cluster.js";
import type { RotationEvent } from "../rotation/types.js";
import type { Clock } from "../shared/clock.js";
import type { EventSink, TenkaiEvent } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import type { UpgradePlanDeps } from "./plan.js";
import type { PlanStep, StepKind, UpgradeEvent } from "./types.js";

/** Where the control plane's version comes from and how it moves one minor. */
export interface ControlPlaneDriver {
  /** `local` or `eks`. */
  readonly name: string;
  /** The version the control plane reports now, e.g. `v1.35.4` or `v1.35.2-eks-1234`. */
  version(): Promise<string>;
  /**
   * Moves the control plane to `minor` (one minor above the running one) and returns once it
   * serves it and is healthy, within `timeoutMs`. Idempotent: on `minor` already, returns at once;
   * an update already under way (a run killed while waiting) is waited for, not started twice.
   * @returns the version it reports afterwards.
   * @throws TenkaiError `UPGRADE_CONTROL_PLANE_FAILED`, `UPGRADE_NO_RELEASE`, `UPGRADE_STEP_TIMEOUT`.
   */
  upgrade(minor: string, timeoutMs: number, signal?: AbortSignal): Promise<string>;
  /**
   * The `kubernetesVersion` new node slots get once the control plane runs `version`: on EKS the
   * minor (`1.36`, the node group API's word), locally the exact release (`1.36.3`), so real nodes
   * start the kubelet the control plane was built with and kwok nodes report it.
   */
  nodeVersion(version: string): string;
}

/** Moves one add-on of the plan. */
export interface AddonDriver {
  /**
   * Moves `addon` to `version` and returns once it rolled out, within `timeoutMs`; idempotent.
   * @returns `moved`, or `skipped` with the reason when this target has nothing to move (the local
   *   cluster's add-ons are pinned builds of cluster/addons.sh).
   * @throws TenkaiError `UPGRADE_ADDON_FAILED`, `UPGRADE_ADDON_MANUAL`, `UPGRADE_STEP_TIMEOUT`.
   */
  update(
    addon: NonNullable<PlanStep["addon"]>,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ outcome: "moved" } | { outcome: "skipped"; reason: string }>;
}

/** What the verification step is given. */
export interface VerifyStep {
  /** The minor the control plane runs now (the step's). */
  readonly minor: string;
  /** The run's target minor. */
  readonly target: string;
  readonly environment?: string;
  /**
   * What the run's baseline (taken before its first step, kept in its state) recorded, when one
   * was taken: the verification compares with it and reports what changed.
   */
  readonly baseline?: RunBaseline;
}

/**
 * The data path as it was before the run's first step (`TakeBaseline`), kept in the run's state
 * so a resumed run compares with the same one.
 */
export interface RunBaseline {
  /** ISO 8601. */
  readonly takenAt: string;
  readonly summary: string;
  /** The verification's own record (for the data path: a `NetworkBaseline`). */
  readonly data?: unknown;
}

/**
 * Takes the baseline before the first step. Not green (`ok: false`): the run does not start,
 * since nothing could tell a loss the upgrade caused from one that was there before.
 */
export type TakeBaseline = () => Promise<{
  readonly ok: boolean;
  readonly summary: string;
  readonly baseline?: RunBaseline;
  readonly details?: unknown;
}>;

/** The result of a verification (`tenkai verify network` once wired; see the README). */
export interface VerifyResult {
  readonly ok: boolean;
  /** One line for people, e.g. `412 probes, 0 lost`. */
  readonly summary: string;
  /** The verification's own report, kept in the events and the promotion record. */
  readonly details?: unknown;
}

/** The last step of every minor: proves the platform works on it. Injected. */
export type Verify = (step: VerifyStep) => Promise<VerifyResult>;

/** What an environment records when it passed a target with a green verification. */
export interface PromotionRecord {
  readonly environment: string;
  /** The minor passed, e.g. `1.36`. */
  readonly target: string;
  /** The control plane's version when it passed, e.g. `v1.36.3`. */
  readonly version: string;
  readonly verifiedAt: string;
  readonly summary: string;
}

/**
 * Where environments record the targets they passed and where the next one reads them. The
 * Kubernetes implementation (promotion.ts) keeps them in the ConfigMap `tenkai-system/upgrade-verified`
 * of each environment's own cluster; the next environment reads its predecessor's through the
 * predecessor's kubeconfig context.
 */
export interface PromotionRecords {
  /** The record `environment` wrote for `target`, or undefined. */
  read(environment: string, target: string): Promise<PromotionRecord | undefined>;
  /** Records that this run's environment passed `record.target`. */
  write(record: PromotionRecord): Promise<void>;
  /** Where `environment`'s records are, for messages (`ConfigMap tenkai-system/... in context X`). */
  where(environment: string): string;
}

export type RunPhase = "running" | "done" | "failed";

/** One step as the run records it: the plan's step with a stable id. */
export interface RunStep {
  readonly id: string;
  readonly kind: StepKind;
  readonly minor: string;
  readonly title: string;
  readonly gate: string;
  readonly group?: string;
  readonly addon?: PlanStep["addon"];
}

/** What `upgrade-run` in `tenkai-system` holds; written before and after every step. */
export interface UpgradeRunState {
  readonly target: string;
  readonly from: string;
  readonly environment?: string;
  readonly steps: readonly RunStep[];
  /** Ids of the steps whose gate held. */
  readonly done: readonly string[];
  /** The step under way, when one is. */
  readonly current?: string;
  readonly phase: RunPhase;
  /** The failure that stopped the run, when `failed`. */
  readonly error?: { readonly code: string; readonly message: string; readonly step: string };
  /** The baseline taken before the first step, when the run has one (`UpgradeRunDeps.baseline`). */
  readonly baseline?: RunBaseline;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
}

export interface UpgradeRunOptions {
  readonly platform: Platform;
  /** The environment overlay the platform was loaded with (`-e`). */
  readonly environment?: string;
  /** Target minor, e.g. `1.36`. */
  readonly to: string;
  /** The spec file, for the commands the plan prints. Default `platform.yaml`. */
  readonly specFile?: string;
  /** Decide and print the steps and the gates that would hold the run; change nothing. */
  readonly dryRun?: boolean;
  /** Bound on every step (control plane, add-on, each wait of a rotation, verification). Default 30 min. */
  readonly timeoutMs?: number;
  /** Passed to every rotation (see RotationOptions). */
  readonly rotation?: {
    readonly maxDraining?: number;
    readonly budgetTimeoutMs?: number;
    readonly noSurge?: boolean;
    readonly stallAfterMs?: number;
  };
  /** Namespace of the state ConfigMaps. Default `tenkai-system`. */
  readonly stateNamespace?: string;
  readonly signal?: AbortSignal;
  /**
   * Called at every step boundary (`step:<id>:start`, `step:<id>:done`) and inside rotations;
   * throwing stops the run there, as a kill would. Fault tests use it.
   */
  readonly checkpoint?: (point: string) => void;
}

export interface UpgradeRunDeps {
  /** The cluster (rotation's clients and watch); also where the run's state lives. */
  readonly cluster: RotationCluster;
  /** For the plan's live scan; without one the plan is made from the spec. */
  readonly planClient?: UpgradePlanDeps["client"];
  readonly controlPlane: ControlPlaneDriver;
  readonly addons: AddonDriver;
  /** The node provider of a spec node group (providers/choose.ts decides which). */
  readonly providerFor: (group: string) => NodeProvider | Promise<NodeProvider>;
  readonly verify: Verify;
  /** Taken before the first step of a new run and kept in its state; none: no baseline. */
  readonly baseline?: TakeBaseline;
  /** Required when the environment has a predecessor (an environment with `promotesTo` to it). */
  readonly promotions?: PromotionRecords;
  readonly sink?: EventSink<UpgradeRunEvent>;
  readonly clock?: Clock;
}

export interface UpgradeRunResult {
  readonly target: string;
  readonly from: string;
  readonly version: string;
  readonly phase: RunPhase | "planned";
  readonly steps: readonly (RunStep & { readonly status: "done" | "skipped" | "pending" })[];
  readonly verification?: VerifyResult;
  readonly resumed: boolean;
  readonly ms: number;
}

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** What `upgrade run` reports: `upgrade.run.*`, plus the plan's and each rotation's own events. */
export type UpgradeRunEvent =
  | UpgradeEvent
  | RotationEvent
  | Ev<"upgrade.run.plan", { target: string; from: string; steps: RunStep[]; dryRun: boolean }>
  | Ev<"upgrade.run.resumed", { target: string; step: string; done: number; total: number }>
  | Ev<
      "upgrade.run.promotion",
      { predecessor: string; target: string; verified: boolean; where: string; verifiedAt?: string }
    >
  | Ev<
      "upgrade.run.step.started",
      { step: string; kind: StepKind; minor: string; index: number; total: number }
    >
  | Ev<"upgrade.run.step.done", { step: string; kind: StepKind; minor: string; ms: number }>
  | Ev<"upgrade.run.step.skipped", { step: string; kind: StepKind; reason: string }>
  | Ev<"upgrade.run.control-plane", { from: string; to: string }>
  | Ev<"upgrade.run.nodes", { group: string; nodes: number; behind: string[]; version: string }>
  | Ev<"upgrade.run.baseline", { ok: boolean; summary: string; takenAt?: string; details?: unknown }>
  | Ev<"upgrade.run.verified", { minor: string; ok: boolean; summary: string; details?: unknown }>
  | Ev<"upgrade.run.recorded", { environment: string; target: string; where: string }>
  | Ev<"upgrade.run.done", { target: string; version: string; ms: number }>;
