/**
 * Cluster Autoscaler for the managed node groups: the upstream chart rendered verbatim
 * (data/charts/cluster-autoscaler, provenance.json beside it), finding node groups by the tags
 * EKS puts on their Auto Scaling groups, with its own IRSA role (the cluster stack makes it).
 *
 * Rotation-aware: while a group rotates, the nodes stack holds the draining slot's maximum at
 * its size, and Cluster Autoscaler never grows an Auto Scaling group past MaxSize
 * (src/aws/stacks/nodes.ts, scalingFor).
 *
 * Only on the `aws` target: locally there is no Auto Scaling group to scale.
 */
import { clusterName, platformRoleArn } from "../../shared/aws-names.js";
import { CHARTS } from "../../shared/data.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { chartObjects } from "./charts.js";

/**
 * Cluster Autoscaler's minor must match the cluster's (its README, "Releases"); each
 * Kubernetes minor has a Cluster Autoscaler release `v1.N.0`.
 */
export function clusterAutoscalerImageTag(platform: Platform): string {
  return `v${platform.spec.cluster.version}.0`;
}

export function clusterAutoscaler(platform: Platform): KubeObject[] {
  if (platform.spec.target !== "aws") return [];
  return chartObjects(platform, CHARTS.clusterAutoscaler, {
    CLUSTER_NAME: clusterName(platform),
    REGION: platform.spec.aws.region,
    ROLE_ARN: platformRoleArn(platform, "clusterAutoscaler"),
    IMAGE_TAG: clusterAutoscalerImageTag(platform),
  });
}
