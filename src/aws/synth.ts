/**
 * The AWS plane: the platform model as a CDK app of several stacks, synthesized into a cloud
 * assembly that `cdk deploy --app <dir>` (or `tenkai deploy`) deploys.
 *
 * Stacks, in deploy order:
 *   <platform>-network          VPC, subnets, NAT, flow logs
 *   <platform>-cluster          EKS control plane, keys, OIDC provider, platform roles, Fargate
 *   <platform>-nodes-<group>    managed node groups (active slot, both while rotating)
 *   <platform>-addons           EKS add-ons that need nodes (CoreDNS, metrics-server)
 *   <platform>-data             Aurora PostgreSQL (when spec.database is set)
 *   <platform>-tenants-NNN      tenant resources, a fixed number of tenants per stack
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { App, type Stack, type StackProps } from "aws-cdk-lib";
import type { CloudAssembly } from "aws-cdk-lib/cx-api";
import { stackNames } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { AwsPlaneOptions, AwsPlaneSynthesis, StackSummary } from "../shared/planes.js";
import { crossTenantAllowProblems } from "../spec/aws-allow.js";
import type { Platform } from "../spec/schema.js";
import { tenantUsesDatabase } from "../spec/tenant-needs.js";
import { AssemblyMerge } from "./assembly-merge.js";
import { markCdkGlobals } from "./cdk-globals.js";
import { planTenantStacks, TENANTS_PER_STACK, type TenantStackPlacement } from "./placement.js";
import { AddonsStack } from "./stacks/addons.js";
import { ClusterStack } from "./stacks/cluster.js";
import { DataStack } from "./stacks/data.js";
import { NetworkStack } from "./stacks/network.js";
import { NodeGroupStack, type NodeSlot, slotsFor } from "./stacks/nodes.js";
import { TenantStack } from "./stacks/tenants.js";

export interface AwsSynthOptions extends AwsPlaneOptions {
  /** Node groups being rotated: both their blue and green slots exist. Default: none. */
  readonly rotating?: readonly string[];
  /**
   * The slots of a node group's stack, by group, instead of the spec's (the `stack` node
   * provider's rotation: the slots deployed plus the new one). A group the spec does not name
   * gets a stack too. Default: the spec's slots (`rotating` adds the other one).
   */
  readonly nodeSlots?: Readonly<Record<string, readonly NodeSlot[]>>;
  /** Tenants per tenant stack. Default: TENANTS_PER_STACK. */
  readonly tenantsPerStack?: number;
  /** Tenant stacks synthesized per App (synthesizeAwsPlane). Default: STACKS_PER_BATCH. */
  readonly stacksPerBatch?: number;
}

/**
 * Tenant stacks per App in synthesizeAwsPlane: small enough that a batch's construct tree is a
 * few tens of MB, large enough that the per-App cost is noise (bench/plan-scale.ts).
 */
export const STACKS_PER_BATCH = 50;

/** The CDK app of the AWS plane, before synthesis (tests and the toolkit use it). */
export interface AwsPlaneApp {
  readonly app: App;
  /** Stacks in deploy order. */
  readonly stacks: readonly Stack[];
}

export function buildAwsPlane(platform: Platform, options: AwsSynthOptions): AwsPlaneApp {
  checkPlane(platform, options);
  const app = newApp(options.outdir);
  const base = addPlatformStacks(app, platform, options);
  const placement = planTenantStacks(platform, options.tenantsPerStack ?? TENANTS_PER_STACK);
  const tenants = addTenantStacks(app, platform, placement, 0, base);
  return { app, stacks: [...base.stacks, ...tenants] };
}

/** Refuses options and specs the stacks cannot be made from. */
function checkPlane(platform: Platform, options: AwsSynthOptions): void {
  const unknownRotating = (options.rotating ?? []).filter(
    (g) => !platform.spec.nodeGroups.some((n) => n.name === g),
  );
  if (unknownRotating.length > 0) {
    throw new TenkaiError(
      "AWS_UNKNOWN_NODE_GROUP",
      `cannot rotate ${unknownRotating.map((g) => `"${g}"`).join(", ")}: no such node group in spec.nodeGroups`,
      `name one of: ${platform.spec.nodeGroups.map((n) => n.name).join(", ")}`,
    );
  }
  const crossings = crossTenantAllowProblems(platform);
  if (crossings.length > 0) {
    throw new TenkaiError(
      "AWS_ALLOW_REACHES_OTHERS",
      `${crossings.length} aws.allow resource pattern(s) would reach what tenkai made for another tenant or the platform:\n  ${crossings.map((c) => c.message).join("\n  ")}`,
      "narrow each pattern to the tenant's own resources (name the bucket, queue or key); tenkai already grants a workload its tenant's database secret",
    );
  }
}

