/**
 * The upgrade planner's vocabulary: findings (each with a stable id and a fix), the ordered steps,
 * the plan it returns and the events it emits while it reads the cluster. The planner never
 * prints; the CLI renders these (STYLE.md 5, 6).
 */
import type { TenkaiEvent } from "../shared/events.js";

export type Severity = "blocker" | "warning" | "info";

/** What part of the upgrade a finding concerns. */
export type FindingArea = "api" | "skew" | "addon" | "rotation" | "eks";

/** Where an API finding was seen. */
export type FindingSource =
  | "live:last-applied"
  | "live:managed-fields"
  | "live:served"
  | "helm"
  | "platform"
  | "file";

export interface Finding {
  /** Stable id callers branch on, e.g. `API_REMOVED`, `SKEW_KUBELET_NEWER`, `EKS_FARGATE_DAEMONSET`. */
  readonly id: string;
  readonly severity: Severity;
  readonly area: FindingArea;
  readonly message: string;
  /** What to do about it. */
  readonly fix: string;
  /** The object, `Kind namespace/name` (or `Kind name` when cluster-scoped). */
  readonly object?: string;
  /** Where it was seen: a live field, a Helm release, the platform's manifests, or a file. */
  readonly source?: FindingSource;
  /** file:line, `helm release ns/name rev N`, or the field manager. */
  readonly location?: string;
  /** The step (target minor) it concerns, e.g. "1.36". */
  readonly step?: string;
  /** API findings: the apiVersion found and the one to move to. */
  readonly apiVersion?: string;
  readonly replacement?: string | null;
  readonly removedIn?: string | null;
}

export type StepKind =
  | "rotate-node-group"
  | "addon-before"
  | "control-plane"
  | "addon-after"
  | "fargate-restart"
  | "verify";

export interface PlanStep {
  readonly order: number;
  readonly kind: StepKind;
  /** The minor this step belongs to (the control plane's version after it). */
  readonly minor: string;
  readonly title: string;
  /** The command that performs it, when there is one. */
  readonly command?: string;
  /** What must hold before the next step starts. */
  readonly gate: string;
  /** rotate-node-group: the spec node group. */
  readonly group?: string;
  /** addon-before/addon-after: the add-on, its kind in the table and the version to move to. */
  readonly addon?: { readonly name: string; readonly kind: "eks-addon" | "chart"; readonly to: string };
}

export interface UpgradePlan {
  readonly platform: string;
  readonly environment?: string;
  /** The version the control plane runs now and where it goes. */
  readonly from: string;
  readonly to: string;
  /** Where `from` came from: the live cluster or the spec (offline). */
  readonly fromSource: "cluster" | "spec";
  /** The control plane's path, one minor per step. */
  readonly path: readonly string[];
  readonly steps: readonly PlanStep[];
  readonly findings: readonly Finding[];
  readonly counts: { readonly blocker: number; readonly warning: number; readonly info: number };
  /** What was read: objects scanned per source, so an empty result can be told from no scan. */
  readonly scanned: {
    readonly liveObjects: number;
    readonly liveTypes: readonly string[];
    readonly helmReleases: number;
    readonly platformObjects: number;
    readonly files: number;
  };
  /** The data tables the plan rests on, with their dates. */
  readonly data: Readonly<Record<string, { readonly asOf: string; readonly source: string }>>;
  /** `promotesTo` of the environment, so `upgrade run` can hold production until staging passed. */
  readonly promotesTo?: string;
  readonly promotedFrom?: readonly string[];
  readonly ms: number;
}

/** The planner's events on the one channel (shared/events.ts), `upgrade.*`. */
export type UpgradeEvent =
  | TenkaiEvent<"upgrade.version", { from: string; to: string; source: "cluster" | "spec"; steps: number }>
  | TenkaiEvent<"upgrade.scan.page", { resource: string; objects: number }>
  | TenkaiEvent<"upgrade.scan.type", { resource: string; objects: number; ms: number }>
  | TenkaiEvent<"upgrade.scan.helm", { releases: number }>
  | TenkaiEvent<"upgrade.scan.files", { files: number; objects: number }>
  | TenkaiEvent<"upgrade.finding", { finding: Finding }>
  | TenkaiEvent<"upgrade.addons.fallback", { error: string; table: string; asOf: string }>
  | TenkaiEvent<"upgrade.helm.unreadable", { secret: string; error: string }>;
