/**
 * What a tenant needs from AWS, derived from its workloads: IAM roles, ECR repositories, a
 * database. The AWS plane, the cost estimate and the cross-tenant `aws.allow` rule read these, so
 * they agree on which workloads get a role.
 */
import type { CronJob, Service, Tenant } from "./schema.js";

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
  // Called for every tenant by placement, the stacks, the allow rule and the cost: no copy of
  // each workload, and none at all for the many that need no role.
  const out: WorkloadNeedingRole[] = [];
  const add = (w: Service | CronJob, kind: "service" | "cronJob") => {
    if (w.aws === undefined && !w.database) return;
    out.push({
      tenant: tenant.name,
      name: w.name,
      kind,
      allow: w.aws?.allow ?? [],
      podIdentity: w.aws?.podIdentity ?? false,
      database: w.database,
      compute: w.compute,
    });
  };
  for (const s of tenant.services) add(s, "service");
  for (const c of tenant.cronJobs) add(c, "cronJob");
  return out;
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
