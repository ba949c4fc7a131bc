/** The network part of `tenkai verify isolation` as text: a matrix per source tenant, then breaches. */
import type { NetworkReport } from "./network.js";

export function formatNetworkReport(r: NetworkReport): string {
  const lines: string[] = [];
  const tenants = [...new Set(r.probes.map((p) => p.tenant))].sort();
  lines.push(
    `network probes on ${r.realNodes.length} real node(s): ${r.probes.length} connection(s) in ${(r.ms / 1000).toFixed(1)} s`,
  );
  for (const t of tenants) {
    const mine = r.probes.filter((p) => p.tenant === t);
    const count = (kind: string) => {
      const k = mine.filter((p) => p.kind === kind);
      return k.length === 0 ? "-" : `${k.filter((p) => p.ok).length}/${k.length}`;
    };
    lines.push(
      `  from ${t}: other tenants' pods refused ${count("pod")}, Services ${count("service")}, nodes ${count("node")}, metadata ${count("metadata")}; own pods reached ${count("own-pod")}, own Service ${count("own-service")}, DNS ${count("dns")}`,
    );
  }
  for (const c of r.controlFailures)
    lines.push(
      `CONTROL FAILED ${c.from} could not reach ${c.kind} ${c.target} ${c.address}:${c.port} (${c.detail}): the check cannot tell isolation from a broken network`,
    );
  for (const b of r.breaches) lines.push(b.message);
  lines.push(
    r.ok
      ? "network: every connection that must fail failed, and every control connected"
      : `network: ${r.breaches.length} breach(es), ${r.controlFailures.length} failed control(s)`,
  );
  return lines.join("\n");
}
