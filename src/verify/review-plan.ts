/**
 * Which SubjectAccessReviews to send, decided as data before any is sent. Pure.
 *
 * - exhaustive: every discovered resource, subresource and verb, for every tenant access group,
 *   in every other tenant's namespace and at cluster scope (grows with tenants squared: about
 *   350 reviews per identity and namespace).
 * - targeted: the same full sweep wherever a RoleBinding or ClusterRoleBinding names the group
 *   (exact for RBAC: every binding in the cluster is read), and elsewhere a fixed sample of
 *   sensitive resources in the next few tenants' namespaces and at cluster scope, which catches
 *   grants from other authorizers (webhooks such as EKS access policies) that bindings do not show.
 * - auto (default): exhaustive while it stays under `EXHAUSTIVE_BUDGET` reviews, else targeted.
 *
 * Who is asked about: for each tenant, each access level as the user its access entry gives (the
 * role's assumed-role ARN when the spec maps one, else a stand-in) with the tenant group and
 * `system:authenticated` (which every signed-in user has), and the tenant's workloads as a
 * ServiceAccount with `system:serviceaccounts`, `system:serviceaccounts:<tenant>` and
 * `system:authenticated`; each over the other tenants' namespaces, the cluster scope and the
 * tenant's own guard objects. Then `system:authenticated` alone over every tenant namespace and
 * the cluster scope. What Kubernetes gives every signed-in user (`EVERYONE_MAY`) is not a breach.
 */
import type { ApiResource } from "../kube/api/discovery.js";
import { GUARD_RESOURCES, WRITE_VERBS } from "../kube/render/rbac.js";
import { type AccessLevelName, tenantGroup } from "../shared/kube-names.js";
import type { CheckKind } from "./checks.js";

export type ReviewMode = "auto" | "exhaustive" | "targeted";
export const EXHAUSTIVE_BUDGET = 200_000;
/** Other tenants' namespaces sampled per identity in targeted mode. */
const SAMPLED_NAMESPACES = 3;

