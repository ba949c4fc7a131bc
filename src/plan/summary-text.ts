/** The plan summary as text for people: short sections, aligned tables, totals last. */
import type { PlanSummary } from "./plan.js";

export function table(
  rows: readonly (readonly string[])[],
  rightAlign: ReadonlySet<number> = new Set(),
): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (rightAlign.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const usd = (n: number) =>
  `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export function renderPlanSummary(s: PlanSummary): string {
  const out: string[] = [];
  out.push(`Platform ${s.platform}: account ${s.account}, ${s.region}, Kubernetes ${s.kubernetesVersion}`);
  out.push("");
  out.push(`Tenants (${s.tenants.length})`);
  out.push(
    table([
      ["TENANT", "SERVICES", "CRON JOBS", "OBJECTS"],
      ...s.tenants.map((t) => [
        t.name,
        t.services
          .map((x) => `${x.name}x${x.replicas}${x.compute === "fargate" ? " (fargate)" : ""}`)
          .join(", ") || "-",
        t.cronJobs
          .map((c) => `${c.name} [${c.schedule}]${c.compute === "fargate" ? " (fargate)" : ""}`)
          .join(", ") || "-",
        String(t.objects),
      ]),
    ]),
  );
  out.push("");
  out.push(`Routes on the shared ALB (${s.routes.length})`);
  out.push(
    table([
      ["HOST", "PATH", "SERVICE", "PORT"],
      ...s.routes.map((r) => [r.host, r.path, `${r.tenant}/${r.service}`, String(r.port)]),
    ]),
  );
  out.push("");
  out.push("Node groups");
  out.push(
    table([
      ["GROUP", "ACTIVE SLOT", "NODEGROUP", "INSTANCE TYPES", "MIN", "DESIRED", "MAX"],
      ...s.nodeGroups.map((g) => [
        g.name,
        g.activeSlot,
        g.nodegroupName,
        g.instanceTypes.join(","),
        String(g.min),
        String(g.desired),
        String(g.max),
      ]),
    ]),
  );
  if (s.fargateProfiles.length > 0) {
    out.push("");
    out.push(
      `Fargate profiles: ${s.fargateProfiles.map((f) => `${f.name} (${f.namespaces.join(", ")})`).join("; ")}`,
    );
  }
  out.push("");
  out.push(`Add-ons (versions from data/eks-addons.json as of ${s.addons.asOf})`);
  out.push(
    table([
      ["ADD-ON", "KIND", "VERSION", "FROM"],
      ...s.addons.list.map((a) => [a.name, a.kind, a.version ?? "(not pinned)", a.from]),
    ]),
  );
  out.push("");
  out.push(`AWS resources: ${s.aws.totalResources} in ${s.aws.stacks.length} stacks (${s.aws.assemblyDir})`);
  out.push(
    table(
      [["STACK", "RESOURCES"], ...s.aws.stacks.map((st) => [st.stackName, String(st.resourceCount)])],
      new Set([1]),
    ),
  );
  out.push("");
  const byType = Object.entries(s.aws.resourcesByType).sort(
    (a, b) => b[1] - a[1] || a[0].localeCompare(b[0]),
  );
  out.push(table([["RESOURCE TYPE", "COUNT"], ...byType.map(([t, n]) => [t, String(n)])], new Set([1])));
  out.push("");
  out.push(
    `Kubernetes objects: ${s.kubernetes.platformObjects} platform-wide, ${s.kubernetes.tenantObjects} in tenant namespaces (${s.kubernetes.manifestsDir})`,
  );
  if (s.cost) {
    const c = s.cost;
    out.push("");
    out.push(`Estimated monthly cost (${c.currency}, ${c.region}, list prices as of ${c.pricesAsOf})`);
    out.push(
      table(
        [
          ["ITEM", "LOW", "HIGH", "DETAIL"],
          ...c.lines.map((l) => [l.item, usd(l.monthlyLow), usd(l.monthlyHigh), l.detail]),
          ["TOTAL", usd(c.totalLow), usd(c.totalHigh), "low: minimum sizes; high: every group at max"],
        ],
        new Set([1, 2]),
      ),
    );
    out.push(`Not included: ${c.excludes.join(", ")}.`);
    for (const w of c.warnings) out.push(`warning: ${w}`);
  } else if (s.costSkipped && s.costSkipped !== "--no-cost") {
    out.push("");
    out.push(`No cost estimate: ${s.costSkipped}.`);
  }
  out.push("");
  out.push(`Planned in ${(s.elapsedMs / 1000).toFixed(1)} s. Output: ${s.outDir}`);
  return out.join("\n");
}
