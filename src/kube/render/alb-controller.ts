/**
 * The AWS Load Balancer Controller: the upstream chart rendered verbatim
 * (data/charts/aws-load-balancer-controller, provenance.json beside it), with tenkai's values:
 * cluster name, region, the VPC id from the AWS plane (nodes allow IMDSv2 with hop limit 1
 * only, so the controller cannot read it from instance metadata), and the IRSA role.
 *
 * The VPC id and the webhook's serving certificate are known only at apply time: the render
 * carries them as late-bound values that `tenkai apply` fills (src/kube/api/late-bound.ts).
 *
 * On the `local` target there is no AWS to manage, so only the controller's CRDs are rendered
 * (tenants' IngressClassParams need them); the webhooks would otherwise refuse Ingresses and
 * Services while no controller serves them.
 */
import { clusterName, platformRoleArn } from "../../shared/aws-names.js";
import { CHARTS } from "../../shared/data.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";
import { chartObjects } from "./charts.js";

/** Written where the VPC id goes; `tenkai apply` replaces it with the cluster's VPC id. */
export const LATE_VPC_ID = "tenkai-late-bound-vpc-id";

/** IAM role the controller's ServiceAccount assumes (IRSA); the AWS plane creates it. */
export function albControllerRoleArn(platform: Platform): string {
  return platformRoleArn(platform, "loadBalancerController");
}

export interface AlbControllerFacts {
  /** The VPC of the cluster, when known at render time. Default: late-bound at apply. */
  readonly vpcId?: string;
}

export function albController(platform: Platform, facts: AlbControllerFacts = {}): KubeObject[] {
  const objects = chartObjects(platform, CHARTS.albController, {
    CLUSTER_NAME: clusterName(platform),
    REGION: platform.spec.aws.region,
    VPC_ID: facts.vpcId ?? LATE_VPC_ID,
    ROLE_ARN: albControllerRoleArn(platform),
  });
  if (platform.spec.target === "local") return objects.filter((o) => o.kind === "CustomResourceDefinition");
  return objects;
}
