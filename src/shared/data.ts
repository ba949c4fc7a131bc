/**
 * The dated data tables that ship in `data/` (EKS versions, prices, instance types). They are
 * read from the package at run time so `tenkai plan` needs no AWS call, and so a refresh is a
 * data change, not a code change.
 */
import { readFileSync } from "node:fs";

const cache = new Map<string, unknown>();

/** Reads `data/<name>` from the package root (works from `src/` under tsx and from `dist/`). */
export function readData<T>(name: string): T {
  let value = cache.get(name);
  if (value === undefined) {
    value = JSON.parse(readFileSync(new URL(`../../data/${name}`, import.meta.url), "utf8"));
    cache.set(name, value);
  }
  return value as T;
}

const textCache = new Map<string, string>();

/** Reads a text file from `data/` (templates, pinned manifests). */
export function readDataText(name: string): string {
  let text = textCache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`../../data/${name}`, import.meta.url), "utf8");
    textCache.set(name, text);
  }
  return text;
}

/** Upstream Helm charts tenkai ships rendered (scripts/render-charts.sh), by directory under data/charts. */
export const CHARTS = {
  albController: "aws-load-balancer-controller",
  clusterAutoscaler: "cluster-autoscaler",
} as const;

export interface ChartProvenance {
  readonly chart: string;
  readonly repository: string;
  readonly path: string;
  readonly tag: string;
  readonly commit: string;
  readonly chartVersion: string;
  readonly appVersion: string;
  readonly values: string;
  readonly helm: string;
  readonly kubeVersion: string;
}

/** Where a rendered chart came from (chart and app version, values, Helm version). */
export function chartProvenance(chart: string): ChartProvenance {
  return readData<ChartProvenance>(`charts/${chart}/provenance.json`);
}

/** The rendered chart's manifests, with `${NAME}` placeholders for the values tenkai sets. */
export function chartRender(chart: string): string {
  return readDataText(`charts/${chart}/render.yaml`);
}

/**
 * The AWS Load Balancer Controller version the Kubernetes plane installs (the chart's app
 * version); the AWS plane grants the IAM policy published with it.
 */
export function albControllerVersion(): string {
  return chartProvenance(CHARTS.albController).appVersion;
}

export interface EksVersion {
  readonly version: string;
  readonly released: string;
  readonly endOfStandardSupport: string;
  readonly endOfExtendedSupport: string;
  readonly estimated?: boolean;
}

export interface EksVersionTable {
  readonly asOf: string;
  readonly source: string;
  readonly versions: readonly EksVersion[];
}

export function eksVersions(): EksVersionTable {
  return readData<EksVersionTable>("eks-versions.json");
}

export interface InstanceType {
  readonly vcpu: number;
  readonly memoryGiB: number;
  readonly maxPods: number;
}

/** The instance-type table, or an empty one when it is absent. */
export function instanceTypes(): Readonly<Record<string, InstanceType>> {
  try {
    const table = readData<{ types?: Record<string, InstanceType> } & Record<string, unknown>>(
      "instance-types.json",
    );
    return (table.types ?? {}) as Record<string, InstanceType>;
  } catch {
    return {};
  }
}

export interface RegionTable {
  readonly asOf: string;
  readonly source: string;
  /** Partition (`aws`, `aws-us-gov`, `aws-cn`) to its regions. */
  readonly partitions: Readonly<Record<string, readonly string[]>>;
}

export function regions(): RegionTable {
  return readData<RegionTable>("regions.json");
}

/** The partition a region belongs to (`aws` for commercial regions), or undefined when unknown. */
export function partitionOf(region: string): string | undefined {
  for (const [partition, list] of Object.entries(regions().partitions))
    if (list.includes(region)) return partition;
  return undefined;
}

/** Regions the price table covers: `plan` estimates cost only for these. */
export function pricedRegions(): readonly string[] {
  return Object.keys(readData<{ regions: Record<string, unknown> }>("prices.json").regions);
}
