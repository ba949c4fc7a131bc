/**
 * What an apply reports: its events and its summary. A module of their own so that the parts of
 * apply (ApplySet pruning in applyset-live.ts, the apply loop in apply.ts) share them without
 * importing each other.
 */
import type { TenkaiEvent } from "../../shared/events.js";
import type { Phase } from "./order.js";

export type ApplyOutcome = "created" | "configured" | "unchanged";

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** What an apply reports (shared/events.ts); `apply.object` is `debug`, the rest `info`. */
export type ApplyEvent =
  | Ev<"apply.start", { applySetId: string; objects: number; dryRun: boolean }>
  | Ev<"apply.phase", { phase: Phase; objects: number }>
  | Ev<"apply.object", { ref: string; outcome: ApplyOutcome }>
  | Ev<"apply.crd-established", { name: string }>
  | Ev<"apply.quota-not-current", { quotas: string[] }>
  | Ev<"apply.rollout", { ref: string; ready: number; desired: number; done: boolean }>
  | Ev<"apply.prune", { ref: string }>
  | Ev<"apply.done", { summary: ApplySummary }>;

export interface ApplySummary {
  readonly applySetId: string;
  readonly dryRun: boolean;
  readonly total: number;
  readonly created: number;
  readonly configured: number;
  readonly unchanged: number;
  readonly pruned: number;
  readonly durationMs: number;
}
