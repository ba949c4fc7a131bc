/**
 * A monthly cost estimate from the dated price table in `data/prices.json`: what the platform
 * costs standing still (control plane, nodes, NAT, ALB, Aurora at min and max capacity, Fargate).
 * Public IPv4 addresses, KMS keys and secrets are counted; control-plane and flow log ingestion is
 * priced at a stated volume. Data transfer, LCUs beyond one per ALB, storage I/O and tenant log
 * volume are usage-based and left out; the estimate says so.
 */
import { AURORA_INSTANCE_ROLES } from "../shared/aws-names.js";
import { eksVersions, readData } from "../shared/data.js";
import { TenkaiError } from "../shared/errors.js";
import { runsPerMonth } from "../spec/cron.js";
import { parseQuantity } from "../spec/quantity.js";
import type { Platform } from "../spec/schema.js";

interface RegionPrices {
  readonly eksControlPlane: { readonly standard: number; readonly extended: number };
  readonly natGatewayHour: number;
  readonly albHour: number;
  readonly albLcuHour: number;
  readonly fargate: { readonly vcpuHour: number; readonly gbHour: number };
  readonly auroraServerlessV2AcuHour: number;
  readonly ebsGp3GbMonth: number;
  readonly cloudwatchLogsIngestGb: number;
  readonly publicIpv4Hour: number;
  readonly kmsKeyMonth: number;
  readonly secretMonth: number;
  readonly ec2: Readonly<Record<string, number>>;
}

