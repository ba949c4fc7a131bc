/**
 * A tenant's Roles for the three access levels and the RoleBindings that give them to the
 * Kubernetes groups EKS access entries put tenant IAM roles in (`tenkai:<tenant>:<level>`).
 *
 * The Roles are written out rather than bound to the built-in `edit`/`admin` ClusterRoles: those
 * allow writing NetworkPolicies (edit) and Roles/RoleBindings (admin), which would let a tenant
 * undo its own isolation. No level here writes a guard object (GUARD_RESOURCES).
 */

import { ACCESS_LEVELS, type AccessLevelName, baseLabels, tenantGroup } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform, Tenant } from "../../spec/schema.js";

export const READ_VERBS = ["get", "list", "watch"] as const;
export const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"] as const;

/** Objects that keep a tenant isolated: no tenant access level may write them. */
export const GUARD_RESOURCES: readonly { readonly group: string; readonly resource: string }[] = [
  { group: "", resource: "namespaces" },
  { group: "", resource: "resourcequotas" },
  { group: "", resource: "limitranges" },
  { group: "networking.k8s.io", resource: "networkpolicies" },
  { group: "rbac.authorization.k8s.io", resource: "roles" },
  { group: "rbac.authorization.k8s.io", resource: "rolebindings" },
];

interface Rule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

const read = (apiGroup: string, resources: string[]): Rule => ({
  apiGroups: [apiGroup],
  resources,
  verbs: [...READ_VERBS],
});
const write = (apiGroup: string, resources: string[]): Rule => ({
  apiGroups: [apiGroup],
  resources,
  verbs: [...WRITE_VERBS],
});

const VIEW: Rule[] = [
  read("", [
    "pods",
    "pods/log",
    "services",
    "endpoints",
    "configmaps",
    "events",
    "serviceaccounts",
    "resourcequotas",
    "limitranges",
  ]),
  read("apps", ["deployments", "deployments/scale", "replicasets", "statefulsets"]),
  read("batch", ["jobs", "cronjobs"]),
  read("autoscaling", ["horizontalpodautoscalers"]),
  read("policy", ["poddisruptionbudgets"]),
  read("networking.k8s.io", ["ingresses", "networkpolicies"]),
  read("discovery.k8s.io", ["endpointslices"]),
  read("events.k8s.io", ["events"]),
];

const EDIT: Rule[] = [
  ...VIEW,
  read("", ["secrets"]),
  write("", ["pods", "services", "configmaps", "secrets", "serviceaccounts"]),
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  write("apps", ["deployments", "deployments/scale", "replicasets", "statefulsets"]),
  write("batch", ["jobs", "cronjobs"]),
  write("autoscaling", ["horizontalpodautoscalers"]),
  write("policy", ["poddisruptionbudgets"]),
  write("networking.k8s.io", ["ingresses"]),
];

const ADMIN: Rule[] = [
  ...EDIT,
  { apiGroups: [""], resources: ["pods/exec", "pods/attach", "pods/portforward"], verbs: ["get", "create"] },
  { apiGroups: [""], resources: ["pods/ephemeralcontainers"], verbs: ["patch", "update"] },
  read("rbac.authorization.k8s.io", ["roles", "rolebindings"]),
  read("coordination.k8s.io", ["leases"]),
  write("coordination.k8s.io", ["leases"]),
];

export const ROLE_RULES: Readonly<Record<AccessLevelName, readonly Rule[]>> = {
  view: VIEW,
  edit: EDIT,
  admin: ADMIN,
};

export function roleName(level: AccessLevelName): string {
  return `tenkai:${level}`;
}

export function tenantRbac(platform: Platform, tenant: Tenant): KubeObject[] {
  const labels = baseLabels(platform, tenant.name);
  const out: KubeObject[] = [];
  for (const level of ACCESS_LEVELS) {
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: roleName(level), namespace: tenant.name, labels },
      rules: ROLE_RULES[level].map((r) => ({ ...r })),
    });
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: roleName(level), namespace: tenant.name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName(level) },
      subjects: [
        { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: tenantGroup(tenant.name, level) },
      ],
    });
  }
  return out;
}
