/**
 * `tenkai plan`: offline, with no AWS credentials and no cluster. Composes the two planes, writes
 * the output layout and returns a summary:
 *
 *   <out>/cdk.out/                  CDK cloud assembly (CloudFormation templates + manifest.json)
 *   <out>/manifests/platform.yaml   cluster-wide Kubernetes objects
 *   <out>/manifests/tenants/<t>.yaml  each tenant's objects
 *   <out>/plan.json                 the summary below
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { nodegroupName } from "../shared/aws-names.js";
import { pricedRegions } from "../shared/data.js";
import { type Emit, type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import type { AwsPlaneOptions, AwsPlaneSynthesis, KubernetesPlane } from "../shared/planes.js";
import { addonTable, type PlannedAddon, plannedAddons } from "../spec/addons.js";
import { normalizePath } from "../spec/checks.js";
import type { Platform } from "../spec/schema.js";
import { type CostEstimate, estimateMonthlyCost } from "./cost.js";
import { toYamlStream } from "./manifest-yaml.js";
import { prepareOutDir } from "./out-dir.js";

/** The AWS plane as plan composes it (src/aws/synth.ts: `synthesizeAwsPlane(platform, options)`). */
export type SynthesizeAwsPlane = (platform: Platform, options: AwsPlaneOptions) => Promise<AwsPlaneSynthesis>;

/** The Kubernetes plane as plan composes it (src/kube/render/render.ts). Pure: no cluster access. */
export type RenderKubernetesPlane = (platform: Platform) => KubernetesPlane;

/** What a plan reports (shared/events.ts). */
export type PlanEvent =
  | TenkaiEvent<"plan.stage", { readonly stage: "aws" | "kubernetes" | "cost" | "write" }>
  | TenkaiEvent<"plan.warning", { readonly code: string }>
  | TenkaiEvent<"plan.done", { readonly elapsedMs: number }>;

export interface PlanOptions {
  /**
   * Output directory. tenkai creates and marks it (or adopts an empty one) and on later runs
   * replaces only what a plan writes; a non-empty directory it did not make is refused.
   */
  readonly outDir: string;
  /** Files a plan must never overwrite or remove, such as the spec itself. Default: none. */
  readonly protect?: readonly string[];
  /** Where progress events go. Default: nowhere. */
  readonly sink?: EventSink<PlanEvent>;
  /** Skip the cost estimate (e.g. for a region with no prices). Default false. */
  readonly skipCost?: boolean;
  /** The clock. Default now. */
  readonly now?: Date;
  /** The AWS plane; default: src/aws/synth.ts, loaded lazily (it pulls in aws-cdk-lib). */
  readonly synthesizeAwsPlane?: SynthesizeAwsPlane;
  /** The Kubernetes plane; default: src/kube/render/render.ts. */
  readonly renderKubernetesPlane?: RenderKubernetesPlane;
}

export interface PlanSummary {
  readonly platform: string;
  readonly region: string;
  readonly account: string;
  readonly kubernetesVersion: string;
  readonly outDir: string;
  readonly tenants: readonly {
    readonly name: string;
    readonly services: readonly {
      readonly name: string;
      readonly replicas: number;
      readonly compute: string;
      readonly route?: string;
    }[];
    readonly cronJobs: readonly {
      readonly name: string;
      readonly schedule: string;
      readonly compute: string;
    }[];
    readonly objects: number;
    readonly manifest: string;
  }[];
  readonly routes: readonly {
    readonly host: string;
    readonly path: string;
    readonly tenant: string;
    readonly service: string;
    readonly port: number;
  }[];
  readonly nodeGroups: readonly {
    readonly name: string;
    readonly activeSlot: string;
    readonly nodegroupName: string;
    readonly instanceTypes: readonly string[];
    readonly min: number;
    readonly max: number;
    readonly desired: number;
  }[];
  readonly fargateProfiles: readonly { readonly name: string; readonly namespaces: readonly string[] }[];
  /** Add-ons with their pinned versions (data/eks-addons.json, or the spec's overrides). */
  readonly addons: {
    readonly asOf: string;
    readonly list: readonly PlannedAddon[];
  };
  readonly aws: {
    readonly assemblyDir: string;
    readonly stacks: AwsPlaneSynthesis["stacks"];
    readonly resourcesByType: Readonly<Record<string, number>>;
    readonly totalResources: number;
  };
  readonly kubernetes: {
    readonly platformObjects: number;
    readonly tenantObjects: number;
    readonly manifestsDir: string;
  };
  readonly cost?: CostEstimate;
  /** Why there is no cost estimate (--no-cost, or no prices for the region). */
  readonly costSkipped?: string;
  readonly elapsedMs: number;
}

