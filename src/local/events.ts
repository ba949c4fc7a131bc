/**
 * What `tenkai local up|down` report while they run, on the one event channel (shared/events.ts:
 * engines emit, the CLI renders). Apply events from the Kubernetes plane pass through unchanged.
 */
import type { ApplyEvent } from "../kube/api/apply-events.js";
import type { TenkaiEvent } from "../shared/events.js";

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

/** `local.script` lines are `debug`; the rest `info`. */
export type LocalEvent =
  | Ev<"local.target", { specTarget: string }>
  | Ev<"local.script", { script: string; line: string }>
  | Ev<"local.cluster", { clusterDir: string; reused: boolean; ms: number }>
  | Ev<
      "local.nodegroup",
      { group: string; nodegroupName: string; provider: "local" | "kwok"; desired: number }
    >
  | Ev<"local.nodegroup.ready", { nodegroupName: string; nodes: readonly string[]; ms: number }>
  | Ev<"local.dns", { installed: boolean }>
  | Ev<"local.image", { workload: string; from: string; to: string }>
  | Ev<"local.left-out", { ref: string; reason: string }>
  | Ev<"local.workloads", { services: number }>
  | Ev<"local.down", { clusterDir: string; purged: boolean }>;

export type LocalUpEvent = LocalEvent | ApplyEvent;
