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
import { stackNames } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { AwsPlaneOptions, AwsPlaneSynthesis, StackSummary } from "../shared/planes.js";
import { crossTenantAllowProblems } from "../spec/aws-allow.js";
import type { Platform } from "../spec/schema.js";
import { tenantUsesDatabase } from "../spec/tenant-needs.js";
import { planTenantStacks, TENANTS_PER_STACK } from "./placement.js";
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
}

/** The CDK app of the AWS plane, before synthesis (tests and the toolkit use it). */
export interface AwsPlaneApp {
  readonly app: App;
  /** Stacks in deploy order. */
  readonly stacks: readonly Stack[];
}

export function buildAwsPlane(platform: Platform, options: AwsSynthOptions): AwsPlaneApp {
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
  const app = new App({
    outdir: options.outdir,
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
  const env = { account: platform.spec.aws.account, region: platform.spec.aws.region };
  const props = (description: string): StackProps => ({
    env,
    description: `tenkai ${platform.metadata.name}: ${description}`,
    tags: { "tenkai.dev/platform": platform.metadata.name },
  });
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
  const placement = planTenantStacks(platform, options.tenantsPerStack ?? TENANTS_PER_STACK);
  placement.forEach((group, i) => {
    const stack = new TenantStack(
      app,
      stackNames.tenants(platform, i + 1),
      { platform, tenants: group.tenants, accessEntries: group.accessEntries },
      props(`tenants ${group.tenants[0]?.name ?? ""}..${group.tenants.at(-1)?.name ?? ""}`),
    );
    // Reads the cluster's (and data stack's) SSM parameters and names the cluster.
    stack.addStackDependency(cluster, "tenant roles trust the cluster's OIDC issuer (SSM parameter)");
    if (data && group.tenants.some(tenantUsesDatabase))
      stack.addStackDependency(data, "tenant secrets name the database endpoint");
    stacks.push(stack);
  });
  return { app, stacks };
}

export async function synthesizeAwsPlane(
  platform: Platform,
  options: AwsSynthOptions,
): Promise<AwsPlaneSynthesis> {
  const outdir = resolve(options.outdir);
  mkdirSync(outdir, { recursive: true });
  const { app, stacks } = buildAwsPlane(platform, { ...options, outdir });
  const assembly = app.synth();
  const summaries: StackSummary[] = stacks.map((stack) => {
    const artifact = assembly.getStackByName(stack.stackName);
    return summarizeTemplate(
      stack.stackName,
      artifact.templateFile,
      join(assembly.directory, artifact.templateFile),
    );
  });
  return { assemblyDir: assembly.directory, stacks: summaries };
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
