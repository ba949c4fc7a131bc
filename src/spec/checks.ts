/**
 * Cross-field checks over a schema-valid platform. Each returns problems as data (STYLE.md 5):
 * every clash names all the places involved, and nothing stops at the first one.
 */

import { eksVersions, instanceTypes } from "../shared/data.js";
import { crossTenantAllowProblems } from "./aws-allow.js";
import { cidrSize, parseCidr } from "./cidr.js";
import { runDomainChecks } from "./domain-checks.js";
import { checkEks } from "./eks-checks.js";
import { subnetPlan } from "./network.js";
import { type CheckProblem, formatPath, listSome } from "./problems.js";
import { normalizePath } from "./routes.js";

export type { CheckProblem } from "./problems.js";
export { normalizePath } from "./routes.js";

import { parseQuantity } from "./quantity.js";
import type { CronJob, Platform, Service, Tenant } from "./schema.js";
import { closest } from "./suggest.js";

export interface CheckOptions {
  /** The clock for version-support checks. Default: now. */
  readonly now?: Date;
}

/** Namespaces that tenkai or EKS own; a tenant cannot take them. */
const RESERVED_NAMESPACES = new Set([
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "aws-observability",
  "tenkai-system",
]);

/** Pods per node when an instance type is not in the table: the kubelet default. */
const DEFAULT_MAX_PODS = 110;

type Emit = (
  severity: "error" | "warning",
  code: string,
  path: readonly (string | number)[],
  message: string,
  fix: string,
) => void;

export function runChecks(platform: Platform, options: CheckOptions = {}): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const emit: Emit = (severity, code, path, message, fix) =>
    problems.push({ code, severity, path: formatPath(path), pathSegments: path, message, fix });
  checkNames(platform, emit);
  checkRoutes(platform, emit);
  checkFargate(platform, emit);
  checkNetwork(platform, emit);
  checkVersion(platform, emit, options.now ?? new Date());
  checkSizes(platform, emit);
  checkAccess(platform, emit);
  checkAwsAllow(platform, emit);
  checkEks(platform, emit);
  checkPromotion(platform, emit);
  problems.push(...runDomainChecks(platform));
  return problems;
}

function checkNames(p: Platform, emit: Emit): void {
  const tenants = new Map<string, number>();
  p.spec.tenants.forEach((t, i) => {
    const path = ["spec", "tenants", i, "name"];
    const first = tenants.get(t.name);
    if (first !== undefined) {
      emit(
        "error",
        "SPEC_DUPLICATE_TENANT",
        path,
        `tenant "${t.name}" is already defined at spec.tenants[${first}]`,
        "give each tenant a unique name",
      );
    } else tenants.set(t.name, i);
    if (RESERVED_NAMESPACES.has(t.name) || t.name.startsWith("kube-")) {
      emit(
        "error",
        "SPEC_RESERVED_NAME",
        path,
        `"${t.name}" is a namespace the cluster or tenkai owns`,
        "choose another tenant name",
      );
    }
    // Services and cron jobs share the namespace and ServiceAccount names, so they clash too.
    const workloads = new Map<string, string>();
    const claim = (name: string, where: string, path: (string | number)[]) => {
      const prior = workloads.get(name);
      if (prior)
        emit(
          "error",
          "SPEC_DUPLICATE_WORKLOAD",
          path,
          `"${name}" is already used by ${prior} in tenant ${t.name}`,
          "give each service and cron job in a tenant a unique name",
        );
      else workloads.set(name, where);
    };
    t.services.forEach((s, j) =>
      claim(s.name, `spec.tenants[${i}].services[${j}]`, ["spec", "tenants", i, "services", j, "name"]),
    );
    t.cronJobs.forEach((c, j) =>
      claim(c.name, `spec.tenants[${i}].cronJobs[${j}]`, ["spec", "tenants", i, "cronJobs", j, "name"]),
    );
  });
  const groups = new Map<string, number>();
  p.spec.nodeGroups.forEach((g, i) => {
    const first = groups.get(g.name);
    if (first !== undefined)
      emit(
        "error",
        "SPEC_DUPLICATE_NODE_GROUP",
        ["spec", "nodeGroups", i, "name"],
        `node group "${g.name}" is already defined at spec.nodeGroups[${first}]`,
        "give each node group a unique name",
      );
    else groups.set(g.name, i);
  });
  const profiles = new Set<string>();
  p.spec.fargate.profiles.forEach((f, i) => {
    if (profiles.has(f.name))
      emit(
        "error",
        "SPEC_DUPLICATE_FARGATE_PROFILE",
        ["spec", "fargate", "profiles", i, "name"],
        `Fargate profile "${f.name}" is defined twice`,
        "give each profile a unique name",
      );
    profiles.add(f.name);
  });
}

