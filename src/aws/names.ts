/**
 * Deterministic AWS names for everything the AWS plane creates and the Kubernetes plane (or an
 * operator) needs to refer to: stacks, IAM roles, ECR repositories, log groups, secrets, groups.
 *
 * Pure and light (no aws-cdk-lib): the Kubernetes plane imports these to write the IRSA
 * annotation `eks.amazonaws.com/role-arn` without synthesizing, and the stacks use the same
 * functions so both planes agree by construction. Nothing here is a CDK token.
 */
import { createHash } from "node:crypto";
import type { Platform, Tenant } from "../spec/schema.js";

/** IAM role names are at most 64 characters (IAM quotas). */
const IAM_ROLE_NAME_MAX = 64;

/** A short stable hash used when a name must be shortened, so shortened names stay unique. */
export function shortHash(text: string, length = 8): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/** Keeps `name` within `max` characters: if longer, cuts it and appends `-<hash of the full name>`. */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}

/** The AWS partition for a region (the ARNs tenkai computes must match the ones CFN makes). */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

type PlatformRef = Pick<Platform, "metadata"> & { readonly spec: Pick<Platform["spec"], "aws"> };

/** The EKS cluster name: the platform name. */
export function clusterName(platform: Pick<Platform, "metadata">): string {
  return platform.metadata.name;
}

export const stackNames = {
  network: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-network`,
  cluster: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-cluster`,
  nodes: (p: Pick<Platform, "metadata">, group: string) => `${p.metadata.name}-nodes-${group}`,
  data: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-data`,
  /** Tenant stacks are numbered from 1 in spec order of their first tenant (see tenantStackPlan). */
  tenants: (p: Pick<Platform, "metadata">, index: number) =>
    `${p.metadata.name}-tenants-${String(index).padStart(3, "0")}`,
} as const;

/** Managed node group name for a slot: `<group>-<slot>`. */
export function nodegroupName(group: string, slot: "blue" | "green"): string {
  return `${group}-${slot}`;
}

/** The Kubernetes group a tenant access entry carries; the Kubernetes plane binds it to its namespace Role. */
export function tenantGroup(tenant: string, level: "view" | "edit" | "admin"): string {
  return `tenkai:${tenant}:${level}`;
}

/** IAM role name of a tenant workload (service or cron job) with `aws.allow` or `database: true`. */
export function workloadRoleName(
  platform: Pick<Platform, "metadata">,
  tenant: string,
  workload: string,
): string {
  return fitName(`${platform.metadata.name}-${tenant}-${workload}`, IAM_ROLE_NAME_MAX);
}

/** ARN of a workload's role: what the ServiceAccount's `eks.amazonaws.com/role-arn` annotation holds. */
export function workloadRoleArn(platform: PlatformRef, tenant: string, workload: string): string {
  const { account, region } = platform.spec.aws;
  return `arn:${partitionOf(region)}:iam::${account}:role/${workloadRoleName(platform, tenant, workload)}`;
}

/** ServiceAccount of a workload: its name, in the tenant's namespace. */
export function workloadServiceAccount(
  tenant: string,
  workload: string,
): { namespace: string; name: string } {
  return { namespace: tenant, name: workload };
}

/** Platform role names (deterministic so stacks can refer to them without exports). */
export const platformRoleNames = {
  node: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-eks-node`,
  fargatePodExecution: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-eks-fargate-pod`,
  loadBalancerController: (p: Pick<Platform, "metadata">) =>
    `${p.metadata.name}-aws-load-balancer-controller`,
  fluentBit: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-fluent-bit`,
  clusterService: (p: Pick<Platform, "metadata">) => `${p.metadata.name}-eks-cluster`,
} as const;

/** ServiceAccounts of the platform's own add-ons (the Kubernetes plane creates them with these names). */
export const platformServiceAccounts = {
  loadBalancerController: { namespace: "kube-system", name: "aws-load-balancer-controller" },
  fluentBit: { namespace: "tenkai-system", name: "fluent-bit" },
} as const;

export function platformRoleArn(platform: PlatformRef, role: keyof typeof platformRoleNames): string {
  const { account, region } = platform.spec.aws;
  return `arn:${partitionOf(region)}:iam::${account}:role/${platformRoleNames[role](platform)}`;
}

