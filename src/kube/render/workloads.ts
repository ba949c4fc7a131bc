/**
 * A tenant's workloads: per service a ServiceAccount, Deployment, Service, PodDisruptionBudget and
 * HorizontalPodAutoscaler; per cron job a ServiceAccount and CronJob.
 */

import { baseLabels, WORKLOAD_LABEL, workloadRoleArn } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { CronJob, Platform, Service, Tenant } from "../../spec/schema.js";
import { podAnnotations, podLabels, podSpec } from "./pod-spec.js";

/** The IRSA annotation the EKS pod identity webhook reads. */
export const IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";

function workloadLabels(platform: Platform, tenant: Tenant, name: string): Record<string, string> {
  return { ...baseLabels(platform, tenant.name), [WORKLOAD_LABEL]: name };
}

export function serviceAccount(platform: Platform, tenant: Tenant, workload: Service | CronJob): KubeObject {
  // The AWS plane gives a role to workloads with AWS access or the database (to read its secret);
  // Pod Identity associations are made there too and need no annotation.
  const irsa = (workload.aws !== undefined || workload.database) && !workload.aws?.podIdentity;
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: {
      name: workload.name,
      namespace: tenant.name,
      labels: workloadLabels(platform, tenant, workload.name),
      ...(irsa
        ? { annotations: { [IRSA_ANNOTATION]: workloadRoleArn(platform, tenant.name, workload.name) } }
        : {}),
    },
    automountServiceAccountToken: false,
  };
}

/** HPA bounds: the spec's autoscale block, else replicas..replicas*3. */
export function replicaBounds(s: Service): { min: number; max: number; targetCpuPercent: number } {
  if (s.autoscale)
    return { min: s.autoscale.min, max: s.autoscale.max, targetCpuPercent: s.autoscale.targetCpuPercent };
  return { min: s.replicas, max: s.replicas * 3, targetCpuPercent: 70 };
}

export function serviceObjects(platform: Platform, tenant: Tenant, s: Service): KubeObject[] {
  const labels = workloadLabels(platform, tenant, s.name);
  const meta = { name: s.name, namespace: tenant.name, labels };
  const selector = { matchLabels: { [WORKLOAD_LABEL]: s.name } };
  const bounds = replicaBounds(s);
  return [
    serviceAccount(platform, tenant, s),
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        // No `replicas`: the HorizontalPodAutoscaler owns it (it raises a new Deployment to its
        // minReplicas). Applying replicas too would reset every scale-up on each apply
        // (kubernetes.io/docs/reference/using-api/server-side-apply, "Transferring ownership").
        selector,
        revisionHistoryLimit: 5,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
        template: {
          metadata: { labels: podLabels(tenant, s), annotations: podAnnotations() },
          spec: podSpec(platform, tenant, s, { service: s }),
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: {
        type: "ClusterIP",
        selector: { [WORKLOAD_LABEL]: s.name },
        ports: [{ name: "http", port: s.port, targetPort: "http", protocol: "TCP" }],
      },
    },
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta,
      // One pod at a time: drains during node rotation move on, and never take a service down.
      spec: { maxUnavailable: 1, selector },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.name },
        minReplicas: bounds.min,
        maxReplicas: bounds.max,
        metrics: [
          {
            type: "Resource",
            resource: {
              name: "cpu",
              target: { type: "Utilization", averageUtilization: bounds.targetCpuPercent },
            },
          },
        ],
      },
    },
  ];
}

export function cronJobObjects(platform: Platform, tenant: Tenant, c: CronJob): KubeObject[] {
  const labels = workloadLabels(platform, tenant, c.name);
  return [
    serviceAccount(platform, tenant, c),
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: c.name, namespace: tenant.name, labels },
      spec: {
        schedule: c.schedule,
        ...(c.timeZone ? { timeZone: c.timeZone } : {}),
        concurrencyPolicy: c.concurrencyPolicy,
        startingDeadlineSeconds: 300,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: podLabels(tenant, c) },
          spec: {
            backoffLimit: 2,
            ttlSecondsAfterFinished: 86400,
            template: {
              metadata: { labels: podLabels(tenant, c), annotations: podAnnotations() },
              spec: podSpec(platform, tenant, c, { restartPolicy: "OnFailure" }),
            },
          },
        },
      },
    },
  ];
}
