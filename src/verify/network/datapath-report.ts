/** `tenkai verify network` as text: counts per kind and scope, losses by node and pair, the diff. */
import type { DatapathCheck, NetworkVerification } from "./datapath-types.js";
import { formatNetworkReport } from "./report.js";

function count(checks: readonly DatapathCheck[]): string {
  return checks.length === 0 ? "-" : `${checks.filter((c) => c.ok).length}/${checks.length}`;
}

export function formatNetworkVerification(v: NetworkVerification): string {
  const lines: string[] = [];
  const of = (kind: string, scope?: string) =>
    v.checks.filter((c) => c.kind === kind && (scope === undefined || c.scope === scope));
  lines.push(
    `data path on ${v.nodes.length} real node(s)${v.churned ? " after churn (probe set a re-created)" : ""}${v.soak ? `, soak ${v.soak.seconds} s: ${v.soak.rounds} round(s), ${v.soak.failedRounds} with a failure` : ""}; ${(v.ms / 1000).toFixed(1)} s`,
  );
  lines.push(
    `  pod pairs same node ${count(of("pod-pair", "same-node"))}, across nodes ${count(of("pod-pair", "cross-node"))}; DNS to CoreDNS pods ${count(of("dns-pod"))}, to the Service address ${count(of("dns-service"))}; Service VIP ${count(of("service"))}`,
  );
  for (const s of v.skippedNodes) lines.push(`  not probed: ${s.node}: ${s.reason}`);
  for (const m of v.nodesWithoutProbes) lines.push(`LOST ${m.node}: ${m.reason}`);
  let node = "";
  for (const l of v.losses) {
    if (l.node !== node) {
      node = l.node;
      lines.push(`LOST on node ${node}:`);
    }
    lines.push(
      `  ${l.kind} ${l.pair}: ${l.detail}${l.rounds > 1 ? ` (failed ${l.failures}/${l.rounds} rounds)` : ""}`,
    );
  }
  if (v.diff) {
    const d = v.diff;
    const lost = d.changes.filter((c) => c.change === "lost");
    const back = d.changes.filter((c) => c.change === "regained");
    lines.push(
      `against the baseline of ${d.takenAt}: ${lost.length} lost, ${back.length} regained${d.nodesGone.length ? `; nodes gone ${d.nodesGone.join(", ")}` : ""}${d.nodesNew.length ? `; nodes new ${d.nodesNew.join(", ")}` : ""}`,
    );
    for (const c of lost)
      lines.push(`  lost ${c.key}: ${c.from.pod} (${c.from.ip}) -> ${c.to.pod} (${c.to.ip}): ${c.detail}`);
    for (const c of back) lines.push(`  regained ${c.key}`);
    for (const k of d.kindsGone) lines.push(`  the baseline had ${k} checks and this run has none`);
  }
  if (v.tenants) lines.push(formatNetworkReport(v.tenants));
  lines.push(
    v.ok
      ? "network: every connection that must connect connected"
      : `network: LOSS: ${new Set(v.losses.map((l) => l.key)).size} failing check(s)${v.nodesWithoutProbes.length ? `, ${v.nodesWithoutProbes.length} probe pod(s) not ready` : ""}`,
  );
  return lines.join("\n");
}