/** ECR repository of a tenant image: `<platform>/<tenant>/<image>`. */
export function repositoryName(platform: Pick<Platform, "metadata">, tenant: string, image: string): string {
  return `${platform.metadata.name}/${tenant}/${image}`;
}

/** Full image reference (registry host included) the Kubernetes plane writes into pod specs. */
export function imageUri(platform: PlatformRef, tenant: string, image: string, tag: string): string {
  const { account, region } = platform.spec.aws;
  const suffix = region.startsWith("cn-") ? ".cn" : "";
  return `${account}.dkr.ecr.${region}.amazonaws.com${suffix}/${repositoryName(platform, tenant, image)}:${tag}`;
}

/**
 * Log group names, all under `/tenkai/<platform>/`: one per tenant (`/tenkai/<p>/<tenant>`, the
 * name the Kubernetes plane's Fluent Bit and Fargate log router write to) and the platform's own
 * groups, whose `_` prefix no tenant name (a DNS label) can take.
 */
export const logGroupNames = {
  prefix: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/`,
  platform: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/_platform`,
  tenant: (p: Pick<Platform, "metadata">, tenant: string) => `/tenkai/${p.metadata.name}/${tenant}`,
  vpcFlowLogs: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/_vpc-flow-logs`,
} as const;

/** Secrets Manager name of a tenant's database credentials. */
export function tenantDatabaseSecretName(platform: Pick<Platform, "metadata">, tenant: string): string {
  return `tenkai/${platform.metadata.name}/${tenant}/database`;
}

/** The Aurora DB cluster identifier (the data stack's cluster; the Data API addresses it by ARN). */
export function databaseClusterIdentifier(platform: Pick<Platform, "metadata">): string {
  return `${platform.metadata.name}-db`;
}

/** PostgreSQL database and login role of a tenant (identifiers: lower-case, `_` for `-`). */
export function tenantDatabaseName(tenant: string): string {
  return `tenant_${tenant.replace(/-/g, "_")}`;
}

/** SSM parameters the cluster and data stacks publish for the per-tenant stacks. */
export const ssmParameterNames = {
  oidcIssuer: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/cluster/oidc-issuer`,
  logsKeyArn: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/logs/key-arn`,
  databaseEndpoint: (p: Pick<Platform, "metadata">) => `/tenkai/${p.metadata.name}/database/endpoint`,
} as const;

/** A workload of a tenant that needs an IAM role (AWS access or database credentials). */
export interface WorkloadNeedingRole {
  readonly tenant: string;
  readonly name: string;
  readonly kind: "service" | "cronJob";
  readonly allow: readonly { readonly actions: readonly string[]; readonly resources: readonly string[] }[];
  readonly podIdentity: boolean;
  readonly database: boolean;
  readonly compute: "ec2" | "fargate";
}

/** The tenant's workloads that get an IAM role: those with `aws.allow` or `database: true`. */
export function workloadsNeedingRole(tenant: Tenant): WorkloadNeedingRole[] {
  const all = [
    ...tenant.services.map((s) => ({ ...s, kind: "service" as const })),
    ...tenant.cronJobs.map((c) => ({ ...c, kind: "cronJob" as const })),
  ];
  return all
    .filter((w) => w.aws !== undefined || w.database)
    .map((w) => ({
      tenant: tenant.name,
      name: w.name,
      kind: w.kind,
      allow: w.aws?.allow ?? [],
      podIdentity: w.aws?.podIdentity ?? false,
      database: w.database,
      compute: w.compute,
    }));
}

/** The tenant's distinct images (one ECR repository each). */
export function tenantImages(tenant: Tenant): string[] {
  return [
    ...new Set([...tenant.services.map((s) => s.image), ...tenant.cronJobs.map((c) => c.image)]),
  ].sort();
}

/** Whether the tenant gets a database and login role. */
export function tenantUsesDatabase(tenant: Tenant): boolean {
  return tenant.services.some((s) => s.database) || tenant.cronJobs.some((c) => c.database);
}

/** Aurora Serverless v2 instances in the cluster: a writer, and a reader in another AZ for failover. */
export const AURORA_INSTANCE_ROLES = ["Writer", "Reader"] as const;
