/**
 * The run's verification on the data path: `tenkai verify network` (src/verify/network). A
 * baseline before the first step (one round, no churn: the data path as the upgrade found it),
 * kept in the run's state; after the last step the same probes after churn (probe pods re-created,
 * so a fault that only hits pods created after the upgrade shows: the VPC CNI lesson) and over a
 * soak window, compared with the baseline. Composed with the cluster-health check
 * (verify-cluster.ts) by `allOf`, in that order: a cluster that did not come back whole is not
 * probed.
 *
 * The node rotation replaces every real node, so a check is compared with the baseline by what it
 * is (kind, same-node or across nodes, probe set, CoreDNS or Service), not by the node names of
 * its key: "the same-node pair a -> b connected on every node before" is what a check on a new
 * node is held to. Losses are reported by node and pod pair.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { TenkaiError } from "../shared/errors.js";
import type { EventSink } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import type {
  DatapathCheck,
  NetworkBaseline,
  NetworkVerification,
  NetworkVerifyEvent,
} from "../verify/network/index.js";
import { verifyNetwork } from "../verify/network/index.js";
import type { RunBaseline, TakeBaseline, Verify, VerifyResult } from "./run-types.js";

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

/** A check's class: what it is without the node names (`pod-pair same-node a -> b`). */
export function classOfCheck(c: Pick<DatapathCheck, "kind" | "scope" | "from" | "to">): string {
  const to = c.to.node ? c.to.role.replace(/\d+$/, "") : c.to.pod;
  return `${c.kind}${c.scope ? ` ${c.scope}` : ""} ${c.from.role} -> ${to}`;
}

/** The class of a baseline key (`pod-pair n1/a -> n2/b`), given the nodes the baseline probed. */
export function classOfKey(key: string, nodes: readonly string[]): string | undefined {
  const m = /^(\S+) (\S+)\/(\S+) -> (\S+)$/.exec(key);
  if (!m) return undefined;
  const [, kind, fromNode, fromRole, dest] = m as unknown as [string, string, string, string, string];
  const slash = dest.indexOf("/");
  const destNode = dest.slice(0, slash);
  if (slash > 0 && nodes.includes(destNode)) {
    const scope = destNode === fromNode ? "same-node" : "cross-node";
    return `${kind} ${scope} ${fromRole} -> ${dest.slice(slash + 1).replace(/\d+$/, "")}`;
  }
  return `${kind} ${fromRole} -> ${dest}`;
}

/** One check that connected in the baseline (by class) and fails now, named by node and pod pair. */
export interface DatapathRegression {
  readonly class: string;
  readonly key: string;
  readonly nodes: readonly string[];
  /** `namespace/pod (ip on node) -> namespace/pod (ip on node)`. */
  readonly pair: string;
  readonly detail: string;
}

export interface BaselineComparison {
  readonly takenAt: string;
  /** Failing now, every check of its class connected in the baseline. */
  readonly lost: readonly DatapathRegression[];
  /** Failing now and already failing (in some check of its class) in the baseline. */
  readonly stillFailing: readonly DatapathRegression[];
  /** Classes the baseline had and this run has no check of (no CoreDNS on a real node any more, ...). */
  readonly classesGone: readonly string[];
  readonly nodesBefore: readonly string[];
  readonly nodesNow: readonly string[];
}

function side(e: DatapathCheck["from"]): string {
  return `${e.pod} (${e.ip}${e.node ? ` on ${e.node}` : ""})`;
}

/** Compares a verification with the baseline by class (see the header). Pure. */
export function compareWithBaseline(
  baseline: NetworkBaseline,
  v: Pick<NetworkVerification, "checks" | "nodes">,
): BaselineComparison {
  const held = new Map<string, boolean>();
  for (const [key, ok] of Object.entries(baseline.checks)) {
    const cls = classOfKey(key, baseline.nodes);
    if (cls) held.set(cls, (held.get(cls) ?? true) && ok);
  }
  const lost: DatapathRegression[] = [];
  const stillFailing: DatapathRegression[] = [];
  const now = new Set<string>();
  for (const c of v.checks) {
    const cls = classOfCheck(c);
    now.add(cls);
    if (c.ok && c.failures === 0) continue;
    const r: DatapathRegression = {
      class: cls,
      key: c.key,
      nodes: [...new Set([c.from.node, c.to.node].filter((n): n is string => !!n))],
      pair: `${side(c.from)} -> ${side(c.to)}`,
      detail: c.detail,
    };
    if (held.get(cls) === false) stillFailing.push(r);
    else lost.push(r);
  }
  return {
    takenAt: baseline.takenAt,
    lost,
    stillFailing,
    classesGone: [...held.keys()].filter((k) => !now.has(k)).sort(),
    nodesBefore: baseline.nodes,
    nodesNow: v.nodes,
  };
}

const NOT_PROBED = "data path not probed";