/** The ALB matches on host and path prefix; two services with the same pair would shadow each other. */
function checkRoutes(p: Platform, emit: Emit): void {
  const claimed = new Map<string, string>();
  p.spec.tenants.forEach((t, i) =>
    t.services.forEach((s, j) => {
      if (!s.route) return;
      const path = normalizePath(s.route.path);
      const key = `${s.route.host}${path}`;
      const owner = claimed.get(key);
      const here = ["spec", "tenants", i, "services", j, "route", "path"];
      if (owner) {
        emit(
          "error",
          "SPEC_ROUTE_CLASH",
          here,
          `${s.route.host}${path} is already routed to ${owner}`,
          "give this service another path or host",
        );
      } else claimed.set(key, `${t.name}/${s.name}`);
    }),
  );
}

/** Labels tenkai puts on a workload's pods that Fargate profile selectors may match. */
export function fargatePodLabels(workload: string): Record<string, string> {
  return { "app.kubernetes.io/name": workload, "tenkai.dev/compute": "fargate" };
}

function checkFargate(p: Platform, emit: Emit): void {
  const namespaces = new Set(p.spec.tenants.map((t) => t.name));
  p.spec.fargate.profiles.forEach((f, i) =>
    f.selectors.forEach((sel, j) => {
      if (!namespaces.has(sel.namespace) && sel.namespace !== "kube-system") {
        const guess = closest(sel.namespace, [...namespaces]);
        const known = guess ? `${guess}?` : listSome([...namespaces], 8) || "(no tenants)";
        emit(
          "error",
          "SPEC_FARGATE_UNKNOWN_NAMESPACE",
          ["spec", "fargate", "profiles", i, "selectors", j, "namespace"],
          `Fargate selector names namespace "${sel.namespace}", which is no tenant's; pods would never match it (on EKS they stay Pending)`,
          guess ? `did you mean ${known}` : `use a tenant namespace: ${known}`,
        );
      }
    }),
  );
  p.spec.tenants.forEach((t, i) => {
    for (const { w, path } of tenantWorkloads(t, i)) {
      if (w.compute !== "fargate") continue;
      const labels = fargatePodLabels(w.name);
      const match = p.spec.fargate.profiles.some((f) =>
        f.selectors.some(
          (s) => s.namespace === t.name && Object.entries(s.labels).every(([k, v]) => labels[k] === v),
        ),
      );
      if (!match) {
        emit(
          "error",
          "SPEC_FARGATE_NO_PROFILE",
          [...path, "compute"],
          `${t.name}/${w.name} asks for Fargate but no Fargate profile selects namespace ${t.name} with labels it carries (${Object.entries(
            labels,
          )
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")})`,
          `add a profile under spec.fargate.profiles with selector { namespace: ${t.name}, labels: { tenkai.dev/compute: fargate } }`,
        );
      }
      if (w.aws?.podIdentity) {
        emit(
          "error",
          "SPEC_POD_IDENTITY_ON_FARGATE",
          [...path, "aws", "podIdentity"],
          "EKS Pod Identity does not work on Fargate",
          "set podIdentity: false (IRSA is used) or run it on ec2",
        );
      }
    }
  });
}

/** A tenant's services and cron jobs with their spec paths: both run pods with the same settings. */
function tenantWorkloads(t: Tenant, i: number): { w: Service | CronJob; path: (string | number)[] }[] {
  return [
    ...t.services.map((w, j) => ({ w, path: ["spec", "tenants", i, "services", j] })),
    ...t.cronJobs.map((w, j) => ({ w, path: ["spec", "tenants", i, "cronJobs", j] })),
  ];
}

