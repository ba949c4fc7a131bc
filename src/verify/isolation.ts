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
import { isKubeApiError, type KubeClient } from "../kube/api/client.js";
import { mapLimit } from "../kube/api/concurrency.js";
import { Discovery, resourcePath } from "../kube/api/discovery.js";
import { ROLE_RULES } from "../kube/render/rbac.js";
import { type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import { ACCESS_LEVELS, type AccessLevelName } from "../shared/kube-names.js";
import type { Platform } from "../spec/schema.js";
import {
  type CheckKind,
  decideAccess,
  decideProbe,
  type IsolationCheck,
  type ProbeAnswer,
  type SarStatus,
} from "./checks.js";
import { guardsPresent } from "./guards-present.js";
import { probesFor } from "./probes.js";
import { describeQuotaState, ingressQuotaState, quotaCounted, waitQuotasCounted } from "./quota-counted.js";
import {
  type BindingIndex,
  EXHAUSTIVE_BUDGET,
  exhaustiveSize,
  planReviews,
  type ReviewMode,
  targetsOf,
  tenantIdentities,
} from "./review-plan.js";

export interface VerifyIsolationOptions {
  readonly client: KubeClient;
  /** Reviews in flight at once. Default 64. */
  readonly concurrency?: number;
  /** Access levels to check. Default view, edit, admin. */
  readonly levels?: readonly AccessLevelName[];
  /** Which reviews to send (review-plan.ts). Default `auto`: exhaustive up to 200 000 reviews, else targeted. */
  readonly mode?: ReviewMode;
  /** Where events go. Default: nowhere. */
  readonly sink?: EventSink<VerifyEvent>;
}

/** What a verification reports (shared/events.ts); a breach is a `warn`. */
export type VerifyEvent =
  | TenkaiEvent<"verify.plan", { mode: "exhaustive" | "targeted"; reviews: number; probes: number }>
  | TenkaiEvent<"verify.progress", { done: number; total: number }>
  | TenkaiEvent<"verify.breach", { check: IsolationCheck }>
  | TenkaiEvent<"verify.quota-not-counted", { namespaces: string[] }>;

export interface IsolationReport {
  readonly context: string;
  readonly tenants: readonly string[];
  /** How the access reviews were chosen (review-plan.ts). */
  readonly mode: "exhaustive" | "targeted";
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

export async function verifyIsolation(
  platform: Platform,
  options: VerifyIsolationOptions,
): Promise<IsolationReport> {
  const { client } = options;
  const emit = emitter(options.sink);
  const limit = options.concurrency ?? 64;
  const levels = options.levels ?? ACCESS_LEVELS;
  const discovery = new Discovery(client);
  const resources = await discovery.resources();
  const namespacedTargets = targetsOf(resources, true);
  const clusterTargets = targetsOf(resources, false);
  const tenants = platform.spec.tenants;

  // Decide what to ask, as data.
  const levelsList = [...levels];
  const base = { tenants: tenants.map((t) => t.name), levels: levelsList, namespacedTargets, clusterTargets };
  const wanted = options.mode ?? "auto";
  const needsBindings =
    wanted === "targeted" || (wanted === "auto" && exhaustiveSize(base) > EXHAUSTIVE_BUDGET);
  const users = new Map(tenants.map((t) => [t.name, accessEntryUsers(t)]));
  const serviceAccounts = new Map(
    tenants.map((t) => [t.name, [...t.services, ...t.cronJobs][0]?.name ?? "default"]),
  );
  const plan = planReviews({
    ...base,
    mode: wanted,
    users,
    serviceAccounts,
    ...(needsBindings ? { bindings: await bindingIndex(client) } : {}),
  });
  const reviews = plan.reviews;
  const probes = tenants.flatMap((t, i) => {
    const other = tenants.length > 1 ? tenants[(i + 1) % tenants.length] : undefined;
    const identities = tenantIdentities(t.name, levelsList, users.get(t.name)).slice(0, levelsList.length);
    return probesFor(platform, t, other).flatMap((p) =>
      identities.map((who, k) => ({ tenant: t, probe: p, who, level: levelsList[k]! })),
    );
  });
  emit(
    "info",
    "verify.plan",
    `${plan.mode}: checking ${reviews.length} access reviews and ${probes.length} admission probes over ${tenants.length} tenants`,
    { mode: plan.mode, reviews: reviews.length, probes: probes.length },
  );

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
      emit("debug", "verify.progress", `access reviews: ${done}/${reviews.length}`, {
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
    if (check.verdict === "breach") emit("warn", "verify.breach", `BREACH ${check.message}`, { check });
    return check;
  });
  // A probe that relies on a quota's count needs the quota to have counted what exists.
  const uncounted = await waitQuotasCounted(
    client,
    tenants.map((t) => t.name),
  );
  if (uncounted.length > 0)
    emit(
      "warn",
      "verify.quota-not-counted",
      `the resource quota controller has not counted the Ingresses of ${uncounted.map((s) => s.namespace).join(", ")} after 60 s (${uncounted.map(describeQuotaState).join("; ")}): their second-Ingress probes may be admitted`,
      { namespaces: uncounted.map((s) => s.namespace) },
    );
  const probeChecks = await mapLimit(
    probes,
    limit,
    async ({ tenant, probe, who, level }): Promise<IsolationCheck> => {
      const o = probe.object;
      const r = await discovery.resourceFor(o.apiVersion, o.kind);
      const ask = async (): Promise<ProbeAnswer> => {
        try {
          const res = await client.request({
            method: "POST",
            path: resourcePath(r, o.metadata.namespace),
            query: { dryRun: "All", fieldManager: "tenkai-verify" },
            body: o,
            impersonate: { user: who.user, groups: who.groups },
          });
          return { status: res.status, message: "", ...(res.warnings ? { warnings: res.warnings } : {}) };
        } catch (err) {
          if (!isKubeApiError(err)) throw err;
          return { status: err.status, message: err.message };
        }
      };
      const ctx = {
        identity: who.identity,
        action: probe.action,
        target: `namespace ${tenant.name}`,
        mayCreate: roleMayCreate(level, r.group, r.resource),
      };
      let decided = decideProbe(await ask(), probe.expect, ctx);
      if (decided.verdict === "breach" && probe.expect.by === "quota" && o.kind === "Ingress") {
        // Admitted past the count quota: a breach only if the quota counted what exists. If the
        // controller fell behind since the wait above (its counts are rewritten on every resync),
        // wait for it again and ask once more; the message says what the quota held.
        let state = await ingressQuotaState(client, tenant.name);
        if (!quotaCounted(state)) {
          await waitQuotasCounted(client, [tenant.name]);
          decided = decideProbe(await ask(), probe.expect, ctx);
          state = await ingressQuotaState(client, tenant.name);
        }
        if (decided.verdict === "breach")
          decided = { ...decided, message: `${decided.message} (${describeQuotaState(state)})` };
      }
      const check: IsolationCheck = {
        kind: "admission",
        identity: who.identity,
        tenant: tenant.name,
        target: tenant.name,
        action: probe.action,
        ...decided,
      };
      if (check.verdict === "breach") emit("warn", "verify.breach", `BREACH ${check.message}`, { check });
      return check;
    },
  );
  const guardChecks = (
    await mapLimit(tenants, limit, async (t) => guardsPresent(client, platform, t))
  ).flat();
  for (const check of guardChecks)
    if (check.verdict === "breach") emit("warn", "verify.breach", `BREACH ${check.message}`, { check });

  // Report.
  const all = [...reviewChecks, ...probeChecks, ...guardChecks];
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
    mode: plan.mode,
    ok: counts.breach === 0 && counts.error === 0,
    counts,
    checks: [...reviewChecks.filter((c) => c.verdict !== "pass"), ...probeChecks, ...guardChecks],
    matrix: [...cells.values()],
  };
}

/** Whether a tenant access level's Role allows `create` on the resource (RBAC would let it try). */
export function roleMayCreate(level: AccessLevelName, group: string, resource: string): boolean {
  return ROLE_RULES[level].some(
    (r) =>
      (r.apiGroups.includes(group) || r.apiGroups.includes("*")) &&
      (r.resources.includes(resource) || r.resources.includes("*")) &&
      (r.verbs.includes("create") || r.verbs.includes("*")),
  );
}

/**
 * The user name an EKS access entry gives a role by default: its assumed-role ARN with the
 * session name (docs.aws.amazon.com/eks/latest/userguide/creating-access-entries.html); the
 * reviews use `tenkai-verify` as the session.
 */
export function accessEntryUserName(roleArn: string, session = "tenkai-verify"): string {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
  return m ? `arn:${m[1]}:sts::${m[2]}:assumed-role/${m[3]}/${session}` : roleArn;
}

/** Per access level, the user name of the first role the spec maps to it. */
function accessEntryUsers(
  tenant: Platform["spec"]["tenants"][number],
): Partial<Record<AccessLevelName, string>> {
  const out: Partial<Record<AccessLevelName, string>> = {};
  for (const a of tenant.access) out[a.level] ??= accessEntryUserName(a.role);
  return out;
}

/** Every subject of every RoleBinding (by namespace) and ClusterRoleBinding, as the name RBAC matches. */
async function bindingIndex(client: KubeClient): Promise<BindingIndex> {
  type Binding = {
    metadata: { namespace?: string };
    subjects?: { kind: string; name: string; namespace?: string }[];
  };
  const list = async (path: string) => {
    const out: Binding[] = [];
    let cont: string | undefined;
    do {
      const page = await client.request<{ items?: Binding[]; metadata?: { continue?: string } }>({
        method: "GET",
        path,
        query: { limit: "500", continue: cont },
      });
      out.push(...(page.body.items ?? []));
      cont = page.body.metadata?.continue || undefined;
    } while (cont);
    return out;
  };
  const groups = (b: Binding) =>
    (b.subjects ?? []).map((s) =>
      s.kind === "ServiceAccount"
        ? `system:serviceaccount:${s.namespace ?? b.metadata.namespace}:${s.name}`
        : s.name,
    );
  const namespaced = new Map<string, Set<string>>();
  for (const b of await list("/apis/rbac.authorization.k8s.io/v1/rolebindings")) {
    const ns = b.metadata.namespace ?? "";
    const set = namespaced.get(ns) ?? new Set<string>();
    for (const g of groups(b)) set.add(g);
    namespaced.set(ns, set);
  }
  const cluster = new Set(
    (await list("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")).flatMap(groups),
  );
  return { namespaced, cluster };
}