/** Runs `verifyNetwork`; a kwok-only cluster (no packet can be sent) is said so, not failed. */
async function probe(
  o: DatapathVerifyOptions,
  extra: { churn: boolean; soakSeconds?: number; baseline?: NetworkBaseline },
): Promise<NetworkVerification | { notProbed: string }> {
  const run = o.verifyNetwork ?? verifyNetwork;
  try {
    return await run({
      kubeConfig: o.kubeConfig,
      ...(o.platform ? { spec: o.platform } : {}),
      churn: extra.churn,
      ...(extra.soakSeconds ? { soakSeconds: extra.soakSeconds } : {}),
      ...(extra.baseline ? { baseline: extra.baseline } : {}),
      ...(o.sink ? { sink: o.sink } : {}),
    });
  } catch (err) {
    if (err instanceof TenkaiError && err.code === "VERIFY_NO_REAL_NODES")
      return { notProbed: `${NOT_PROBED}: ${err.message}` };
    throw err;
  }
}

function lossList(v: NetworkVerification): string[] {
  return v.losses.map((l) => `${l.node}: ${l.key} (${l.pair}): ${l.detail}`);
}

function listed(items: readonly string[], n = 4): string {
  return `${items.slice(0, n).join("; ")}${items.length > n ? `; and ${items.length - n} more` : ""}`;
}

/**
 * The baseline before the first step: one round, no churn. Green when every probe connects and
 * the tenants' policies hold; a kwok-only cluster has no data-path baseline (said so, green).
 */
export function datapathBaseline(o: DatapathVerifyOptions): TakeBaseline {
  return async () => {
    const v = await probe(o, { churn: false });
    if ("notProbed" in v) return { ok: true, summary: v.notProbed };
    const summary = v.ok
      ? `data path: ${v.checks.length} probes on ${v.nodes.length} real node(s) (${v.nodes.join(", ")}), all connected${v.tenants ? ", tenants' policies held" : ""}`
      : `data path: ${v.losses.length} loss(es) before the upgrade: ${listed(lossList(v))}${v.tenants && !v.tenants.ok ? "; a tenant's NetworkPolicy did not hold" : ""}`;
    const baseline: RunBaseline = { takenAt: v.baseline.takenAt, summary, data: v.baseline };
    return {
      ok: v.ok,
      summary,
      baseline,
      details: { losses: v.losses, nodes: v.nodes, skippedNodes: v.skippedNodes },
    };
  };
}

function isNetworkBaseline(x: unknown): x is NetworkBaseline {
  return (
    typeof x === "object" &&
    x !== null &&
    (x as { kind?: unknown }).kind === "NetworkBaseline" &&
    typeof (x as { checks?: unknown }).checks === "object"
  );
}

/**
 * The verification after the last step: churn, a soak window, and the comparison with the run's
 * baseline (when it has one). Not green on any loss, on a class of check gone since the baseline,
 * on a probe pod that never got ready, or on a tenant policy that did not hold.
 */
export function datapathVerify(o: DatapathVerifyOptions): Verify {
  return async (step): Promise<VerifyResult> => {
    const baseline = isNetworkBaseline(step.baseline?.data) ? step.baseline.data : undefined;
    const v = await probe(o, {
      churn: o.churn ?? true,
      ...(o.soakSeconds ? { soakSeconds: o.soakSeconds } : {}),
      ...(baseline ? { baseline } : {}),
    });
    if ("notProbed" in v) return { ok: true, summary: v.notProbed };
    const cmp = baseline ? compareWithBaseline(baseline, v) : undefined;
    const classesGone = cmp?.classesGone ?? [];
    const ok = v.ok && classesGone.length === 0;
    const how = `${v.churned ? "after churn" : "without churn"}${v.soak ? `, ${v.soak.rounds} round(s) over ${v.soak.seconds} s` : ""}`;
    const against = cmp ? `; baseline of ${cmp.takenAt} on ${cmp.nodesBefore.join(", ")}` : "";
    let summary: string;
    if (ok)
      summary = `data path: ${v.checks.length} probes on ${v.nodes.length} real node(s) (${v.nodes.join(", ")}) ${how}, 0 lost${v.tenants ? ", tenants' policies held" : ""}${against}`;
    else {
      const parts: string[] = [];
      if (cmp && cmp.lost.length > 0)
        parts.push(
          `${cmp.lost.length} lost since the baseline of ${cmp.takenAt}: ${listed(cmp.lost.map((r) => `${r.nodes.join("/")}: ${r.key} (${r.pair}): ${r.detail}`))}`,
        );
      if (cmp && cmp.stillFailing.length > 0)
        parts.push(
          `${cmp.stillFailing.length} failing as in the baseline: ${listed(cmp.stillFailing.map((r) => r.key))}`,
        );
      if (!cmp && v.losses.length > 0) parts.push(`${v.losses.length} loss(es): ${listed(lossList(v))}`);
      if (classesGone.length > 0) parts.push(`gone since the baseline: ${classesGone.join("; ")}`);
      if (v.nodesWithoutProbes.length > 0)
        parts.push(
          `no probe pod on ${v.nodesWithoutProbes.map((n) => `${n.node} (${n.reason})`).join("; ")}`,
        );
      if (v.tenants && !v.tenants.ok)
        parts.push("a tenant's NetworkPolicy did not hold (see the verify.network events)");
      summary = `data path ${how}: ${parts.join("; ") || "not green"}`;
    }
    return {
      ok,
      summary,
      details: {
        losses: v.losses,
        nodes: v.nodes,
        skippedNodes: v.skippedNodes,
        nodesWithoutProbes: v.nodesWithoutProbes,
        churned: v.churned,
        ...(v.soak ? { soak: v.soak } : {}),
        ...(cmp ? { baseline: cmp } : {}),
      },
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
