/**
 * Which tenant goes into which tenant stack, decided as data before any construct is made.
 *
 * Tenants are placed in spec order, a fixed number per stack, so appending a tenant never moves
 * another one (a tenant moving between stacks would delete and re-create its named resources).
 * The number comes from measurement (bench/aws-scale.ts): a tenant with 5 services, all with AWS
 * access and the database, costs about 20 CloudFormation resources; 10 tenants per stack keeps
 * a stack near 200 of CloudFormation's 500-resource limit, with headroom for tenants that are
 * larger than that. A stack that would still exceed the guard is refused with a fix.
 */

import { tenantGroup } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { Platform, Tenant } from "../spec/schema.js";
import { tenantImages, tenantUsesDatabase, workloadsNeedingRole } from "../spec/tenant-needs.js";
import { TENANT_QUERIES, type TenantAccessEntry } from "./tenant-model.js";

export const TENANTS_PER_STACK = 10;
/** CloudFormation's hard limit is 500 resources per stack; tenkai refuses to plan past this guard. */
export const STACK_RESOURCE_GUARD = 450;

export interface TenantStackPlacement {
  readonly tenants: readonly Tenant[];
  readonly accessEntries: readonly TenantAccessEntry[];
  /** CloudFormation resources the stack will hold (computed, asserted equal to the synth). */
  readonly resourceCount: number;
}

/** CloudFormation resources one tenant costs in its tenant stack (access entries excluded). */
export function tenantResourceCount(tenant: Tenant, platform: Platform): number {
  const roles = workloadsNeedingRole(tenant);
  return (
    tenantImages(tenant).length +
    1 + // log group
    TENANT_QUERIES.length +
    (tenantUsesDatabase(tenant) && platform.spec.database ? 1 : 0) +
    roles.length +
    roles.filter((r) => r.podIdentity).length
  );
}

export function planTenantStacks(platform: Platform, tenantsPerStack: number): TenantStackPlacement[] {
  if (!Number.isInteger(tenantsPerStack) || tenantsPerStack < 1) {
    throw new TenkaiError(
      "AWS_BAD_TENANTS_PER_STACK",
      `tenantsPerStack must be a positive integer, got ${tenantsPerStack}`,
      "pass a number like 10",
    );
  }
  const admins = new Set(platform.spec.cluster.adminRoles);
  // One access entry per principal per cluster (EKS rejects a second one): a role listed by
  // several tenants gets one entry with all their groups, in the stack of the first tenant.
  const entries = new Map<string, { groups: string[]; owner: number }>();
  platform.spec.tenants.forEach((tenant, i) => {
    for (const a of tenant.access) {
      if (admins.has(a.role)) continue; // already cluster-admin through the cluster stack
      const entry = entries.get(a.role) ?? { groups: [], owner: i };
      entry.groups.push(tenantGroup(tenant.name, a.level));
      entries.set(a.role, entry);
    }
  });
  // Each entry goes to its owner's stack in one pass (filtering every entry for every stack was
  // quadratic in the number of tenants).
  const entriesByStack = new Map<number, TenantAccessEntry[]>();
  for (const [principalArn, e] of entries) {
    const stack = Math.floor(e.owner / tenantsPerStack);
    const list = entriesByStack.get(stack) ?? [];
    list.push({ principalArn, groups: [...new Set(e.groups)] });
    entriesByStack.set(stack, list);
  }
  const placements: TenantStackPlacement[] = [];
  for (let start = 0; start < platform.spec.tenants.length; start += tenantsPerStack) {
    const tenants = platform.spec.tenants.slice(start, start + tenantsPerStack);
    const accessEntries = entriesByStack.get(start / tenantsPerStack) ?? [];
    const resourceCount =
      accessEntries.length + tenants.reduce((n, t) => n + tenantResourceCount(t, platform), 0);
    if (resourceCount > STACK_RESOURCE_GUARD) {
      throw new TenkaiError(
        "AWS_STACK_TOO_LARGE",
        `tenants ${tenants[0]?.name}..${tenants.at(-1)?.name} need ${resourceCount} CloudFormation resources in one stack (guard ${STACK_RESOURCE_GUARD}, limit 500)`,
        "lower tenantsPerStack, or split the largest tenants' images and workloads",
      );
    }
    placements.push({ tenants, accessEntries, resourceCount });
  }
  return placements;
}
