/**
 * What an apply reports: its events and its summary. A module of their own so that the parts of
 * apply (ApplySet pruning in applyset-live.ts, the apply loop in apply.ts) share them without
 * importing each other.
 */
import type { Phase } from "./order.js";

export type ApplyOutcome = "created" | "configured" | "unchanged";

export type ApplyEvent =
  | { type: "apply.start"; message: string; applySetId: string; objects: number; dryRun: boolean }
  | { type: "apply.phase"; message: string; phase: Phase; objects: number }
  | { type: "apply.object"; message: string; ref: string; outcome: ApplyOutcome }
  | { type: "apply.crd-established"; message: string; name: string }
  | { type: "apply.rollout"; message: string; ref: string; ready: number; desired: number; done: boolean }
  | { type: "apply.prune"; message: string; ref: string }
  | { type: "apply.done"; message: string; summary: ApplySummary };

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
