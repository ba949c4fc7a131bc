/**
 * Checks of values with a known domain, against the dated tables in `data/` and the rules of the
 * services they reach: the region, instance types, the certificate's region, route prefixes on a
 * shared host, and the ALB rule limit per host. Each is decided here so that `validate` refuses
 * what `plan` or AWS would refuse later.
 */
import { instanceTypes, partitionOf, pricedRegions, regions } from "../shared/data.js";
import { planAlbGroups } from "./alb-groups.js";
import { type CheckProblem, formatPath, listSome } from "./problems.js";
import { normalizePath } from "./routes.js";
import type { Platform } from "./schema.js";
import { closest } from "./suggest.js";

type Emit = (
  severity: "error" | "warning",
  code: string,
  path: readonly (string | number)[],
  message: string,
  fix: string,
) => void;

export function runDomainChecks(platform: Platform): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const emit: Emit = (severity, code, path, message, fix) =>
    problems.push({ code, severity, path: formatPath(path), pathSegments: path, message, fix });
  checkRegion(platform, emit);
  checkInstanceTypes(platform, emit);
  checkCertificate(platform, emit);
  checkRouteOverlap(platform, emit);
  checkHostRuleLimit(platform, emit);
  return problems;
}

function checkRegion(p: Platform, emit: Emit): void {
  const { region } = p.spec.aws;
  const path = ["spec", "aws", "region"];
  const partition = partitionOf(region);
  if (!partition) {
    const all = Object.values(regions().partitions).flat();
    const guess = closest(region, all);
    emit(
      "error",
      "SPEC_UNKNOWN_REGION",
      path,
      `"${region}" is not an AWS region (table as of ${regions().asOf})${guess ? `; did you mean "${guess}"?` : ""}`,
      guess
        ? `write region: ${guess}`
        : `use a region such as ${listSome(regions().partitions.aws ?? [], 6)}`,
    );
    return;
  }
  if (!pricedRegions().includes(region)) {
    emit(
      "warning",
      "SPEC_NO_PRICES",
      path,
      `the price table has no prices for ${region}; plan writes everything but the cost estimate`,
      `nothing to do for a plan; for an estimate, add ${region} to data/prices.json (priced: ${pricedRegions().join(", ")})`,
    );
  }
}

function checkInstanceTypes(p: Platform, emit: Emit): void {
  const table = instanceTypes();
  const known = Object.keys(table);
  if (known.length === 0) return; // no table shipped: nothing to check against
  p.spec.nodeGroups.forEach((g, i) =>
    g.instanceTypes.forEach((type, j) => {
      if (table[type]) return;
      const guess = closest(type, known);
      const family = type.split(".")[0] ?? "";
      const sameFamily = known.filter((k) => k.startsWith(`${family}.`));
      emit(
        "error",
        "SPEC_UNKNOWN_INSTANCE_TYPE",
        ["spec", "nodeGroups", i, "instanceTypes", j],
        `"${type}" is not in tenkai's instance-type table${guess ? `; did you mean "${guess}"?` : ""} (tenkai needs its pods per node and size to plan subnets and cost)`,
        guess
          ? `write ${guess}`
          : `use a listed type, such as ${listSome(sameFamily.length > 0 ? sameFamily : known, 6)}`,
      );
    }),
  );
}

/** An ALB takes only a certificate from ACM in its own region (and the platform's partition). */
function checkCertificate(p: Platform, emit: Emit): void {
  const arn = p.spec.ingress.certificateArn;
  if (!arn) return;
  const [, partition, , region, account] = arn.split(":");
  const path = ["spec", "ingress", "certificateArn"];
  if (!partitionOf(p.spec.aws.region)) return; // the region itself is reported
  if (region !== p.spec.aws.region) {
    emit(
      "error",
      "SPEC_CERTIFICATE_REGION",
      path,
      `the certificate is in ${region}, the platform in ${p.spec.aws.region}; an ALB uses only ACM certificates of its own region`,
      `request or import the certificate in ACM in ${p.spec.aws.region} and use its ARN`,
    );
  }
  const expected = partitionOf(p.spec.aws.region);
  if (expected && partition !== expected) {
    emit(
      "error",
      "SPEC_CERTIFICATE_PARTITION",
      path,
      `the certificate ARN is in partition ${partition}, the platform's region in ${expected}`,
      `use an ARN that starts arn:${expected}:acm:${p.spec.aws.region}:`,
    );
  }
  if (account !== p.spec.aws.account) {
    // A warning: an environment overlay may move the platform to another account, and the
    // overlay cannot name its own certificate.
    emit(
      "warning",
      "SPEC_CERTIFICATE_ACCOUNT",
      path,
      `the certificate belongs to account ${account}, the platform to ${p.spec.aws.account}; ACM certificates cannot be used across accounts`,
      `request or import the certificate in account ${p.spec.aws.account}`,
    );
  }
}

/**
 * The ALB matches a path prefix: a route under another tenant's route on the same host takes part
 * of that tenant's traffic. Each route is checked against its own ancestors (`/a/b/c`: `/a/b`,
 * `/a`, `/`), so the check is linear in the number of routes.
 */
function checkRouteOverlap(p: Platform, emit: Emit): void {
  const owners = new Map<string, { tenant: string; service: string }>();
  p.spec.tenants.forEach((t) =>
    t.services.forEach((s) => {
      if (!s.route) return;
      const key = `${s.route.host}${normalizePath(s.route.path)}`;
      if (!owners.has(key)) owners.set(key, { tenant: t.name, service: s.name });
    }),
  );
  p.spec.tenants.forEach((t, i) =>
    t.services.forEach((s, j) => {
      if (!s.route) return;
      const path = normalizePath(s.route.path);
      const segments = path.split("/").filter(Boolean);
      for (let n = segments.length - 1; n >= 0; n--) {
        const ancestor = `/${segments.slice(0, n).join("/")}`;
        const owner = owners.get(`${s.route.host}${ancestor}`);
        if (owner && owner.tenant !== t.name) {
          emit(
            "error",
            "SPEC_ROUTE_OVERLAP",
            ["spec", "tenants", i, "services", j, "route", "path"],
            `${s.route.host}${path} lies under ${s.route.host}${ancestor}, which tenant ${owner.tenant} owns (service ${owner.service}); on the shared ALB it would take part of ${owner.tenant}'s traffic`,
            `use a path outside ${ancestor === "/" ? "that host (it is all taken)" : `${ancestor}/`} or another host, or move the route into tenant ${owner.tenant}`,
          );
          return;
        }
      }
    }),
  );
}

/**
 * One host stays on one ALB (its DNS record names one), and an ALB listener holds 100 rules
 * (Elastic Load Balancing quota), one per route. Plan would refuse it; say so here, with the
 * same grouping plan uses (tenants sharing any host move together).
 */
function checkHostRuleLimit(p: Platform, emit: Emit): void {
  const { problems } = planAlbGroups(p);
  if (problems.length === 0) return;
  const hostPath = (host: string): (string | number)[] => {
    for (const [i, t] of p.spec.tenants.entries())
      for (const [j, s] of t.services.entries())
        if (s.route?.host === host) return ["spec", "tenants", i, "services", j, "route", "host"];
    return ["spec", "ingress"];
  };
  for (const problem of problems)
    emit("error", "SPEC_HOST_OVER_ALB_LIMIT", hostPath(problem.hosts[0] ?? ""), problem.message, problem.fix);
}