export interface Review {
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

export interface Target {
  readonly group: string;
  readonly resource: string;
  readonly subresource?: string;
  readonly verbs: readonly string[];
}

/** Verbs RBAC knows beyond the REST ones, per resource (they are not in discovery). */
const EXTRA_VERBS: Record<string, readonly string[]> = {
  "/serviceaccounts": ["impersonate"],
  "rbac.authorization.k8s.io/roles": ["bind", "escalate"],
  "rbac.authorization.k8s.io/clusterroles": ["bind", "escalate"],
};
const PSEUDO_CLUSTER: readonly Target[] = [
  { group: "", resource: "users", verbs: ["impersonate"] },
  { group: "", resource: "groups", verbs: ["impersonate"] },
  { group: "authentication.k8s.io", resource: "uids", verbs: ["impersonate"] },
  { group: "authentication.k8s.io", resource: "userextras", verbs: ["impersonate"] },
];
/** What Kubernetes' default bindings give every signed-in user at cluster scope (system:basic-user). */
export const EVERYONE_MAY: readonly { verb: string; group: string; resource: string }[] = [
  { verb: "create", group: "authorization.k8s.io", resource: "selfsubjectaccessreviews" },
  { verb: "create", group: "authorization.k8s.io", resource: "selfsubjectrulesreviews" },
  { verb: "create", group: "authentication.k8s.io", resource: "selfsubjectreviews" },
];
const everyoneMay = (verb: string, group: string, resource: string, subresource?: string) =>
  subresource === undefined &&
  EVERYONE_MAY.some((e) => e.verb === verb && e.group === group && e.resource === resource);
export const EVERYONE = "system:authenticated";
const SAMPLE_VERBS = ["get", "list", "create", "update", "delete"];
const NAMESPACED_SAMPLE: readonly Target[] = [
  ...["pods", "secrets", "configmaps", "services", "serviceaccounts"].map((resource) => ({
    group: "",
    resource,
    verbs: SAMPLE_VERBS,
  })),
  { group: "", resource: "pods", subresource: "exec", verbs: ["create", "get"] },
  { group: "apps", resource: "deployments", verbs: SAMPLE_VERBS },
  { group: "networking.k8s.io", resource: "ingresses", verbs: SAMPLE_VERBS },
  { group: "networking.k8s.io", resource: "networkpolicies", verbs: SAMPLE_VERBS },
  { group: "rbac.authorization.k8s.io", resource: "rolebindings", verbs: SAMPLE_VERBS },
];
const CLUSTER_SAMPLE: readonly Target[] = [
  ...["namespaces", "nodes", "persistentvolumes"].map((resource) => ({
    group: "",
    resource,
    verbs: SAMPLE_VERBS,
  })),
  { group: "rbac.authorization.k8s.io", resource: "clusterrolebindings", verbs: SAMPLE_VERBS },
  {
    group: "rbac.authorization.k8s.io",
    resource: "clusterroles",
    verbs: [...SAMPLE_VERBS, "bind", "escalate"],
  },
  { group: "admissionregistration.k8s.io", resource: "validatingadmissionpolicies", verbs: SAMPLE_VERBS },
  { group: "networking.k8s.io", resource: "ingressclasses", verbs: SAMPLE_VERBS },
  { group: "", resource: "users", verbs: ["impersonate"] },
  { group: "", resource: "groups", verbs: ["impersonate"] },
];

export function targetsOf(resources: readonly ApiResource[], namespaced: boolean): Target[] {
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

/**
 * Subjects of the cluster's bindings, per namespace (RoleBindings) and cluster-wide: Group and
 * User names, and ServiceAccounts as the user name they authenticate as.
 */
export interface BindingIndex {
  readonly namespaced: ReadonlyMap<string, ReadonlySet<string>>;
  readonly cluster: ReadonlySet<string>;
}

export interface ReviewPlanInput {
  readonly tenants: readonly string[];
  readonly levels: readonly AccessLevelName[];
  readonly namespacedTargets: readonly Target[];
  readonly clusterTargets: readonly Target[];
  readonly mode: ReviewMode;
  /** Needed for targeted mode. */
  readonly bindings?: BindingIndex;
  /** Per tenant and level, the user name its access entry gives; default a stand-in name. */
  readonly users?: ReadonlyMap<string, Partial<Record<AccessLevelName, string>>>;
  /** Per tenant, the ServiceAccount its workloads run as (one is enough: RBAC sees the groups); default `default`. */
  readonly serviceAccounts?: ReadonlyMap<string, string>;
}

/** Who a review asks about. */
export interface Identity {
  readonly identity: string;
  readonly tenant: string;
  readonly user: string;
  readonly groups: readonly string[];
}

/** Every identity of a tenant: one per access level, and its workloads' ServiceAccount. */
export function tenantIdentities(
  tenant: string,
  levels: readonly AccessLevelName[],
  users: Partial<Record<AccessLevelName, string>> = {},
  serviceAccount = "default",
): Identity[] {
  return [
    ...levels.map((level) => ({
      identity: tenantGroup(tenant, level),
      tenant,
      user: users[level] ?? `tenkai-verify:${tenant}:${level}`,
      groups: [tenantGroup(tenant, level), EVERYONE],
    })),
    {
      identity: `system:serviceaccounts:${tenant}`,
      tenant,
      user: `system:serviceaccount:${tenant}:${serviceAccount}`,
      groups: ["system:serviceaccounts", `system:serviceaccounts:${tenant}`, EVERYONE],
    },
  ];
}

export interface ReviewPlan {
  readonly mode: "exhaustive" | "targeted";
  readonly reviews: readonly Review[];
}

const count = (targets: readonly Target[]) => targets.reduce((n, t) => n + t.verbs.length, 0);
const clusterCount = (targets: readonly Target[]) =>
  targets.reduce(
    (n, t) => n + t.verbs.filter((v) => !everyoneMay(v, t.group, t.resource, t.subresource)).length,
    0,
  );

/** How many reviews the exhaustive sweep takes for this many tenants. */
export function exhaustiveSize(
  i: Pick<ReviewPlanInput, "tenants" | "levels" | "namespacedTargets" | "clusterTargets">,
): number {
  const t = i.tenants.length;
  const guard = GUARD_RESOURCES.length * WRITE_VERBS.length - 1; // no deletecollection on the namespace itself
  const identities = i.levels.length + 1;
  return (
    t * identities * ((t - 1) * count(i.namespacedTargets) + clusterCount(i.clusterTargets) + guard) +
    t * count(i.namespacedTargets) +
    clusterCount(i.clusterTargets)
  );
}

const anyone = (tenant: string): Identity => ({
  identity: EVERYONE,
  tenant,
  user: "tenkai-verify:anyone",
  groups: [EVERYONE],
});

export function planReviews(input: ReviewPlanInput): ReviewPlan {
  const mode =
    input.mode === "auto"
      ? exhaustiveSize(input) <= EXHAUSTIVE_BUDGET
        ? "exhaustive"
        : "targeted"
      : input.mode;
  const { tenants } = input;
  const reviews: Review[] = [];
  const sweep = (
    who: Identity,
    kind: CheckKind,
    namespace: string | undefined,
    targets: readonly Target[],
  ) => {
    for (const x of targets)
      for (const verb of x.verbs) {
        if (!namespace && everyoneMay(verb, x.group, x.resource, x.subresource)) continue;
        reviews.push({
          ...who,
          kind,
          target: namespace ?? "(cluster)",
          attrs: {
            ...(namespace ? { namespace } : {}),
            verb,
            group: x.group,
            resource: x.resource,
            ...(x.subresource ? { subresource: x.subresource } : {}),
          },
        });
      }
  };
  // Grants to the groups every user or every workload has are swept once, by the `anyone`
  // identity; per identity, only its own names decide where a full sweep is needed (targeted).
  const SHARED = new Set([EVERYONE, "system:serviceaccounts"]);
  const names = (who: Identity) =>
    who.identity === EVERYONE ? [EVERYONE] : [who.user, ...who.groups].filter((n) => !SHARED.has(n));
  const bound = (who: Identity, namespace?: string) =>
    names(who).some(
      (n) =>
        input.bindings?.cluster.has(n) === true ||
        (namespace !== undefined && input.bindings?.namespaced.get(namespace)?.has(n) === true),
    );

  tenants.forEach((t, ti) => {
    const identities = tenantIdentities(t, input.levels, input.users?.get(t), input.serviceAccounts?.get(t));
    for (const who of identities) {
      const others = tenants.filter((o) => o !== t);
      if (mode === "exhaustive") {
        for (const o of others) sweep(who, "cross-tenant", o, input.namespacedTargets);
        sweep(who, "cluster-scoped", undefined, input.clusterTargets);
      } else {
        const sampled = new Set(
          Array.from(
            { length: Math.min(SAMPLED_NAMESPACES, others.length) },
            (_, k) => tenants[(ti + 1 + k) % tenants.length]!,
          ).filter((o) => o !== t),
        );
        for (const o of others) {
          if (bound(who, o)) sweep(who, "cross-tenant", o, input.namespacedTargets);
          else if (sampled.has(o)) sweep(who, "cross-tenant", o, NAMESPACED_SAMPLE);
        }
        sweep(
          who,
          "cluster-scoped",
          undefined,
          names(who).some((n) => input.bindings?.cluster.has(n)) ? input.clusterTargets : CLUSTER_SAMPLE,
        );
      }
      for (const g of GUARD_RESOURCES)
        for (const verb of WRITE_VERBS) {
          const name = g.resource === "namespaces" ? t : undefined;
          if (name && verb === "deletecollection") continue;
          reviews.push({
            ...who,
            kind: "guard-write",
            target: t,
            attrs: { namespace: t, verb, group: g.group, resource: g.resource, ...(name ? { name } : {}) },
          });
        }
    }
    // Kubernetes binds everyone cluster-wide by default (self reviews, discovery): only a
    // RoleBinding here calls for the full sweep; cluster-wide grants show in the sample.
    const here = input.bindings?.namespaced.get(t);
    const everyoneBound = here?.has(EVERYONE) || here?.has("system:unauthenticated");
    sweep(
      anyone(t),
      "anyone",
      t,
      mode === "exhaustive" || everyoneBound ? input.namespacedTargets : NAMESPACED_SAMPLE,
    );
  });
  // Grants to everyone at cluster scope (e.g. deleting an admission policy) are breaches too.
  sweep(
    anyone("*"),
    "anyone",
    undefined,
    mode === "exhaustive" || input.bindings?.cluster.has(EVERYONE) ? input.clusterTargets : CLUSTER_SAMPLE,
  );
  return { mode, reviews };
}
