/**
 * Names shared between the Kubernetes plane, the AWS plane and verification. Each is computed in
 * exactly one function so the two planes cannot drift (a log group the AWS plane creates is the
 * one Fluent Bit writes to; an RBAC group the access entries use is the one the RoleBindings name).
 */

import type { PlatformIdentity, PlatformRef } from "./aws-names.js";
import * as aws from "./aws-names.js";

export type AccessLevelName = "view" | "edit" | "admin";
export const ACCESS_LEVELS: readonly AccessLevelName[] = ["view", "edit", "admin"];

/** Namespace for tenkai's own cluster-wide state (ApplySet parent, admission params). */
export const SYSTEM_NAMESPACE = "tenkai-system";

/** Label on every tenant namespace: admission policies and verification select on it. */
export const TENANT_LABEL = "tenkai.dev/tenant";
export const PLATFORM_LABEL = "tenkai.dev/platform";
export const WORKLOAD_LABEL = "app.kubernetes.io/name";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

/**
 * Kubernetes group an EKS access entry puts a tenant role in (the AWS plane maps
 * `tenant.access[].role` to these; the RoleBindings here grant them). One definition: aws-names.ts.
 */
export function tenantGroup(tenant: string, level: AccessLevelName): string {
  return aws.tenantGroup(tenant, level);
}

/** The ECR registry host, e.g. `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com`. */
export function registryHost(platform: PlatformRef): string {
  return aws.imageUri(platform, "t", "i", "x").split("/")[0] as string;
}

/** Registry prefix a tenant's images must come from: `<registry>/<platform>/<tenant>/`. */
export function imagePrefix(platform: PlatformRef, tenant: string): string {
  return `${registryHost(platform)}/${aws.repositoryName(platform, tenant, "")}`;
}

export function imageRef(platform: PlatformRef, tenant: string, image: string, tag: string): string {
  return aws.imageUri(platform, tenant, image, tag);
}

/** IAM role a workload's ServiceAccount assumes through IRSA (named by the AWS plane). */
export function workloadRoleArn(platform: PlatformRef, tenant: string, workload: string): string {
  return aws.workloadRoleArn(platform, tenant, workload);
}

/** CloudWatch Logs group a tenant's container logs go to (the AWS plane creates it). */
export function tenantLogGroupName(platform: aws.PlatformIdentity, tenant: string): string {
  return aws.logGroupNames.tenant(platform, tenant);
}

/** The IngressClass (and IngressClassParams) a tenant's Ingresses must use. */
export function ingressClassName(tenant: string): string {
  return `tenkai-${tenant}`;
}

/** Labels every object tenkai renders carries. */
export function baseLabels(platform: PlatformIdentity, tenant?: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: "tenkai",
    [PLATFORM_LABEL]: platform.metadata.name,
    ...(tenant ? { [TENANT_LABEL]: tenant } : {}),
  };
}
