/**
 * What `tenkai local up|down|status` report while they run (STYLE.md 6: engines emit, the CLI
 * renders). Apply events from the Kubernetes plane pass through unchanged.
 */
import type { ApplyEvent } from "../kube/api/apply.js";

export type LocalEvent =
  | { type: "local.target"; message: string; specTarget: string }
  | { type: "local.script"; message: string; script: string; line: string }
  | { type: "local.cluster"; message: string; clusterDir: string; reused: boolean; ms: number }
  | {
      type: "local.nodegroup";
      message: string;
      group: string;
      nodegroupName: string;
      provider: "local" | "kwok";
      desired: number;
    }
  | {
      type: "local.nodegroup.ready";
      message: string;
      nodegroupName: string;
      nodes: readonly string[];
      ms: number;
    }
  | { type: "local.dns"; message: string; installed: boolean }
  | { type: "local.image"; message: string; workload: string; from: string; to: string }
  | { type: "local.left-out"; message: string; ref: string; reason: string }
  | { type: "local.down"; message: string; clusterDir: string; purged: boolean };

export type LocalUpEvent = LocalEvent | ApplyEvent;
