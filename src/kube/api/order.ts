/**
 * Apply order. Phase 0: CRDs and namespaces (everything else lives in or needs them; CRDs must be
 * Established before their kinds are served). Phase 1: policy, RBAC and configuration, including
 * quotas, limit ranges and admission params that must exist before pods are admitted. Phase 2:
 * workloads and what routes to them. Prune runs in reverse.
 */
export type Phase = 0 | 1 | 2;

export const PHASE_NAMES: Record<Phase, string> = {
  0: "CRDs and namespaces",
  1: "policy, RBAC and configuration",
  2: "workloads and ingress",
};

const WORKLOADS = new Set([
  "Deployment",
  "DaemonSet",
  "StatefulSet",
  "ReplicaSet",
  "CronJob",
  "Job",
  "HorizontalPodAutoscaler",
  "Ingress",
  "Pod",
]);

export function phaseOf(kind: string): Phase {
  if (kind === "CustomResourceDefinition" || kind === "Namespace") return 0;
  return WORKLOADS.has(kind) ? 2 : 1;
}
