/**
 * A tenant's namespace and the guard objects in it that hold its resource use in bounds:
 * Pod Security Admission `restricted` (enforce, audit, warn), ResourceQuota, LimitRange and a
 * default ServiceAccount that mounts no token.
 */

import { baseLabels } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform, Tenant } from "../../spec/schema.js";

/** Pod Security Standards level and version pinned on every tenant namespace. */
export const POD_SECURITY = { level: "restricted", version: "latest" } as const;

/** Per-container defaults when a pod sets none: the schema's workload defaults. */
const DEFAULT_REQUEST = { cpu: "250m", memory: "256Mi" } as const;

export function tenantNamespace(platform: Platform, tenant: Tenant): KubeObject {
  const psa: Record<string, string> = {};
  for (const mode of ["enforce", "audit", "warn"]) {
    psa[`pod-security.kubernetes.io/${mode}`] = POD_SECURITY.level;
    psa[`pod-security.kubernetes.io/${mode}-version`] = POD_SECURITY.version;
  }
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: tenant.name, labels: { ...baseLabels(platform, tenant.name), ...psa } },
  };
}

export function resourceQuota(platform: Platform, tenant: Tenant): KubeObject {
  const q = tenant.quota;
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
 * Defaults for containers that set no resources (so the quota can admit them) and a per-container
 * ceiling: no container may be larger than the tenant's whole quota.
 */
export function limitRange(platform: Platform, tenant: Tenant): KubeObject {
  return {
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "tenkai-limits", namespace: tenant.name, labels: baseLabels(platform, tenant.name) },
    spec: {
      limits: [
        {
          type: "Container",
          default: { ...DEFAULT_REQUEST },
          defaultRequest: { ...DEFAULT_REQUEST },
          max: { cpu: tenant.quota.cpu, memory: tenant.quota.memory },
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
