/**
 * The AWS Load Balancer Controller from the pinned manifest set in
 * `data/kube/aws-load-balancer-controller.yaml` (version and source recorded in its header).
 */
import { parseAllDocuments } from "yaml";
import { clusterName, platformRoleArn } from "../../shared/aws-names.js";
import { ALB_CONTROLLER_MANIFESTS, readDataText } from "../../shared/data.js";
import { baseLabels } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";

/** IAM role the controller's ServiceAccount assumes (IRSA); the AWS plane creates it. */
export function albControllerRoleArn(platform: Platform): string {
  return platformRoleArn(platform, "loadBalancerController");
}

export function albController(platform: Platform): KubeObject[] {
  const vars: Record<string, string> = {
    CLUSTER_NAME: clusterName(platform),
    REGION: platform.spec.aws.region,
    // Nodes allow IMDSv2 with hop limit 1 only, so the controller cannot read its VPC id from
    // instance metadata; it finds the VPC by the tag the network stack sets.
    PLATFORM: platform.metadata.name,
    ROLE_ARN: albControllerRoleArn(platform),
  };
  const text = readDataText(ALB_CONTROLLER_MANIFESTS).replace(
    /\$\{([A-Z_]+)\}/g,
    (m, k: string) => vars[k] ?? m,
  );
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null)
    .map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...baseLabels(platform) } },
    }));
}
