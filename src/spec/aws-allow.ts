/**
 * A tenant's `aws.allow` is written by people, and tenkai grants it as written. Before that, it
 * is checked against every resource tenkai makes for someone else: another tenant's database
 * secret, ECR repositories, log group and workload roles, and the platform's own roles and log
 * group. A pattern that would match any of them (`arn:*`, `arn:aws:secretsmanager:*:*:secret:*`,
 * `arn:aws:ecr:...:repository/web/*`) is refused, all findings at once, before any stack is built.
 *
 * Matching is deliberately broader than IAM's (a `*` here may span `:` and `/`), so a pattern that
 * could reach another tenant is never let through.
 */

import {
  logGroupNames,
  partitionOf,
  platformRoleNames,
  repositoryName,
  tenantDatabaseSecretName,
  workloadRoleName,
} from "../shared/aws-names.js";
import type { Platform, Tenant } from "./schema.js";
import { tenantImages, tenantUsesDatabase, workloadsNeedingRole } from "./tenant-needs.js";

export interface AllowProblem {
  readonly code: "AWS_ALLOW_REACHES_OTHERS";
  readonly tenant: string;
  readonly workload: string;
  /** The pattern as written in aws.allow. */
  readonly resource: string;
  /** An ARN of someone else's resource the pattern matches. */
  readonly reaches: string;
  readonly owner: string;
  readonly message: string;
}

/** IAM-style wildcard match (`*` any run of characters, `?` one character). */
export function arnPatternMatches(pattern: string, arn: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(arn);
}

/** ARNs of the resources tenkai creates for one owner (a tenant, or `platform`). */
function ownedArns(platform: Platform, tenant: Tenant | undefined): string[] {
  const { account, region } = platform.spec.aws;
  const part = partitionOf(region);
  const logGroup = (name: string) => `arn:${part}:logs:${region}:${account}:log-group:${name}`;
  const role = (name: string) => `arn:${part}:iam::${account}:role/${name}`;
  if (!tenant) {
    return [
      logGroup(logGroupNames.platform(platform)),
      `${logGroup(logGroupNames.platform(platform))}:log-stream:x`,
      ...Object.values(platformRoleNames).map((n) => role(n(platform))),
    ];
  }
  return [
    // Secrets Manager appends `-` and six random characters to the name in the ARN.
    ...(tenantUsesDatabase(tenant)
      ? [
          `arn:${part}:secretsmanager:${region}:${account}:secret:${tenantDatabaseSecretName(platform, tenant.name)}-AbC123`,
        ]
      : []),
    ...tenantImages(tenant).map(
      (i) => `arn:${part}:ecr:${region}:${account}:repository/${repositoryName(platform, tenant.name, i)}`,
    ),
    logGroup(logGroupNames.tenant(platform, tenant.name)),
    `${logGroup(logGroupNames.tenant(platform, tenant.name))}:log-stream:x`,
    ...workloadsNeedingRole(tenant).map((w) => role(workloadRoleName(platform, tenant.name, w.name))),
  ];
}

/** Every aws.allow pattern that reaches a resource tenkai made for another tenant or the platform. */
export function crossTenantAllowProblems(platform: Platform): AllowProblem[] {
  const patterns = platform.spec.tenants.flatMap((tenant) =>
    workloadsNeedingRole(tenant).flatMap((w) =>
      [...new Set(w.allow.flatMap((a) => a.resources))].map((resource) => ({ tenant, w, resource })),
    ),
  );
  // Most tenants write no aws.allow: then there is nothing to match against the owned ARNs.
  if (patterns.length === 0) return [];
  // Sorted once, so a pattern only tests the ARNs that share its literal prefix: planning 1,000
  // tenants stays linear instead of testing every pattern against every ARN.
  const owned = [
    ...ownedArns(platform, undefined).map((arn) => ({ arn, owner: "platform" })),
    ...platform.spec.tenants.flatMap((t) => ownedArns(platform, t).map((arn) => ({ arn, owner: t.name }))),
  ].sort((x, y) => (x.arn < y.arn ? -1 : x.arn > y.arn ? 1 : 0));
  const candidates = (pattern: string) => {
    const wildcard = pattern.search(/[*?]/);
    const prefix = wildcard < 0 ? pattern : pattern.slice(0, wildcard);
    let lo = 0;
    let hi = owned.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((owned[mid] as { arn: string }).arn < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: { arn: string; owner: string }[] = [];
    for (let i = lo; i < owned.length && (owned[i] as { arn: string }).arn.startsWith(prefix); i++)
      out.push(owned[i] as { arn: string; owner: string });
    return out;
  };
  const problems: AllowProblem[] = [];
  for (const { tenant, w, resource } of patterns) {
    const hit = candidates(resource).find(
      (c) => c.owner !== tenant.name && arnPatternMatches(resource, c.arn),
    );
    if (!hit) continue;
    problems.push({
      code: "AWS_ALLOW_REACHES_OTHERS",
      tenant: tenant.name,
      workload: w.name,
      resource,
      reaches: hit.arn,
      owner: hit.owner,
      message: `${tenant.name}/${w.name}: aws.allow resource "${resource}" reaches ${hit.owner === "platform" ? "the platform's" : `tenant ${hit.owner}'s`} ${hit.arn}`,
    });
  }
  return problems;
}
