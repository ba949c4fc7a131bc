/**
 * How an upgrade plan reads for people: a table of findings and the ordered steps (for the
 * terminal), and a Markdown playbook of the same steps with their commands and gates (for the
 * change ticket). Pure functions of the plan; the CLI decides where they go.
 */
import type { Finding, UpgradePlan } from "./types.js";

/** First line of every playbook tenkai writes; it only overwrites files that start with it. */
export const PLAYBOOK_MARKER = "<!-- written by tenkai upgrade plan -->";

function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  "))
    .join("\n");
}

function where(f: Finding): string {
  return f.location ?? f.source ?? "";
}

export function formatPlanTable(plan: UpgradePlan): string {
  const lines: string[] = [];
  lines.push(
    `upgrade ${plan.platform}${plan.environment ? ` (${plan.environment})` : ""}: ${plan.from} → ${plan.to} (${plan.fromSource === "cluster" ? "from the cluster" : "from the spec, offline"}), path ${plan.path.join(" → ") || "(already there)"}`,
  );
  lines.push(
    `checked ${plan.scanned.liveObjects} live object(s) of ${plan.scanned.liveTypes.length} type(s), ${plan.scanned.helmReleases} Helm release(s), ${plan.scanned.platformObjects} platform object(s), ${plan.scanned.files} file(s)`,
  );
  lines.push("");
  if (plan.findings.length > 0) {
    const rows = [["SEVERITY", "ID", "OBJECT", "WHERE", "MESSAGE"]];
    for (const f of plan.findings) rows.push([f.severity, f.id, f.object ?? "-", where(f) || "-", f.message]);
    lines.push(table(rows));
    const fixes = plan.findings.filter((f) => f.severity === "blocker");
    if (fixes.length > 0) {
      lines.push("", "fixes for the blockers:");
      const seen = new Set<string>();
      for (const f of fixes) {
        const line = `  ${f.id}${f.object ? ` ${f.object}` : ""}: ${f.fix}`;
        if (!seen.has(line)) lines.push(line);
        seen.add(line);
      }
    }
  } else {
    lines.push("no findings");
  }
  lines.push("", "steps:");
  for (const s of plan.steps)
    lines.push(`  ${s.order}. [${s.minor}] ${s.title}${s.command ? `\n       $ ${s.command}` : ""}`);
  lines.push(
    "",
    `${plan.counts.blocker} blocker(s), ${plan.counts.warning} warning(s), ${plan.counts.info} note(s)${plan.counts.blocker > 0 ? ": fix the blockers before upgrading" : ": clear to upgrade"}`,
  );
  return lines.join("\n");
}

function md(text: string): string {
  return text.replace(/\|/g, "\\|");
}

export function formatPlaybook(plan: UpgradePlan, generatedAt: Date): string {
  const out: string[] = [PLAYBOOK_MARKER];
  out.push(
    `# Upgrade ${plan.platform}${plan.environment ? ` (${plan.environment})` : ""}: Kubernetes ${plan.from} → ${plan.to}`,
  );
  out.push("");
  out.push(
    `Planned ${generatedAt.toISOString()} by \`tenkai upgrade plan --to ${plan.to}${plan.environment ? ` -e ${plan.environment}` : ""}\`. Control plane path: ${[plan.from, ...plan.path].join(" → ")} (one minor per step).`,
  );
  if (plan.promotedFrom?.length) {
    out.push(
      "",
      `**Staging first:** ${plan.promotedFrom.join(", ")} promote(s) to this environment; run this upgrade there and verify it green before starting here.`,
    );
  }
  if (plan.promotesTo)
    out.push(
      "",
      `After a green verification here, the same target may be promoted to **${plan.promotesTo}**.`,
    );
  out.push("", "## Status", "");
  out.push(
    `${plan.counts.blocker} blocker(s), ${plan.counts.warning} warning(s), ${plan.counts.info} note(s). ${plan.counts.blocker > 0 ? "**Do not start until every blocker below is fixed and the plan is re-run clear.**" : "Clear to start."}`,
  );
  const blockers = plan.findings.filter((f) => f.severity === "blocker");
  if (blockers.length > 0) {
    out.push("", "## Blockers", "", "| id | object | where | problem | fix |", "|---|---|---|---|---|");
    for (const f of blockers)
      out.push(`| ${f.id} | ${md(f.object ?? "")} | ${md(where(f))} | ${md(f.message)} | ${md(f.fix)} |`);
  }
  const warnings = plan.findings.filter((f) => f.severity !== "blocker");
  if (warnings.length > 0) {
    out.push(
      "",
      "## Warnings and notes",
      "",
      "| severity | id | object | problem | fix |",
      "|---|---|---|---|---|",
    );
    for (const f of warnings)
      out.push(`| ${f.severity} | ${f.id} | ${md(f.object ?? "")} | ${md(f.message)} | ${md(f.fix)} |`);
  }
  out.push("", "## Steps", "");
  let minor = "";
  for (const s of plan.steps) {
    if (s.minor !== minor) {
      minor = s.minor;
      out.push(`### Kubernetes ${minor}`, "");
    }
    out.push(`${s.order}. **${md(s.title)}**`);
    if (s.command) out.push(`   \`\`\`sh\n   ${s.command}\n   \`\`\``);
    out.push(`   - gate: ${s.gate}`, "");
  }
  out.push("## Data", "");
  for (const [name, d] of Object.entries(plan.data)) out.push(`- ${name}: as of ${d.asOf}, ${d.source}`);
  out.push("");
  return out.join("\n");
}
