/**
 * Splits tenants over ALBs (IngressGroups) before a listener's rule limit. Pure, decided as data.
 *
 * An ALB listener holds at most 100 rules besides the default (Elastic Load Balancing quota
 * "Rules per Application Load Balancer"); the AWS Load Balancer Controller makes one rule per
 * Ingress path. A host must stay on one ALB (its DNS record points at one), so tenants that share
 * a host move together. Components are packed first-fit in spec order, so adding a tenant at the
 * end never moves an existing one to another ALB.
 */

import { listSome } from "./problems.js";
import { normalizePath } from "./routes.js";
import type { Platform } from "./schema.js";

export interface AlbGroup {
  /** IngressGroup name: `<groupName>` for the first ALB, `<groupName>-2`, ... after it. */
  readonly name: string;
  readonly tenants: readonly string[];
  readonly hosts: readonly string[];
  readonly rules: number;
}

export interface AlbGroupProblem {
  readonly code: "KUBE_ALB_HOST_OVER_LIMIT";
  /** The hosts that must share one ALB. */
  readonly hosts: readonly string[];
  readonly message: string;
  readonly fix: string;
}

export interface AlbGroupPlan {
  readonly maxRulesPerAlb: number;
  readonly groups: readonly AlbGroup[];
  /** Tenant name to its group name (tenants with no routes are absent). */
  readonly groupOf: Readonly<Record<string, string>>;
  readonly problems: readonly AlbGroupProblem[];
}

export function planAlbGroups(platform: Platform): AlbGroupPlan {
  const limit = platform.spec.ingress.maxRulesPerAlb;
  const base = platform.spec.ingress.groupName;
  const routed = platform.spec.tenants
    .map((t) => ({
      tenant: t.name,
      routes: t.services.flatMap((s) =>
        s.route ? [{ host: s.route.host, path: normalizePath(s.route.path) }] : [],
      ),
    }))
    .filter((t) => t.routes.length > 0);

  // Union tenants that share a host (a host cannot span two ALBs).
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  const hostOwner = new Map<string, string>();
  for (const t of routed) {
    parent.set(t.tenant, t.tenant);
    for (const r of t.routes) {
      const other = hostOwner.get(r.host);
      if (other === undefined) hostOwner.set(r.host, t.tenant);
      else parent.set(find(t.tenant), find(other));
    }
  }
  const components = new Map<string, { tenants: string[]; hosts: Set<string>; rules: number }>();
  for (const t of routed) {
    const root = find(t.tenant);
    let c = components.get(root);
    if (!c) {
      c = { tenants: [], hosts: new Set(), rules: 0 };
      components.set(root, c);
    }
    c.tenants.push(t.tenant);
    c.rules += t.routes.length;
    for (const r of t.routes) c.hosts.add(r.host);
  }

  const problems: AlbGroupProblem[] = [];
  const bins: { tenants: string[]; hosts: string[]; rules: number }[] = [];
  for (const c of components.values()) {
    if (c.rules > limit) {
      problems.push({
        code: "KUBE_ALB_HOST_OVER_LIMIT",
        hosts: [...c.hosts],
        message: `${c.hosts.size === 1 ? "host" : "hosts"} ${listSome([...c.hosts], 5)} (tenants ${listSome(c.tenants, 5)}) must share one ALB and need ${c.rules} rules; one ALB takes ${limit}`,
        fix: "give some tenants their own host name (each host can go to another ALB), or merge paths under a common prefix",
      });
    }
    const bin = bins.find((b) => b.rules + c.rules <= limit);
    if (bin) {
      bin.tenants.push(...c.tenants);
      bin.hosts.push(...c.hosts);
      bin.rules += c.rules;
    } else bins.push({ tenants: [...c.tenants], hosts: [...c.hosts], rules: c.rules });
  }
  const groups = bins.map((b, i) => ({
    name: i === 0 ? base : `${base}-${i + 1}`,
    tenants: b.tenants,
    hosts: b.hosts,
    rules: b.rules,
  }));
  const groupOf: Record<string, string> = {};
  for (const g of groups) for (const t of g.tenants) groupOf[t] = g.name;
  return { maxRulesPerAlb: limit, groups, groupOf, problems };
}