function checkNetwork(p: Platform, emit: Emit): void {
  const { endpoint } = p.spec.cluster;
  const ep = ["spec", "cluster", "endpoint"];
  if (!endpoint.private && !endpoint.public) {
    emit(
      "error",
      "SPEC_ENDPOINT_NONE",
      ep,
      "the cluster endpoint is neither private nor public; nothing could reach it",
      "set private: true",
    );
  }
  if (!endpoint.public && endpoint.publicCidrs.length > 0) {
    emit(
      "error",
      "SPEC_ENDPOINT_CIDRS_UNUSED",
      [...ep, "publicCidrs"],
      "publicCidrs are set but the public endpoint is off",
      "set public: true or remove publicCidrs",
    );
  }
  if (endpoint.public && endpoint.publicCidrs.length === 0) {
    emit(
      "warning",
      "SPEC_ENDPOINT_OPEN",
      [...ep, "public"],
      "the public endpoint is open to 0.0.0.0/0",
      "list your office or VPN ranges in publicCidrs",
    );
  }
  endpoint.publicCidrs.forEach((c, i) => {
    if (c === "0.0.0.0/0")
      emit(
        "warning",
        "SPEC_ENDPOINT_OPEN",
        [...ep, "publicCidrs", i],
        "0.0.0.0/0 opens the API endpoint to the internet",
        "narrow it to your own ranges",
      );
  });

  const vpc = parseCidr(p.spec.network.vpcCidr)!;
  const vpcPath = ["spec", "network", "vpcCidr"];
  if (vpc.prefix < 16 || vpc.prefix > 24) {
    emit(
      "error",
      "SPEC_VPC_SIZE",
      vpcPath,
      `a VPC must be /16 to /24 for tenkai's subnet layout; got /${vpc.prefix}`,
      "use a /16 (recommended: pods take VPC addresses) up to /24",
    );
    return;
  }
  const services = parseCidr(p.spec.network.serviceCidr)!;
  const overlap = (a: typeof vpc, b: typeof vpc) => {
    const end = (c: typeof vpc) => c.base + cidrSize(c) - 1;
    return a.base <= end(b) && b.base <= end(a);
  };
  if (overlap(vpc, services)) {
    emit(
      "error",
      "SPEC_SERVICE_CIDR_OVERLAP",
      ["spec", "network", "serviceCidr"],
      `the Service range ${p.spec.network.serviceCidr} overlaps the VPC ${p.spec.network.vpcCidr}`,
      "pick a Service range outside the VPC, e.g. 172.20.0.0/16 for a VPC in 10.0.0.0/8",
    );
  }
  const plan = subnetPlan(p.spec.network);
  const perAz = cidrSize(parseCidr(plan.private[0]!)!) - 5; // AWS reserves 5 addresses per subnet
  // Pods take VPC addresses (VPC CNI), and a rotation runs blue and green side by side: size for both.
  const types = instanceTypes();
  const need = p.spec.nodeGroups.reduce((sum, g) => {
    const maxPods = Math.max(...g.instanceTypes.map((it) => types[it]?.maxPods ?? DEFAULT_MAX_PODS));
    return sum + 2 * g.max * (maxPods + 1);
  }, 0);
  const have = perAz * p.spec.network.azs;
  if (need > have) {
    emit(
      "error",
      "SPEC_SUBNETS_TOO_SMALL",
      vpcPath,
      `private subnets hold ${have} addresses (${plan.private.join(", ")}) but the node groups at max size, doubled during a blue/green rotation, need ${need} for nodes and pods`,
      "use a larger vpcCidr (a /16 holds about 49,000 in private subnets) or lower nodeGroups[].max",
    );
  }
}

function checkVersion(p: Platform, emit: Emit, now: Date): void {
  const table = eksVersions();
  const { version } = p.spec.cluster;
  const path = ["spec", "cluster", "version"];
  const row = table.versions.find((v) => v.version === version);
  const today = now.toISOString().slice(0, 10);
  const supported = table.versions.filter((v) => v.endOfExtendedSupport >= today).map((v) => v.version);
  if (!row) {
    emit(
      "error",
      "SPEC_VERSION_UNKNOWN",
      path,
      `EKS does not offer Kubernetes ${version} (table as of ${table.asOf})`,
      `use one of ${supported.join(", ")}`,
    );
    return;
  }
  if (row.endOfExtendedSupport < today) {
    emit(
      "error",
      "SPEC_VERSION_ENDED",
      path,
      `Kubernetes ${version} left EKS extended support on ${row.endOfExtendedSupport}`,
      `upgrade to one of ${supported.join(", ")}`,
    );
  } else if (row.endOfStandardSupport < today) {
    emit(
      "warning",
      "SPEC_VERSION_EXTENDED",
      path,
      `Kubernetes ${version} left standard support on ${row.endOfStandardSupport}; extended support costs 6x for the control plane until ${row.endOfExtendedSupport}`,
      "plan an upgrade (tenkai upgrade plan)",
    );
  }
}

