/**
 * `tenkai verify isolation`: proves against a live API server that tenants cannot reach each
 * other. Decide first, as data: every SubjectAccessReview and every impersonated dry-run create
 * becomes an IsolationCheck; the report is built from them.
 *
 * - SubjectAccessReviews, for each tenant access group (`tenkai:<tenant>:<level>`, alone, so
 *   grants to everyone do not blur the picture), over every discovered namespaced resource,
 *   subresource and verb in every other tenant's namespace, and over every cluster-scoped one;
 *   in its own namespace, no write to a guard object. `system:authenticated` gets nothing in any
 *   tenant namespace.
 * - Impersonated server-side dry-run creates (probes.ts) that the guards must reject.
 */
import { isKubeApiError, type KubeClient } from "../kube/client.js";
import { mapLimit } from "../kube/concurrency.js";
import { type ApiResource, Discovery, resourcePath } from "../kube/discovery.js";
import { ACCESS_LEVELS, type AccessLevelName, tenantGroup } from "../kube/names.js";
import { GUARD_RESOURCES, WRITE_VERBS } from "../kube/rbac.js";
import type { Platform } from "../spec/schema.js";
import { type CheckKind, decideAccess, decideProbe, type IsolationCheck, type SarStatus } from "./checks.js";
import { probesFor } from "./probes.js";

export interface VerifyIsolationOptions {
  readonly client: KubeClient;
  /** Reviews in flight at once. Default 64. */
  readonly concurrency?: number;
  /** Access levels to check. Default view, edit, admin. */
  readonly levels?: readonly AccessLevelName[];
  readonly onEvent?: (e: VerifyEvent) => void;
}

export type VerifyEvent =
  | { type: "verify.plan"; message: string; reviews: number; probes: number }
  | { type: "verify.progress"; message: string; done: number; total: number }
  | { type: "verify.breach"; message: string; check: IsolationCheck };

export interface IsolationReport {
  readonly context: string;
  readonly tenants: readonly string[];
  readonly ok: boolean;
  readonly counts: {
    readonly total: number;
    readonly pass: number;
    readonly breach: number;
    readonly error: number;
  };
  /** Every breach and error, and every admission probe (passes included). Passing reviews are counted only. */
  readonly checks: readonly IsolationCheck[];
  /** Per identity and target: how many reviews, how many breaches. */
  readonly matrix: readonly MatrixCell[];
}

export interface MatrixCell {
  readonly identity: string;
  readonly target: string;
  readonly kind: CheckKind;
  readonly checks: number;
  readonly breaches: number;
  readonly errors: number;
}

interface Review {
  readonly kind: CheckKind;
  readonly identity: string;
  readonly tenant: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly target: string;
  readonly attrs: {
    namespace?: string;
    verb: string;
    group: string;
    resource: string;
    subresource?: string;
    name?: string;
  };
}

/** Verbs RBAC knows beyond the REST ones, per resource (they are not in discovery). */
const EXTRA_VERBS: Record<string, readonly string[]> = {
  "/serviceaccounts": ["impersonate"],
  "rbac.authorization.k8s.io/roles": ["bind", "escalate"],
  "rbac.authorization.k8s.io/clusterroles": ["bind", "escalate"],
};
const PSEUDO_CLUSTER: readonly { group: string; resource: string; verbs: string[] }[] = [
  { group: "", resource: "users", verbs: ["impersonate"] },
  { group: "", resource: "groups", verbs: ["impersonate"] },
  { group: "authentication.k8s.io", resource: "uids", verbs: ["impersonate"] },
  { group: "authentication.k8s.io", resource: "userextras", verbs: ["impersonate"] },
];

interface Target {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verbs: readonly string[];
}

function targetsOf(resources: readonly ApiResource[], namespaced: boolean): Target[] {
  const out: Target[] = [];
  for (const r of resources.filter((x) => x.namespaced === namespaced)) {
    out.push({
      group: r.group,
      resource: r.resource,
      verbs: [...new Set([...r.verbs, ...(EXTRA_VERBS[`${r.group}/${r.resource}`] ?? [])])],
    });
    for (const s of r.subresources)
      out.push({ group: r.group, resource: r.resource, subresource: s.name, verbs: s.verbs });
  }
  if (!namespaced) out.push(...PSEUDO_CLUSTER);
  return out;
}

