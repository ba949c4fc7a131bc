/**
 * What a tenant needs from AWS, derived from its workloads: IAM roles, ECR repositories, a
 * database. The AWS plane, the cost estimate and the cross-tenant `aws.allow` rule read these, so
 * they agree on which workloads get a role.
 */
import type { Tenant } from "./schema.js";

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
