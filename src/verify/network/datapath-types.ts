/**
 * The contract of `tenkai verify network` (the data path after an upgrade step, after churn, over a
 * soak window): what it is asked, what it answers, and the baseline it saves and compares with.
 * `tenkai upgrade run` calls `verifyNetwork` as its last step and keeps `baseline` between runs.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { Clock } from "../../shared/clock.js";
import type { EventSink, TenkaiEvent } from "../../shared/events.js";
import type { Platform } from "../../spec/schema.js";
import type { PodExec } from "./exec.js";
import type { NetworkEvent, NetworkReport } from "./network.js";

/**
 * What one check is: `pod-pair` a probe pod to another probe pod (same node and across nodes, pod
 * address to pod address), `dns-pod` a lookup sent to one CoreDNS pod, `dns-service` a lookup sent
 * to the kube-dns Service address, `service` a connection to the probe Service's ClusterIP.
 */
export type DatapathKind = "pod-pair" | "dns-pod" | "dns-service" | "service";

/** One end of a check: a probe pod, a CoreDNS pod, or a Service address. */
export interface DatapathEnd {
  /** The node the pod runs on; undefined for a Service address. */
  readonly node?: string;
  /** `namespace/name` of the pod, or of the Service. */
  readonly pod: string;
  /** Which probe set (`a` churns, `b` stands), or `coredns` / `service`. */
  readonly role: string;
  readonly ip: string;
}

export interface DatapathCheck {
  /**
   * Stable across runs and churn (nodes and roles, never pod names), so a run compares with a
   * baseline taken before the pods were re-created: `pod-pair n1/a -> n2/b`.
   */
  readonly key: string;
  readonly kind: DatapathKind;
  readonly from: DatapathEnd;
  readonly to: DatapathEnd;
  readonly port: number;
  /** `same-node`, `cross-node`, or undefined for DNS and Service checks. */
  readonly scope?: "same-node" | "cross-node";
  readonly ok: boolean;
  /** The probe's own words: the connect or lookup error, `connected`, `resolved`. */
  readonly detail: string;
  /** Over a soak: rounds run and rounds in which this check failed. */
  readonly rounds: number;
  readonly failures: number;
}

/** What `--save-baseline` writes: the checks that connected, by key, with where they ran. */
export interface NetworkBaseline {
  readonly apiVersion: "tenkai.dev/v1alpha1";
  readonly kind: "NetworkBaseline";
  /** ISO 8601, from the engine's clock. */
  readonly takenAt: string;
  readonly nodes: readonly string[];
  /** Every check of the run, key -> whether it connected. */
  readonly checks: Readonly<Record<string, boolean>>;
  /** Per tenant: controls that connected and connections that were refused, as counted then. */
  readonly tenants?: Readonly<Record<string, { readonly ok: number; readonly total: number }>>;
}

/** A check whose outcome differs from the baseline's. */
export interface DatapathChange {
  readonly key: string;
  /** `lost`: connected in the baseline, fails now; `regained`: failed then, connects now. */
  readonly change: "lost" | "regained";
  readonly kind: DatapathKind;
  /** The nodes it touches, then the pods by name and address. */
  readonly nodes: readonly string[];
  readonly from: DatapathEnd;
  readonly to: DatapathEnd;
  readonly detail: string;
}

export interface BaselineDiff {
  readonly takenAt: string;
  readonly changes: readonly DatapathChange[];
  /** Nodes in the baseline not probed now (replaced by a rotation, removed), and the new ones. */
  readonly nodesGone: readonly string[];
  readonly nodesNew: readonly string[];
  /** Kinds of check the baseline had and this run has none of (no CoreDNS pods any more, ...). */
  readonly kindsGone: readonly DatapathKind[];
}

export interface NetworkVerification {
  /** Every check connected (every round of a soak), tenants' policies held, nothing else changed. */
  readonly ok: boolean;
  readonly checks: readonly DatapathCheck[];
  /** The failing checks, grouped for people: per node, the pairs that failed. */
  readonly losses: readonly DatapathLoss[];
  /** Real nodes probed, and the nodes that run no probe (kwok nodes: no containers run there). */
  readonly nodes: readonly string[];
  readonly skippedNodes: readonly { readonly node: string; readonly reason: string }[];
  /** Real nodes where a probe pod never got ready: a loss by itself. */
  readonly nodesWithoutProbes: readonly { readonly node: string; readonly reason: string }[];
  /** The tenant NetworkPolicy probes (`verify isolation --checks network`), when a spec was given. */
  readonly tenants?: NetworkReport;
  readonly churned: boolean;
  readonly soak?: { readonly seconds: number; readonly rounds: number; readonly failedRounds: number };
  readonly diff?: BaselineDiff;
  /** Save this to compare a later run with (`--save-baseline`). */
  readonly baseline: NetworkBaseline;
  readonly ms: number;
}

export interface DatapathLoss {
  readonly node: string;
  readonly kind: DatapathKind;
  readonly key: string;
  /** `namespace/pod (ip) -> namespace/pod (ip)`. */
  readonly pair: string;
  readonly detail: string;
  readonly failures: number;
  readonly rounds: number;
}

export interface NetworkVerifyOptions {
  readonly kubeConfig: KubeConfig;
  /** The loaded platform: with it, each tenant namespace is probed for what its NetworkPolicies allow and refuse. */
  readonly spec?: Platform;
  readonly baseline?: NetworkBaseline;
  /** Re-create probe set `a` on every node (set `b` stands) before probing. */
  readonly churn?: boolean;
  /** Repeat the probes for this long and count failures. Default 0: one round. */
  readonly soakSeconds?: number;
  readonly sink?: EventSink<NetworkVerifyEvent>;
  readonly clock?: Clock;
  readonly signal?: AbortSignal;
  /** The image with the `probe` binary. Default: the local cluster's (cluster/images/images.env). */
  readonly probeImage?: string;
  /** Where the probe DaemonSets and Service live. Default `tenkai-system`. */
  readonly namespace?: string;
  /** Connect and lookup timeout of each probe. Default `2s`. */
  readonly connectTimeout?: string;
  /** Probes in flight at once. Default 8. */
  readonly concurrency?: number;
  /** How long probe pods may take to be ready. Default 180 000 ms. */
  readonly readyTimeoutMs?: number;
  /** Default: exec through the API server. */
  readonly exec?: PodExec;
}

type Ev<C extends string, D> = TenkaiEvent<C, Readonly<D>>;

export type NetworkVerifyEvent =
  | NetworkEvent
  | Ev<"verify.datapath.probes", { namespace: string; nodes: number; skipped: number }>
  | Ev<"verify.datapath.churn", { deleted: number }>
  | Ev<"verify.datapath.ready", { pods: number; ms: number }>
  | Ev<"verify.datapath.round", { round: number; checks: number; failed: number }>
  | Ev<"verify.datapath.loss", { loss: DatapathLoss }>
  | Ev<"verify.datapath.change", { change: DatapathChange }>
  | Ev<"verify.datapath.done", { ok: boolean; checks: number; losses: number }>;