interface PriceTable {
  readonly asOf: string;
  readonly hoursPerMonth: number;
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

export interface CostLine {
  readonly item: string;
  readonly detail: string;
  /** USD per month at the low end (minimum sizes). */
  readonly monthlyLow: number;
  /** USD per month at the high end (maximum sizes). */
  readonly monthlyHigh: number;
}

export interface CostEstimate {
  readonly currency: "USD";
  readonly region: string;
  readonly pricesAsOf: string;
  readonly lines: readonly CostLine[];
  readonly totalLow: number;
  readonly totalHigh: number;
  readonly excludes: readonly string[];
  readonly warnings: readonly string[];
}

export interface CostOptions {
  /** Number of ALBs the ingress groups need. Default 1 when any service has a route. */
  readonly albs?: number;
  /** Assumed run time of one CronJob run, in minutes, for Fargate cost. Default 10. */
  readonly cronMinutes?: number;
  /** The clock, for standard vs extended support. Default now. */
  readonly now?: Date;
  /** Customer managed KMS keys the templates create (plan counts them). Default 0. */
  readonly kmsKeys?: number;
  /** Secrets Manager secrets the templates create (plan counts them). Default 0. */
  readonly secrets?: number;
  /** Assumed control-plane log volume (api, audit, authenticator), GB a month. Default 10. */
  readonly controlPlaneLogGbPerMonth?: number;
  /** Assumed VPC flow log volume, GB a month. Default 5. */
  readonly flowLogGbPerMonth?: number;
}

/** Log volumes assumed when none is given (a small, quiet cluster; say so in the line). */
export const DEFAULT_LOG_GB = { controlPlane: 10, flowLogs: 5 } as const;

/** Fargate rounds each pod up to one of these vCPU sizes (and adds 256 MiB for its agents). */
const FARGATE_VCPU = [0.25, 0.5, 1, 2, 4, 8, 16];

function fargateSize(cpu: number, memoryBytes: number): { vcpu: number; gb: number } {
  const vcpu = FARGATE_VCPU.find((v) => v >= cpu) ?? 16;
  const minGb = vcpu <= 0.25 ? 0.5 : vcpu * 2;
  const gb = Math.max(minGb, Math.ceil((memoryBytes + 256 * 2 ** 20) / 2 ** 30));
  return { vcpu, gb };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

export function estimateMonthlyCost(platform: Platform, options: CostOptions = {}): CostEstimate {
  const table = readData<PriceTable>("prices.json");
  const { region } = platform.spec.aws;
  const prices = table.regions[region];
  if (!prices) {
    throw new TenkaiError(
      "COST_NO_PRICES",
      `the price table (as of ${table.asOf}) has no prices for ${region}`,
      `add ${region} to data/prices.json, or plan with --no-cost; regions priced: ${Object.keys(table.regions).join(", ")}`,
    );
  }
  const h = table.hoursPerMonth;
  const lines: CostLine[] = [];
  const warnings: string[] = [];
  const add = (item: string, detail: string, low: number, high = low) =>
    lines.push({ item, detail, monthlyLow: round2(low), monthlyHigh: round2(high) });

  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const version = eksVersions().versions.find((v) => v.version === platform.spec.cluster.version);
  const extended =
    platform.spec.cluster.supportType === "EXTENDED" &&
    version !== undefined &&
    version.endOfStandardSupport < today;
  const cp = extended ? prices.eksControlPlane.extended : prices.eksControlPlane.standard;
  add("EKS control plane", `${extended ? "extended" : "standard"} support, $${cp}/h`, cp * h);

  for (const g of platform.spec.nodeGroups) {
    const type = g.instanceTypes[0]!;
    const hourly = prices.ec2[type];
    if (hourly === undefined) {
      warnings.push(`no price for ${type} in ${region}; node group ${g.name} is not counted`);
      continue;
    }
    const low = g.desired ?? g.min;
    const spot = g.capacityType === "SPOT" ? " (on-demand price; spot is usually lower)" : "";
    add(
      `EC2 ${g.name}`,
      `${low}-${g.max} x ${type} at $${hourly}/h${spot}`,
      low * hourly * h,
      g.max * hourly * h,
    );
    const ebs = g.diskSizeGiB * prices.ebsGp3GbMonth;
    add(`EBS ${g.name}`, `${g.diskSizeGiB} GiB gp3 per node`, low * ebs, g.max * ebs);
  }

  const nats = platform.spec.network.natGateways ?? platform.spec.network.azs;
  add(
    "NAT gateways",
    `${nats} x $${prices.natGatewayHour}/h (data processing extra)`,
    nats * prices.natGatewayHour * h,
  );

  const routed = platform.spec.tenants.some((t) => t.services.some((s) => s.route));
  const albs = options.albs ?? (routed ? 1 : 0);
  if (albs > 0) {
    const hourly = prices.albHour + prices.albLcuHour;
    add("Application Load Balancer", `${albs} x ($${prices.albHour}/h + 1 LCU)`, albs * hourly * h);
  }

  const db = platform.spec.database;
  if (db) {
    const acu = prices.auroraServerlessV2AcuHour;
    // Each Serverless v2 instance (the writer and the reader) is billed for its own ACUs.
    const n = AURORA_INSTANCE_ROLES.length;
    add(
      "Aurora Serverless v2",
      `${n} instances x ${db.minCapacity}-${db.maxCapacity} ACU at $${acu}/ACU-h (storage extra)`,
      n * db.minCapacity * acu * h,
      n * db.maxCapacity * acu * h,
    );
  }

  // Public IPv4 addresses are billed per hour whether in use or idle: one Elastic IP per NAT
  // gateway, and one per AZ for an internet-facing ALB.
  const albIps = platform.spec.ingress.scheme === "internet-facing" ? albs * platform.spec.network.azs : 0;
  add(
    "Public IPv4 addresses",
    `${nats} NAT + ${albIps} ALB x $${prices.publicIpv4Hour}/h`,
    (nats + albIps) * prices.publicIpv4Hour * h,
  );

  const cpGb = options.controlPlaneLogGbPerMonth ?? DEFAULT_LOG_GB.controlPlane;
  const flowGb = options.flowLogGbPerMonth ?? DEFAULT_LOG_GB.flowLogs;
  add(
    "CloudWatch Logs ingestion",
    `control-plane logs ${cpGb} GB + VPC flow logs ${flowGb} GB a month (assumed volumes) at $${prices.cloudwatchLogsIngestGb}/GB`,
    (cpGb + flowGb) * prices.cloudwatchLogsIngestGb,
  );

  const keys = options.kmsKeys ?? 0;
  if (keys > 0)
    add(
      "KMS keys",
      `${keys} customer managed keys x $${prices.kmsKeyMonth}/month`,
      keys * prices.kmsKeyMonth,
    );
  const secrets = options.secrets ?? 0;
  if (secrets > 0)
    add("Secrets Manager", `${secrets} secrets x $${prices.secretMonth}/month`, secrets * prices.secretMonth);

  let fargateLow = 0;
  let fargateHigh = 0;
  const fargateParts: string[] = [];
  const cronMinutes = options.cronMinutes ?? 10;
  for (const t of platform.spec.tenants) {
    for (const s of t.services) {
      if (s.compute !== "fargate") continue;
      const { vcpu, gb } = fargateSize(parseQuantity(s.resources.cpu), parseQuantity(s.resources.memory));
      const podHour = vcpu * prices.fargate.vcpuHour + gb * prices.fargate.gbHour;
      fargateLow += s.replicas * podHour * h;
      fargateHigh += (s.autoscale?.max ?? s.replicas * 3) * podHour * h;
      fargateParts.push(`${t.name}/${s.name} ${vcpu} vCPU ${gb} GB`);
    }
    for (const c of t.cronJobs) {
      if (c.compute !== "fargate") continue;
      const { vcpu, gb } = fargateSize(parseQuantity(c.resources.cpu), parseQuantity(c.resources.memory));
      // Fargate bills per second with a one-minute minimum.
      const hours = (runsPerMonth(c.schedule) * Math.max(1, cronMinutes)) / 60;
      const cost = hours * (vcpu * prices.fargate.vcpuHour + gb * prices.fargate.gbHour);
      fargateLow += cost;
      fargateHigh += cost;
      fargateParts.push(
        `${t.name}/${c.name} ${Math.round(runsPerMonth(c.schedule))} runs x ${cronMinutes} min`,
      );
    }
  }
  if (fargateParts.length > 0) add("Fargate", fargateParts.join("; "), fargateLow, fargateHigh);

  return {
    currency: "USD",
    region,
    pricesAsOf: table.asOf,
    lines,
    totalLow: round2(lines.reduce((s, l) => s + l.monthlyLow, 0)),
    totalHigh: round2(lines.reduce((s, l) => s + l.monthlyHigh, 0)),
    excludes: [
      "data transfer",
      "NAT and ALB data processing beyond 1 LCU",
      "Aurora storage and I/O",
      "CloudWatch Logs ingestion beyond the stated volumes, tenant application logs, and log storage",
      "ECR storage",
      "KMS and Secrets Manager API requests",
    ],
    warnings,
  };
}