function newApp(outdir: string): App {
  return new App({
    outdir,
    // cdk-nag and cfn-lint check the templates in the tests; the built-in validation adds
    // seconds to every plan.
    builtinCloudFormationValidation: false,
    analyticsReporting: false,
    // Construct stack traces go into metadata nobody reads from a plan; capturing one per
    // construct was a tenth of synth time on 1,000 tenants (node --cpu-prof).
    stackTraces: false,
    // The few platform-stack references (subnets, VPC, cluster security group) are strong
    // exports, so CloudFormation refuses to delete a VPC a cluster still uses.
    // No creation stack trace per construct either (`stackTraces: false` covers only metadata
    // traces): on 2,000 tenants the traces still cost 13 s of 107 (node --cpu-prof).
    context: {
      "@aws-cdk/core:defaultCrossStackReferences": "strong",
      "aws:cdk:disable-creation-stack-traces": true,
    },
  });
}

function stackProps(platform: Platform, description: string): StackProps {
  return {
    env: { account: platform.spec.aws.account, region: platform.spec.aws.region },
    description: `tenkai ${platform.metadata.name}: ${description}`,
    tags: { "tenkai.dev/platform": platform.metadata.name },
  };
}

/** The stacks a tenant stack depends on, when they are in the same App. */
interface PlatformStacks {
  /** In deploy order. */
  readonly stacks: readonly Stack[];
  readonly cluster: Stack;
  readonly data: Stack | undefined;
}

/** Network, cluster, node groups, add-ons and data: everything but the tenant stacks. */
function addPlatformStacks(app: App, platform: Platform, options: AwsSynthOptions): PlatformStacks {
  const props = (description: string) => stackProps(platform, description);
  const stacks: Stack[] = [];
  const network = new NetworkStack(app, stackNames.network(platform), platform, props("network"));
  stacks.push(network);
  const cluster = new ClusterStack(
    app,
    stackNames.cluster(platform),
    platform,
    network.vpc,
    props("EKS cluster"),
  );
  stacks.push(cluster);
  const privateSubnetIds = network.vpc.privateSubnets.map((s) => s.subnetId);
  const nodeStacks: Stack[] = [];
  const groupSlots = new Map<string, readonly NodeSlot[]>(
    platform.spec.nodeGroups.map((g) => [g.name, slotsFor(g, options.rotating?.includes(g.name) ?? false)]),
  );
  for (const [group, slots] of Object.entries(options.nodeSlots ?? {})) groupSlots.set(group, slots);
  for (const [group, slots] of groupSlots) {
    const stack = new NodeGroupStack(
      app,
      stackNames.nodes(platform, group),
      platform,
      group,
      slots,
      privateSubnetIds,
      props(`node group ${group}`),
    );
    stack.addStackDependency(cluster, "nodes join the cluster with the node role");
    stacks.push(stack);
    nodeStacks.push(stack);
  }
  const addons = new AddonsStack(app, stackNames.addons(platform), platform, props("EKS add-ons on nodes"));
  for (const n of nodeStacks) addons.addStackDependency(n, "CoreDNS and metrics-server pods need nodes");
  stacks.push(addons);
  let data: DataStack | undefined;
  if (platform.spec.database) {
    data = new DataStack(
      app,
      stackNames.data(platform),
      platform,
      network.vpc,
      cluster.cluster.clusterSecurityGroupId,
      props("Aurora PostgreSQL"),
    );
    stacks.push(data);
  }
  return { stacks, cluster, data };
}

/**
 * The stacks a tenant stack is deployed after: the cluster (its SSM parameters: OIDC issuer,
 * logs key) and, when one of its tenants uses the database, the data stack (the endpoint).
 * By name: a tenant stack takes these values from SSM parameters, never from a token, so it
 * can be synthesized in an App without them (synthesizeAwsPlane's batches).
 */
function tenantStackDependencies(platform: Platform, group: TenantStackPlacement): string[] {
  return [
    stackNames.cluster(platform),
    ...(platform.spec.database && group.tenants.some(tenantUsesDatabase) ? [stackNames.data(platform)] : []),
  ];
}

