/**
 * The run's verification on the data path: `tenkai verify network` (src/verify/network) after
 * churn, so a fault that only hits pods created after the upgrade (the VPC CNI lesson) shows
 * before the next environment may start. Composed with the cluster-health check (verify-cluster.ts)
 * by `allOf`, in that order: a cluster that did not come back whole is not probed.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { TenkaiError } from "../shared/errors.js";
import type { EventSink } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import type { NetworkVerification, NetworkVerifyEvent } from "../verify/network/index.js";
import { verifyNetwork } from "../verify/network/index.js";
import type { Verify, VerifyResult } from "./run-types.js";

export interface DatapathVerifyOptions {
  readonly kubeConfig: KubeConfig;
  /** With the platform, each tenant's NetworkPolicies are probed too. */
  readonly platform?: Platform;
  /** Re-create one probe set before probing (default true: the fault shows only after churn). */
  readonly churn?: boolean;
  readonly soakSeconds?: number;
  readonly sink?: EventSink<NetworkVerifyEvent>;
  /** Default: the real `verifyNetwork`; tests of the composition pass their own. */
  readonly verifyNetwork?: typeof verifyNetwork;
}

export function datapathVerify(o: DatapathVerifyOptions): Verify {
  const run = o.verifyNetwork ?? verifyNetwork;
  return async (): Promise<VerifyResult> => {
    let v: NetworkVerification;
    try {
      v = await run({
        kubeConfig: o.kubeConfig,
        ...(o.platform ? { spec: o.platform } : {}),
        churn: o.churn ?? true,
        ...(o.soakSeconds ? { soakSeconds: o.soakSeconds } : {}),
        ...(o.sink ? { sink: o.sink } : {}),
      });
    } catch (err) {
      // A kwok-only cluster carries no packet: say so instead of failing the run on it.
      if (err instanceof TenkaiError && err.code === "VERIFY_NO_REAL_NODES")
        return { ok: true, summary: `data path not probed: ${err.message}` };
      throw err;
    }
    const failed = v.checks.filter((c) => !c.ok).length;
    const lost = v.losses.map((l) => `${l.node}: ${l.pair}`);
    return {
      ok: v.ok,
      summary: v.ok
        ? `data path: ${v.checks.length} probes on ${v.nodes.length} real node(s), 0 lost${v.churned ? " after churn" : ""}`
        : `data path: ${failed} of ${v.checks.length} probes lost (${lost.slice(0, 5).join("; ")}${lost.length > 5 ? "; ..." : ""})`,
      details: { losses: v.losses, nodes: v.nodes, skippedNodes: v.skippedNodes, churned: v.churned },
    };
  };
}

/** Every verification in order; stops at the first that fails (its result is the run's). */
export function allOf(...verifies: readonly Verify[]): Verify {
  return async (step) => {
    const results: VerifyResult[] = [];
    for (const verify of verifies) {
      const r = await verify(step);
      results.push(r);
      if (!r.ok) break;
    }
    return {
      ok: results.every((r) => r.ok),
      summary: results.map((r) => r.summary).join("; "),
      details: results.map((r) => r.details),
    };
  };
}
