/**
 * A tenant's namespace and the guard objects in it that hold its resource use in bounds:
 * Pod Security Admission `restricted` (enforce, audit, warn), ResourceQuotas (compute, local
 * disk, object counts of every kind a tenant may create, and no pods at the system priority
 * classes), LimitRange (defaults and ceilings, local disk included) and a default ServiceAccount
 * that mounts no token.
 */
import { baseLabels } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import { parseQuantity } from "../../spec/quantity.js";
import type { Platform, Tenant } from "../../spec/schema.js";

/** Pod Security Standards level and version pinned on every tenant namespace. */
export const POD_SECURITY = { level: "restricted", version: "latest" } as const;

/**
 * The AWS Load Balancer Controller's webhook adds a readiness gate to pods in namespaces with this
 * label: a pod is Ready only once its IP target is healthy in the ALB's target group, so a rollout
 * or a drain never takes down the last healthy target (controller docs, "Pod readiness gate").
 */
export const READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject";

/** Per-container defaults when a pod sets none: the schema's workload defaults. */
const DEFAULT_REQUEST = { cpu: "250m", memory: "256Mi" } as const;
/** Local disk per container when it sets none: its writable layer, logs and emptyDirs. */
const DEFAULT_EPHEMERAL = { request: "256Mi", limit: "1Gi" } as const;

/** The priority classes Kubernetes ships for its own components; never for tenants. */
export const SYSTEM_PRIORITY_CLASSES = ["system-node-critical", "system-cluster-critical"] as const;
/** The one priority class tenant pods may name: priority 0, never preempts (see tenantPriorityClass). */
export const TENANT_PRIORITY_CLASS = "tenkai-tenant";

/** Object counts in a tenant's quota: the spec's `quota.objects`, else sized from what the spec makes. */
export function objectCounts(tenant: Tenant): Record<string, number> {
  const o = tenant.quota.objects;
  const services = tenant.services.length;
  const cronJobs = tenant.cronJobs.length;
  const deployments = o.deployments ?? services + 5;
  return {
    "count/configmaps": o.configMaps ?? 20, // kube-root-ca.crt is one
    "count/secrets": o.secrets ?? 20,
    "count/services": o.services ?? services + 5,
    "count/serviceaccounts": o.serviceAccounts ?? services + cronJobs + 1 + 5, // `default` is one
    "count/deployments.apps": deployments,
    // A Deployment keeps revisionHistoryLimit (tenkai: 5, Kubernetes' default: 10) old ReplicaSets.
    "count/replicasets.apps": o.replicaSets ?? deployments * 12,
    "count/statefulsets.apps": o.statefulSets ?? 5,
    "count/cronjobs.batch": o.cronJobs ?? cronJobs + 5,
    // Each CronJob keeps 3 successful and 3 failed Jobs, plus the one running.
    "count/jobs.batch": o.jobs ?? (cronJobs + 5) * 7,
    "count/horizontalpodautoscalers.autoscaling": o.horizontalPodAutoscalers ?? services + 5,
    "count/poddisruptionbudgets.policy": o.podDisruptionBudgets ?? services + 5,
    // One Ingress per declared route: rules on the shared ALB are a shared, capped resource.
    "count/ingresses.networking.k8s.io": tenant.services.filter((s) => s.route).length,
    "count/leases.coordination.k8s.io": o.leases ?? 10,
  };
}

export function tenantNamespace(platform: Platform, tenant: Tenant): KubeObject {
  const psa: Record<string, string> = {};
  for (const mode of ["enforce", "audit", "warn"]) {
    psa[`pod-security.kubernetes.io/${mode}`] = POD_SECURITY.level;
    psa[`pod-security.kubernetes.io/${mode}-version`] = POD_SECURITY.version;
  }
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: tenant.name,
      labels: { ...baseLabels(platform, tenant.name), ...psa, [READINESS_GATE_LABEL]: "enabled" },
    },
  };
}

export function resourceQuota(platform: Platform, tenant: Tenant): KubeObject {
  const q = tenant.quota;
  const counts = Object.entries(objectCounts(tenant)).map(([k, v]) => [k, String(v)] as const);
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "tenkai-quota", namespace: tenant.name, labels: baseLabels(platform, tenant.name) },
    spec: {
      hard: {
        "requests.cpu": q.cpu,
        "requests.memory": q.memory,
        "limits.cpu": q.cpu,
        "limits.memory": q.memory,
        pods: String(q.pods),
        // Requests only: they decide placement, and every container's limit is capped by the
        // LimitRange, past which the kubelet evicts the pod (limits may overcommit the disk).
        "requests.ephemeral-storage": q.ephemeralStorage,
        ...Object.fromEntries(counts),
        // The shared ALB is the only way in: no per-tenant load balancers or node ports, and
        // tenkai platforms keep no PersistentVolumes (DESIGN.md).
        "services.loadbalancers": "0",
        "services.nodeports": "0",
        persistentvolumeclaims: "0",
      },
    },
  };
}

/**
 * No tenant pod may run at a system priority class (they preempt other tenants' pods on any
 * node). The admission policy `tenkai-pods` refuses every class but tenkai's own; this quota is
 * the second lock, enforced by the quota admission plugin even if the policy is removed.
 */
export function priorityQuota(platform: Platform, tenant: Tenant): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: {
      name: "tenkai-system-priority",
      namespace: tenant.name,
      labels: baseLabels(platform, tenant.name),
    },
    spec: {
      hard: { pods: "0" },
      scopeSelector: {
        matchExpressions: [
          { scopeName: "PriorityClass", operator: "In", values: [...SYSTEM_PRIORITY_CLASSES] },
        ],
      },
    },
  };
}

/**
 * The priority class of tenant pods: the default priority (0), and `preemptionPolicy: Never`, so
 * a pending tenant pod waits for room instead of evicting anyone else's.
 */
export function tenantPriorityClass(platform: Platform): KubeObject {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: TENANT_PRIORITY_CLASS, labels: baseLabels(platform) },
    value: 0,
    preemptionPolicy: "Never",
    globalDefault: false,
    description: "tenkai tenant workloads: default priority, never preempts",
  };
}

/**
 * Defaults for containers that set no resources (so the quota can admit them) and a per-container
 * ceiling: no container may be larger than the tenant's whole quota.
 */
export function limitRange(platform: Platform, tenant: Tenant): KubeObject {
  const disk = tenant.quota.ephemeralStorage;
  const smaller = (a: string, b: string) => (parseQuantity(a) <= parseQuantity(b) ? a : b);
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "tenkai-limits", namespace: tenant.name, labels: baseLabels(platform, tenant.name) },
    spec: {
      limits: [
        {
          type: "Container",
          default: { ...DEFAULT_REQUEST, "ephemeral-storage": smaller(DEFAULT_EPHEMERAL.limit, disk) },
          defaultRequest: {
            ...DEFAULT_REQUEST,
            "ephemeral-storage": smaller(DEFAULT_EPHEMERAL.request, disk),
          },
          max: {
            cpu: tenant.quota.cpu,
            memory: tenant.quota.memory,
            "ephemeral-storage": tenant.quota.ephemeralStorage,
          },
        },
      ],
    },
  };
}

/** The namespace's `default` ServiceAccount: pods that name no account get no API token. */
export function defaultServiceAccount(platform: Platform, tenant: Tenant): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default", namespace: tenant.name, labels: baseLabels(platform, tenant.name) },
    automountServiceAccountToken: false,
  };
}
