/** Renders an IsolationReport for people: an access matrix, the admission probes, then breaches. Pure. */
import type { IsolationCheck } from "./checks.js";
import type { IsolationReport } from "./isolation.js";

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function formatIsolationReport(report: IsolationReport): string {
  const out: string[] = [];
  const identities = [...new Set(report.matrix.filter((c) => c.kind !== "admission").map((c) => c.identity))];
  const columns = [...report.tenants, "(cluster)"];
  const cell = (identity: string, target: string) => {
    const cs = report.matrix.filter(
      (c) => c.identity === identity && c.target === target && c.kind !== "admission",
    );
    if (cs.length === 0) return "-";
    const n = cs.reduce((s, c) => s + c.checks, 0);
    const b = cs.reduce((s, c) => s + c.breaches, 0);
    const e = cs.reduce((s, c) => s + c.errors, 0);
    const own = cs.some((c) => c.kind === "guard-write") ? "own " : "";
    return b > 0 ? `BREACH ${b}/${n}` : e > 0 ? `ERROR ${e}/${n}` : `${own}ok ${n}`;
  };
  out.push(`Access (${report.mode} SubjectAccessReviews; own = no guard writes in its own namespace):`);
  out.push(
    table([
      ["identity \\ namespace", ...columns],
      ...identities.map((id) => [id, ...columns.map((c) => cell(id, c))]),
    ]),
  );
  const probes = report.checks.filter((c) => c.kind === "admission");
  if (probes.length > 0) {
    out.push("", "Admission (impersonated server-side dry-run creates; each must be rejected):");
    out.push(
      table([
        ["tenant", "probe", "result"],
        ...probes.map((p) => [
          p.tenant,
          p.action,
          p.verdict === "pass"
            ? "rejected"
            : p.verdict === "breach"
              ? "BREACH: accepted"
              : `ERROR: ${p.reason}`,
        ]),
      ]),
    );
  }
  const bad = report.checks.filter((c) => c.verdict !== "pass");
  if (bad.length > 0) {
    out.push("", "Breaches and errors:");
    for (const [message, n] of groupByCause(bad))
      out.push(`  ${message}${n > 1 ? ` (and ${n - 1} more like it)` : ""}`);
  }
  const c = report.counts;
  out.push(
    "",
    `${report.ok ? "PASS" : "FAIL"}: ${c.total} checks, ${c.breach} breaches, ${c.error} errors (context ${report.context})`,
  );
  return out.join("\n");
}

/** One line per identity, target and cause (e.g. the RoleBinding that grants it). */
function groupByCause(checks: readonly IsolationCheck[]): [string, number][] {
  const groups = new Map<string, { first: string; n: number }>();
  for (const c of checks) {
    const cause =
      c.message.includes(": ") && c.kind !== "admission"
        ? c.message.slice(c.message.indexOf(": ") + 2)
        : c.message;
    const key = `${c.verdict} ${c.identity} ${c.target} ${cause}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { first: `${c.verdict.toUpperCase()} ${c.message}`, n: 1 });
  }
  return [...groups.values()].map((g) => [g.first, g.n]);
}
