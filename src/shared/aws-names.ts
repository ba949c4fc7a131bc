/**
 * Deterministic AWS names for everything the AWS plane creates and the Kubernetes plane (or an
 * operator) needs to refer to: stacks, IAM roles, ECR repositories, log groups, secrets, groups.
 *
 * Pure and light (no aws-cdk-lib, no spec import): the Kubernetes plane imports these to write the IRSA
 * annotation `eks.amazonaws.com/role-arn` without synthesizing, and the stacks use the same
 * functions so both planes agree by construction. Nothing here is a CDK token.
 */
import { createHash } from "node:crypto";

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

/**
 * The part of a platform its names are made from. Structural, so this ground floor imports nothing
 * from the spec; a spec `Platform` is one.
 */
export interface PlatformIdentity {
  readonly metadata: { readonly name: string };
}

/** A platform's identity and where it lives (account and region go into ARNs and registry hosts). */
export interface PlatformRef extends PlatformIdentity {
  readonly spec: { readonly aws: { readonly account: string; readonly region: string } };
}

/** The EKS cluster name: the platform name. */
export function clusterName(platform: PlatformIdentity): string {
  return platform.metadata.name;
}

export const stackNames = {
  network: (p: PlatformIdentity) => `${p.metadata.name}-network`,
  cluster: (p: PlatformIdentity) => `${p.metadata.name}-cluster`,
  nodes: (p: PlatformIdentity, group: string) => `${p.metadata.name}-nodes-${group}`,
  /** EKS add-ons that run as Deployments (CoreDNS, metrics-server): created once nodes exist. */
  addons: (p: PlatformIdentity) => `${p.metadata.name}-addons`,
  data: (p: PlatformIdentity) => `${p.metadata.name}-data`,
  /** Tenant stacks are numbered from 1 in spec order of their first tenant (see tenantStackPlan). */
  tenants: (p: PlatformIdentity, index: number) =>
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
export function workloadRoleName(platform: PlatformIdentity, tenant: string, workload: string): string {
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
  node: (p: PlatformIdentity) => `${p.metadata.name}-eks-node`,
  fargatePodExecution: (p: PlatformIdentity) => `${p.metadata.name}-eks-fargate-pod`,
  loadBalancerController: (p: PlatformIdentity) => `${p.metadata.name}-aws-load-balancer-controller`,
  fluentBit: (p: PlatformIdentity) => `${p.metadata.name}-fluent-bit`,
  clusterAutoscaler: (p: PlatformIdentity) => `${p.metadata.name}-cluster-autoscaler`,
  clusterService: (p: PlatformIdentity) => `${p.metadata.name}-eks-cluster`,
} as const;

/** ServiceAccounts of the platform's own add-ons (the Kubernetes plane creates them with these names). */
export const platformServiceAccounts = {
  loadBalancerController: { namespace: "kube-system", name: "aws-load-balancer-controller" },
  fluentBit: { namespace: "tenkai-system", name: "fluent-bit" },
  clusterAutoscaler: { namespace: "kube-system", name: "cluster-autoscaler" },
} as const;

export function platformRoleArn(platform: PlatformRef, role: keyof typeof platformRoleNames): string {
  const { account, region } = platform.spec.aws;
  return `arn:${partitionOf(region)}:iam::${account}:role/${platformRoleNames[role](platform)}`;
}

/** ECR repository of a tenant image: `<platform>/<tenant>/<image>`. */
export function repositoryName(platform: PlatformIdentity, tenant: string, image: string): string {
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
  prefix: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/`,
  platform: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/_platform`,
  tenant: (p: PlatformIdentity, tenant: string) => `/tenkai/${p.metadata.name}/${tenant}`,
  vpcFlowLogs: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/_vpc-flow-logs`,
} as const;

/** Secrets Manager name of a tenant's database credentials. */
export function tenantDatabaseSecretName(platform: PlatformIdentity, tenant: string): string {
  return `tenkai/${platform.metadata.name}/${tenant}/database`;
}

/** The Aurora DB cluster identifier (the data stack's cluster; the Data API addresses it by ARN). */
export function databaseClusterIdentifier(platform: PlatformIdentity): string {
  return `${platform.metadata.name}-db`;
}

/** PostgreSQL database and login role of a tenant (identifiers: lower-case, `_` for `-`). */
export function tenantDatabaseName(tenant: string): string {
  return `tenant_${tenant.replace(/-/g, "_")}`;
}

/**
 * S3 bucket of the shared ALB's access logs (account and region in the name: bucket names are
 * global). At most 24 + 10 + 12 + 1 + 14 = 61 characters (S3 allows 63).
 */
export function albAccessLogsBucket(
  platform: PlatformIdentity & {
    readonly spec: { readonly aws: { readonly account: string; readonly region: string } };
  },
): string {
  return `${platform.metadata.name}-alb-logs-${platform.spec.aws.account}-${platform.spec.aws.region}`;
}

/** Key prefix of the access logs in that bucket (ELB adds AWSLogs/<account>/elasticloadbalancing/...). */
export const ALB_ACCESS_LOGS_PREFIX = "alb";

/** Key prefix of Athena's query results in the same bucket (the workgroup enforces it). */
export const ATHENA_RESULTS_PREFIX = "athena-results";

/**
 * Where Athena reads the access logs: a Glue database and table (partition projection over the
 * access-log prefix), an Athena workgroup and the saved query (stacks/alb-log-queries.ts).
 * Glue names are lower-case with `_`; the workgroup takes the platform's own name.
 */
export const albLogNames = {
  database: (p: PlatformIdentity) => `${p.metadata.name.replace(/-/g, "_")}_alb_logs`,
  table: "alb_access_logs",
  workGroup: (p: PlatformIdentity) => `${p.metadata.name}-alb-logs`,
  latencyQuery: "latency and errors per API path",
} as const;

/** SSM parameters the cluster and data stacks publish for the per-tenant stacks. */
export const ssmParameterNames = {
  oidcIssuer: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/cluster/oidc-issuer`,
  logsKeyArn: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/logs/key-arn`,
  databaseEndpoint: (p: PlatformIdentity) => `/tenkai/${p.metadata.name}/database/endpoint`,
} as const;

/** Aurora Serverless v2 instances in the cluster: a writer, and a reader in another AZ for failover. */
export const AURORA_INSTANCE_ROLES = ["Writer", "Reader"] as const;
