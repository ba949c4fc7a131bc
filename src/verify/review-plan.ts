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

/** Group subjects of the cluster's bindings: per namespace (RoleBindings) and cluster-wide. */
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
}

export interface ReviewPlan {
  readonly mode: "exhaustive" | "targeted";
  readonly reviews: readonly Review[];
}

const count = (targets: readonly Target[]) => targets.reduce((n, t) => n + t.verbs.length, 0);

/** How many reviews the exhaustive sweep takes for this many tenants. */
export function exhaustiveSize(i: Omit<ReviewPlanInput, "mode" | "bindings">): number {
  const t = i.tenants.length;
  const guard = GUARD_RESOURCES.length * WRITE_VERBS.length - 1; // no deletecollection on the namespace itself
  return (
    t * i.levels.length * ((t - 1) * count(i.namespacedTargets) + count(i.clusterTargets) + guard) +
    t * count(i.namespacedTargets)
  );
}

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
    who: Omit<Review, "kind" | "target" | "attrs">,
    kind: CheckKind,
    namespace: string | undefined,
    targets: readonly Target[],
  ) => {
    for (const x of targets)
      for (const verb of x.verbs)
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
  };
  const bound = (group: string, namespace?: string) =>
    input.bindings?.cluster.has(group) === true ||
    (namespace !== undefined && input.bindings?.namespaced.get(namespace)?.has(group) === true);

  tenants.forEach((t, ti) => {
    for (const level of input.levels) {
      const group = tenantGroup(t, level);
      const who = { identity: group, tenant: t, user: `tenkai-verify:${t}:${level}`, groups: [group] };
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
          if (bound(group, o)) sweep(who, "cross-tenant", o, input.namespacedTargets);
          else if (sampled.has(o)) sweep(who, "cross-tenant", o, NAMESPACED_SAMPLE);
        }
        sweep(
          who,
          "cluster-scoped",
          undefined,
          input.bindings?.cluster.has(group) ? input.clusterTargets : CLUSTER_SAMPLE,
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
    const anyone = {
      identity: "system:authenticated",
      tenant: t,
      user: "tenkai-verify:anyone",
      groups: ["system:authenticated"],
    };
    const everyoneBound = bound("system:authenticated", t) || bound("system:unauthenticated", t);
    sweep(
      anyone,
      "anyone",
      t,
      mode === "exhaustive" || everyoneBound ? input.namespacedTargets : NAMESPACED_SAMPLE,
    );
  });
  return { mode, reviews };
}