export async function planPlatform(platform: Platform, options: PlanOptions): Promise<PlanSummary> {
  const started = performance.now();
  const emit = emitter(options.sink);
  const outDir = resolve(options.outDir);
  await prepareOutDir(outDir, { protect: options.protect ?? [] });
  await mkdir(join(outDir, "manifests", "tenants"), { recursive: true });

  emit("info", "plan.stage", "rendering Kubernetes objects", { stage: "kubernetes" });
  // Rendered and written before synthesis, and let go of (only counts come back); by default
  // tenant by tenant, so the objects of all tenants (230 MB on 8,000) are never held at once.
  const plane = options.renderKubernetesPlane
    ? options.renderKubernetesPlane(platform)
    : (await import("../kube/render/render.js")).renderKubernetesPlaneLazily(platform);
  const kube = await writeKubernetesPlane(plane, join(outDir, "manifests"), emit);

  emit("info", "plan.stage", "synthesizing CloudFormation (AWS CDK)", { stage: "aws" });
  const synth = options.synthesizeAwsPlane ?? (await import("../aws/synth.js")).synthesizeAwsPlane;
  const aws = await synth(platform, { outdir: join(outDir, "cdk.out") });

  const resourcesByType: Record<string, number> = {};
  for (const s of aws.stacks) {
    for (const [type, n] of Object.entries(s.resourcesByType))
      resourcesByType[type] = (resourcesByType[type] ?? 0) + n;
  }

  let cost: CostEstimate | undefined;
  let costSkipped: string | undefined = options.skipCost ? "--no-cost" : undefined;
  if (!options.skipCost && !pricedRegions().includes(platform.spec.aws.region)) {
    // validate warned (SPEC_NO_PRICES): a plan without an estimate, never an error.
    costSkipped = `the price table has no prices for ${platform.spec.aws.region}`;
    emit("warn", "plan.warning", `warning: ${costSkipped}; no cost estimate`, { code: "PLAN_NO_PRICES" });
  } else if (!options.skipCost) {
    emit("info", "plan.stage", "estimating monthly cost", { stage: "cost" });
    cost = estimateMonthlyCost(platform, {
      ...(options.now ? { now: options.now } : {}),
      // Counted from the templates, so the estimate follows what is really created.
      kmsKeys: resourcesByType["AWS::KMS::Key"] ?? 0,
      secrets: resourcesByType["AWS::SecretsManager::Secret"] ?? 0,
    });
  }
  const { spec } = platform;
  const summary: PlanSummary = {
    platform: platform.metadata.name,
    region: spec.aws.region,
    account: spec.aws.account,
    kubernetesVersion: spec.cluster.version,
    outDir,
    tenants: spec.tenants.map((t) => ({
      name: t.name,
      services: t.services.map((s) => ({
        name: s.name,
        replicas: s.replicas,
        compute: s.compute,
        ...(s.route ? { route: `${s.route.host}${normalizePath(s.route.path)}` } : {}),
      })),
      cronJobs: t.cronJobs.map((c) => ({ name: c.name, schedule: c.schedule, compute: c.compute })),
      objects: kube.byTenant.get(t.name)?.objects ?? 0,
      manifest: kube.byTenant.get(t.name)?.manifest ?? "",
    })),
    routes: spec.tenants
      .flatMap((t) =>
        t.services.flatMap((s) =>
          s.route
            ? [
                {
                  host: s.route.host,
                  path: normalizePath(s.route.path),
                  tenant: t.name,
                  service: s.name,
                  port: s.port,
                },
              ]
            : [],
        ),
      )
      .sort(
        (a, b) =>
          a.host.localeCompare(b.host) || b.path.length - a.path.length || a.path.localeCompare(b.path),
      ),
    nodeGroups: spec.nodeGroups.map((g) => ({
      name: g.name,
      activeSlot: g.activeSlot,
      nodegroupName: nodegroupName(g.name, g.activeSlot),
      instanceTypes: g.instanceTypes,
      min: g.min,
      max: g.max,
      desired: g.desired ?? g.min,
    })),
    fargateProfiles: spec.fargate.profiles.map((f) => ({
      name: f.name,
      namespaces: [...new Set(f.selectors.map((s) => s.namespace))],
    })),
    addons: { asOf: addonTable().asOf, list: plannedAddons(platform) },
    aws: {
      assemblyDir: aws.assemblyDir,
      stacks: aws.stacks,
      resourcesByType,
      totalResources: aws.stacks.reduce((n, s) => n + s.resourceCount, 0),
    },
    kubernetes: {
      platformObjects: kube.platformObjects,
      tenantObjects: kube.tenantObjects,
      manifestsDir: join(outDir, "manifests"),
    },
    ...(cost ? { cost } : {}),
    ...(costSkipped ? { costSkipped } : {}),
    elapsedMs: Math.round(performance.now() - started),
  };
  await writeFile(join(outDir, "plan.json"), `${JSON.stringify(summary, null, 2)}\n`);
  emit("info", "plan.done", `plan written to ${outDir}`, { elapsedMs: summary.elapsedMs });
  return summary;
}

interface WrittenPlane {
  readonly platformObjects: number;
  readonly tenantObjects: number;
  readonly byTenant: ReadonlyMap<string, { readonly objects: number; readonly manifest: string }>;
}

/** Writes the plane's manifests; returns what the summary needs of it, and no object. */
async function writeKubernetesPlane(
  kube: Pick<KubernetesPlane, "platform"> & {
    readonly tenants: Iterable<KubernetesPlane["tenants"][number]>;
  },
  dir: string,
  emit: Emit<PlanEvent>,
): Promise<WrittenPlane> {
  emit("info", "plan.stage", `writing manifests to ${dir}`, { stage: "write" });
  await writeFile(join(dir, "platform.yaml"), toYamlStream(kube.platform));
  const byTenant = new Map<string, { objects: number; manifest: string }>();
  let tenantObjects = 0;
  for (const t of kube.tenants) {
    const manifest = join(dir, "tenants", `${t.tenant}.yaml`);
    await writeFile(manifest, toYamlStream(t.objects));
    byTenant.set(t.tenant, { objects: t.objects.length, manifest });
    tenantObjects += t.objects.length;
  }
  return { platformObjects: kube.platform.length, tenantObjects, byTenant };
}