function checkSizes(p: Platform, emit: Emit): void {
  p.spec.nodeGroups.forEach((g, i) => {
    const path = ["spec", "nodeGroups", i];
    if (g.min > g.max)
      emit(
        "error",
        "SPEC_MIN_OVER_MAX",
        [...path, "min"],
        `min (${g.min}) is above max (${g.max})`,
        "lower min or raise max",
      );
    if (g.desired !== undefined && (g.desired < g.min || g.desired > g.max)) {
      emit(
        "error",
        "SPEC_DESIRED_OUT_OF_RANGE",
        [...path, "desired"],
        `desired (${g.desired}) is outside min..max (${g.min}..${g.max})`,
        "set desired between min and max",
      );
    }
  });
  const db = p.spec.database;
  if (db && db.minCapacity > db.maxCapacity) {
    emit(
      "error",
      "SPEC_MIN_OVER_MAX",
      ["spec", "database", "minCapacity"],
      `minCapacity (${db.minCapacity}) is above maxCapacity (${db.maxCapacity})`,
      "lower minCapacity or raise maxCapacity",
    );
  }
  if (db && !Number.isInteger(db.minCapacity * 2)) {
    emit(
      "error",
      "SPEC_ACU_STEP",
      ["spec", "database", "minCapacity"],
      "Aurora Serverless v2 capacity moves in steps of 0.5 ACU",
      "use a multiple of 0.5",
    );
  }
  p.spec.tenants.forEach((t, i) => {
    let cpu = 0;
    let memory = 0;
    let pods = 0;
    t.services.forEach((s, j) => {
      const path = ["spec", "tenants", i, "services", j];
      const replicas = Math.max(s.replicas, s.autoscale?.min ?? 0);
      cpu += replicas * parseQuantity(s.resources.cpu);
      memory += replicas * parseQuantity(s.resources.memory);
      pods += replicas;
      if (s.autoscale && s.autoscale.min > s.autoscale.max) {
        emit(
          "error",
          "SPEC_MIN_OVER_MAX",
          [...path, "autoscale", "min"],
          `autoscale.min (${s.autoscale.min}) is above autoscale.max (${s.autoscale.max})`,
          "lower min or raise max",
        );
      }
    });
    t.cronJobs.forEach((c, j) => {
      const path = ["spec", "tenants", i, "cronJobs", j];
      if (
        c.timeZone !== undefined &&
        !Intl.supportedValuesOf("timeZone").includes(c.timeZone) &&
        c.timeZone !== "UTC"
      ) {
        emit(
          "error",
          "SPEC_TIME_ZONE",
          [...path, "timeZone"],
          `unknown time zone "${c.timeZone}"`,
          "use an IANA name like Asia/Tokyo or UTC",
        );
      }
    });
    for (const { w, path } of tenantWorkloads(t, i)) {
      if (w.database && !p.spec.database) {
        emit(
          "error",
          "SPEC_NO_DATABASE",
          [...path, "database"],
          `${t.name}/${w.name} asks for the database but spec.database is not set`,
          "add spec.database or set database: false",
        );
      }
    }
    const q = t.quota;
    const qPath = ["spec", "tenants", i, "quota"];
    // A rolling update surges one extra pod per Deployment (maxSurge 25%, at least 1): leave room.
    const surge = t.services.length;
    if (cpu > parseQuantity(q.cpu))
      emit(
        "error",
        "SPEC_QUOTA_CPU",
        [...qPath, "cpu"],
        `services request ${round(cpu)} CPU at their minimum replicas; the quota allows ${q.cpu}`,
        `raise quota.cpu to at least ${Math.ceil(cpu * 1.25)}`,
      );
    if (memory > parseQuantity(q.memory))
      emit(
        "error",
        "SPEC_QUOTA_MEMORY",
        [...qPath, "memory"],
        `services request ${round(memory / 2 ** 30)}Gi memory at their minimum replicas; the quota allows ${q.memory}`,
        `raise quota.memory to at least ${Math.ceil((memory * 1.25) / 2 ** 30)}Gi`,
      );
    if (pods + surge > q.pods)
      emit(
        "error",
        "SPEC_QUOTA_PODS",
        [...qPath, "pods"],
        `services run ${pods} pods plus ${surge} surging during rollouts; the quota allows ${q.pods}`,
        `raise quota.pods to at least ${pods + surge}`,
      );
  });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function checkAccess(p: Platform, emit: Emit): void {
  // An EKS access entry is per principal: one role in two tenants would hold both tenants' groups.
  const owners = new Map<string, string>();
  p.spec.tenants.forEach((t, i) =>
    t.access.forEach((a, j) => {
      const owner = owners.get(a.role);
      if (owner && owner !== t.name) {
        emit(
          "error",
          "SPEC_SHARED_ROLE",
          ["spec", "tenants", i, "access", j, "role"],
          `role ${a.role} is already mapped to tenant ${owner}; sharing it would give it both tenants' access`,
          "use a separate role per tenant",
        );
      } else owners.set(a.role, t.name);
      if (p.spec.cluster.adminRoles.includes(a.role)) {
        emit(
          "error",
          "SPEC_SHARED_ROLE",
          ["spec", "tenants", i, "access", j, "role"],
          `role ${a.role} is also a cluster admin role`,
          "use a separate role for the tenant",
        );
      }
    }),
  );
}

/**
 * `aws.allow` is granted as written: a pattern that also matches what tenkai makes for another
 * tenant or the platform (a database secret, repositories, roles, log groups) is refused here, so
 * `validate` catches it before `plan` would.
 */
function checkAwsAllow(p: Platform, emit: Emit): void {
  for (const c of crossTenantAllowProblems(p)) {
    const ti = p.spec.tenants.findIndex((t) => t.name === c.tenant);
    const tenant = p.spec.tenants[ti]!;
    const si = tenant.services.findIndex((s) => s.name === c.workload);
    const kind = si >= 0 ? "services" : "cronJobs";
    const wi = si >= 0 ? si : tenant.cronJobs.findIndex((j) => j.name === c.workload);
    const allow = (si >= 0 ? tenant.services[si]?.aws : tenant.cronJobs[wi]?.aws)?.allow ?? [];
    const ai = allow.findIndex((a) => a.resources.includes(c.resource));
    const ri = ai >= 0 ? allow[ai]!.resources.indexOf(c.resource) : -1;
    const path: (string | number)[] = ["spec", "tenants", ti, kind, wi, "aws", "allow"];
    if (ai >= 0) path.push(ai, "resources", ri);
    emit(
      "error",
      "SPEC_ALLOW_REACHES_OTHERS",
      path,
      `"${c.resource}" also matches ${c.owner === "platform" ? "the platform's" : `tenant ${c.owner}'s`} ${c.reaches}`,
      "narrow the pattern to this tenant's own resources (name the bucket, queue or key); the tenant's database secret is granted already",
    );
  }
}

/**
 * `environments.<name>.promotesTo` names the environment a change verified here may move on to
 * (staging → production). `upgrade run` holds the later one until the earlier passed, so the chain
 * must name real environments and never loop back.
 */
function checkPromotion(p: Platform, emit: Emit): void {
  const names = Object.keys(p.environments);
  for (const [name, env] of Object.entries(p.environments)) {
    const to = env.promotesTo;
    if (to === undefined) continue;
    const path = ["environments", name, "promotesTo"];
    if (to === name) {
      emit(
        "error",
        "SPEC_PROMOTES_TO_SELF",
        path,
        `environment ${name} promotes to itself`,
        "name the next environment, e.g. production, or remove promotesTo",
      );
      continue;
    }
    if (!Object.hasOwn(p.environments, to)) {
      emit(
        "error",
        "SPEC_PROMOTES_TO_UNKNOWN",
        path,
        `environment ${name} promotes to "${to}", which is not an environment`,
        `use one of: ${names.filter((n) => n !== name).join(", ") || "(no other environment)"}`,
      );
      continue;
    }
    // Follow the chain from here; coming back to `name` is a loop.
    const seen = new Set([name]);
    let cur: string | undefined = to;
    while (cur !== undefined && !seen.has(cur)) {
      seen.add(cur);
      cur = p.environments[cur]?.promotesTo;
    }
    if (cur === name) {
      emit(
        "error",
        "SPEC_PROMOTION_LOOP",
        path,
        `promotesTo loops back to ${name} (${[...seen].join(" → ")} → ${name})`,
        "promotion runs one way, staging → production: remove promotesTo from the last environment",
      );
    }
  }
  const targets = new Map<string, string[]>();
  for (const [name, env] of Object.entries(p.environments)) {
    if (env.promotesTo) targets.set(env.promotesTo, [...(targets.get(env.promotesTo) ?? []), name]);
  }
  for (const [to, from] of targets) {
    if (from.length > 1) {
      emit(
        "warning",
        "SPEC_PROMOTION_FAN_IN",
        ["environments", to],
        `${from.join(" and ")} both promote to ${to}; an upgrade of ${to} waits until every one of them passed`,
        "keep one path to each environment unless both must pass first",
      );
    }
  }
}