/**
 * Tenant stacks for `placement` (numbered from `first` + 1). With `platformStacks` (one App)
 * they depend on them here; without, the caller writes the dependencies into the manifest.
 */
function addTenantStacks(
  app: App,
  platform: Platform,
  placement: readonly TenantStackPlacement[],
  first: number,
  platformStacks?: PlatformStacks,
): Stack[] {
  return placement.map((group, i) => {
    const stack = new TenantStack(
      app,
      stackNames.tenants(platform, first + i + 1),
      { platform, tenants: group.tenants, accessEntries: group.accessEntries },
      stackProps(platform, `tenants ${group.tenants[0]?.name ?? ""}..${group.tenants.at(-1)?.name ?? ""}`),
    );
    if (platformStacks) {
      const reasons: Record<string, string> = {
        [platformStacks.cluster.stackName]: "tenant roles trust the cluster's OIDC issuer (SSM parameter)",
        ...(platformStacks.data
          ? { [platformStacks.data.stackName]: "tenant secrets name the database endpoint" }
          : {}),
      };
      for (const name of tenantStackDependencies(platform, group)) {
        const target = platformStacks.stacks.find((s) => s.stackName === name);
        if (target) stack.addStackDependency(target, reasons[name]);
      }
    }
    return stack;
  });
}

/**
 * Synthesizes the plane into one cloud assembly. The platform stacks are one App; the tenant
 * stacks, which share nothing with them but SSM parameter names, are synthesized in Apps of
 * `stacksPerBatch` stacks, each let go before the next, and merged into the same directory, one
 * manifest.json and one tree.json (assembly-merge.ts): the assembly is byte for byte the one a
 * single App writes (src/aws/synth-batches.test.ts), and the construct tree of all tenant stacks
 * is never in memory at once (8,000 tenants: 800 stacks, bench/plan-scale.ts).
 */
export async function synthesizeAwsPlane(
  platform: Platform,
  options: AwsSynthOptions,
): Promise<AwsPlaneSynthesis> {
  const outdir = resolve(options.outdir);
  mkdirSync(outdir, { recursive: true });
  checkPlane(platform, options);
  const placement = planTenantStacks(platform, options.tenantsPerStack ?? TENANTS_PER_STACK);
  const perBatch = options.stacksPerBatch ?? STACKS_PER_BATCH;
  if (!Number.isInteger(perBatch) || perBatch < 1) {
    throw new TenkaiError(
      "AWS_BAD_STACKS_PER_BATCH",
      `stacksPerBatch must be a positive integer, got ${perBatch}`,
      "pass a number like 50",
    );
  }
  const app = newApp(outdir);
  const base = addPlatformStacks(app, platform, options);
  const assembly = app.synth();
  const summaries: StackSummary[] = base.stacks.map((s) => summarize(assembly, s.stackName));
  if (placement.length === 0) return { assemblyDir: assembly.directory, stacks: summaries };

  const merge = new AssemblyMerge(outdir);
  for (let first = 0; first < placement.length; first += perBatch) {
    const release = markCdkGlobals();
    const groups = placement.slice(first, first + perBatch);
    const batch = newApp(outdir);
    const stacks = addTenantStacks(batch, platform, groups, first);
    const written = batch.synth();
    summaries.push(...stacks.map((s) => summarize(written, s.stackName)));
    merge.addBatch(
      new Map(
        stacks.map((s, i) => [
          s.artifactId,
          tenantStackDependencies(platform, groups[i] as TenantStackPlacement),
        ]),
      ),
    );
    release();
  }
  merge.finish();
  return { assemblyDir: assembly.directory, stacks: summaries };
}

function summarize(assembly: CloudAssembly, stackName: string): StackSummary {
  const artifact = assembly.getStackByName(stackName);
  return summarizeTemplate(stackName, artifact.templateFile, join(assembly.directory, artifact.templateFile));
}

/** Counts a synthesized template's resources by type. */
export function summarizeTemplate(stackName: string, templateFile: string, path: string): StackSummary {
  const template = JSON.parse(readFileSync(path, "utf8")) as { Resources?: Record<string, { Type: string }> };
  const resourcesByType: Record<string, number> = {};
  let resourceCount = 0;
  for (const resource of Object.values(template.Resources ?? {})) {
    resourcesByType[resource.Type] = (resourcesByType[resource.Type] ?? 0) + 1;
    resourceCount++;
  }
  return { stackName, templateFile, resourceCount, resourcesByType };
}