export async function verifyIsolation(
  platform: Platform,
  options: VerifyIsolationOptions,
): Promise<IsolationReport> {
  const { client } = options;
  const emit = options.onEvent ?? (() => {});
  const limit = options.concurrency ?? 64;
  const levels = options.levels ?? ACCESS_LEVELS;
  const discovery = new Discovery(client);
  const resources = await discovery.resources();
  const namespacedTargets = targetsOf(resources, true);
  const clusterTargets = targetsOf(resources, false);
  const tenants = platform.spec.tenants;

  // Decide what to ask, as data.
  const reviews: Review[] = [];
  for (const t of tenants) {
    for (const level of levels) {
      const group = tenantGroup(t.name, level);
      const who = {
        identity: group,
        tenant: t.name,
        user: `tenkai-verify:${t.name}:${level}`,
        groups: [group],
      };
      for (const other of tenants) {
        if (other.name === t.name) continue;
        for (const x of namespacedTargets)
          for (const verb of x.verbs)
            reviews.push({
              ...who,
              kind: "cross-tenant",
              target: other.name,
              attrs: {
                namespace: other.name,
                verb,
                group: x.group,
                resource: x.resource,
                subresource: x.subresource,
              },
            });
      }
      for (const x of clusterTargets)
        for (const verb of x.verbs)
          reviews.push({
            ...who,
            kind: "cluster-scoped",
            target: "(cluster)",
            attrs: { verb, group: x.group, resource: x.resource, subresource: x.subresource },
          });
      for (const g of GUARD_RESOURCES)
        for (const verb of WRITE_VERBS) {
          const name = g.resource === "namespaces" ? t.name : undefined;
          if (name && verb === "deletecollection") continue;
          reviews.push({
            ...who,
            kind: "guard-write",
            target: t.name,
            attrs: { namespace: t.name, verb, group: g.group, resource: g.resource, name },
          });
        }
    }
    const anyone = {
      identity: "system:authenticated",
      tenant: t.name,
      user: "tenkai-verify:anyone",
      groups: ["system:authenticated"],
    };
    for (const x of namespacedTargets)
      for (const verb of x.verbs)
        reviews.push({
          ...anyone,
          kind: "anyone",
          target: t.name,
          attrs: {
            namespace: t.name,
            verb,
            group: x.group,
            resource: x.resource,
            subresource: x.subresource,
          },
        });
  }
  const probes = tenants.flatMap((t, i) => {
    const other = tenants.length > 1 ? tenants[(i + 1) % tenants.length] : undefined;
    return probesFor(platform, t, other).map((p) => ({ tenant: t, probe: p }));
  });
  emit({
    type: "verify.plan",
    message: `checking ${reviews.length} access reviews and ${probes.length} admission probes over ${tenants.length} tenants`,
    reviews: reviews.length,
    probes: probes.length,
  });

  // Ask.
  let done = 0;
  const step = Math.max(1, Math.floor(reviews.length / 10));
  const reviewChecks = await mapLimit(reviews, limit, async (r): Promise<IsolationCheck> => {
    const res = await client.request<{ status?: SarStatus }>({
      method: "POST",
      path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: { user: r.user, groups: r.groups, resourceAttributes: r.attrs },
      },
    });
    if (++done % step === 0)
      emit({
        type: "verify.progress",
        message: `access reviews: ${done}/${reviews.length}`,
        done,
        total: reviews.length,
      });
    const a = r.attrs;
    const action = `${a.verb} ${a.group ? `${a.resource}.${a.group}` : a.resource}${a.subresource ? `/${a.subresource}` : ""}${a.name ? ` ${a.name}` : ""}`;
    const decided = decideAccess(res.body.status ?? {}, {
      identity: r.identity,
      action,
      target: r.target === "(cluster)" ? "the cluster scope" : `namespace ${r.target}`,
    });
    const check: IsolationCheck = {
      kind: r.kind,
      identity: r.identity,
      tenant: r.tenant,
      target: r.target,
      action,
      ...decided,
    };
    if (check.verdict === "breach")
      emit({ type: "verify.breach", message: `BREACH ${check.message}`, check });
    return check;
  });
  const probeChecks = await mapLimit(probes, limit, async ({ tenant, probe }): Promise<IsolationCheck> => {
    const identity = tenantGroup(tenant.name, "admin");
    const o = probe.object;
    const r = await discovery.resourceFor(o.apiVersion, o.kind);
    let answer: { status: number; message: string };
    try {
      const res = await client.request({
        method: "POST",
        path: resourcePath(r, o.metadata.namespace),
        query: { dryRun: "All", fieldManager: "tenkai-verify" },
        body: o,
        impersonate: {
          user: `tenkai-verify:${tenant.name}:admin`,
          groups: [identity, "system:authenticated"],
        },
      });
      answer = { status: res.status, message: "" };
    } catch (err) {
      if (!isKubeApiError(err)) throw err;
      answer = { status: err.status, message: err.message };
    }
    const decided = decideProbe(answer, probe.expect, {
      identity,
      action: probe.action,
      target: `namespace ${tenant.name}`,
    });
    const check: IsolationCheck = {
      kind: "admission",
      identity,
      tenant: tenant.name,
      target: tenant.name,
      action: probe.action,
      ...decided,
    };
    if (check.verdict === "breach")
      emit({ type: "verify.breach", message: `BREACH ${check.message}`, check });
    return check;
  });

  // Report.
  const all = [...reviewChecks, ...probeChecks];
  const cells = new Map<
    string,
    { identity: string; target: string; kind: CheckKind; checks: number; breaches: number; errors: number }
  >();
  for (const c of all) {
    const key = `${c.identity}\u0000${c.target}\u0000${c.kind}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { identity: c.identity, target: c.target, kind: c.kind, checks: 0, breaches: 0, errors: 0 };
      cells.set(key, cell);
    }
    cell.checks++;
    if (c.verdict === "breach") cell.breaches++;
    if (c.verdict === "error") cell.errors++;
  }
  const count = (v: IsolationCheck["verdict"]) => all.filter((c) => c.verdict === v).length;
  const counts = { total: all.length, pass: count("pass"), breach: count("breach"), error: count("error") };
  return {
    context: client.context,
    tenants: tenants.map((t) => t.name),
    ok: counts.breach === 0 && counts.error === 0,
    counts,
    checks: [...reviewChecks.filter((c) => c.verdict !== "pass"), ...probeChecks],
    matrix: [...cells.values()],
  };
}
