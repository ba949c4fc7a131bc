/**
 * `tenkai nodes rotate GROUP` and `tenkai nodes status [GROUP]`: thin commands over the rotation
 * engine (src/rotation). Engines are imported lazily so `tenkai --help` stays fast.
 */
import type { Command } from "commander";
import { type ErrorCode, TenkaiError } from "../../shared/errors.js";
import type { AwsFlags } from "../aws-steps.js";
import { parseDuration } from "../duration.js";
import { type CommandIO, runAction, withOutput } from "../output.js";

interface RotateFlags extends AwsFlags {
  output?: string;
  file: string;
  context?: string;
  kubeconfig?: string;
  env?: string;
  provider?: string;
  dryRun?: boolean;
  rollback?: boolean;
  maxDraining: string;
  timeout: string;
  stallAfter: string;
  budgetTimeout: string;
  forceUnreplicated?: boolean;
  deleteEmptydirData?: boolean;
  surge: boolean;
  zone?: string[];
  profile?: string;
  targetHealthCheck: boolean;
  clusterDir?: string;
}

function cliError(code: ErrorCode, message: string, fix: string): TenkaiError {
  return new TenkaiError(code, message, fix);
}

export { parseDuration } from "../duration.js";

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw cliError("CLI_BAD_NUMBER", `${flag} must be a positive integer, got "${value}"`, `pass ${flag} 10`);
  return n;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const nodes = program
    .command("nodes")
    .description("node group operations: blue/green rotation and its status");

  withOutput(
    nodes
      .command("rotate")
      .description(
        "replace a node group's nodes with zero downtime: create the other slot, cordon, drain within every PodDisruptionBudget, delete the old slot",
      )
      .argument("<group>", "node group name from spec.nodeGroups")
      .requiredOption("-f, --file <file>", "platform.yaml")
      .option(
        "--context <name>",
        "kubeconfig context (default: the environment's context, else the current one)",
      )
      .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
      .option("-e, --env <name>", "use this environment's overlay and context")
      .option(
        "--provider <eks|kwok|local>",
        "where nodes come from (default: eks for target aws; for target local the group's local.nodes: real -> local, else kwok)",
      )
      .option("--dry-run", "print the plan and every blocker; change nothing")
      .option(
        "--rollback",
        "undo a rotation that has not deleted the old slot: uncordon it, move pods back, delete the new slot",
      )
      .option("--max-draining <n>", "nodes draining at once (the rotation budget)", "10")
      .option(
        "--timeout <duration>",
        "bound on every wait (new nodes Ready, drain, pods Ready, slot deleted)",
        "30m",
      )
      .option("--stall-after <duration>", "report a pod held back this long (which pod, which budget)", "10s")
      .option(
        "--budget-timeout <duration>",
        "delete a tenant's pod its PodDisruptionBudget has held back this long, reported per pod (platform and system budgets are always waited for); 'never' waits forever",
        "15m",
      )
      .option("--force-unreplicated", "evict pods no controller re-creates (they are gone for good)")
      .option("--delete-emptydir-data", "evict pods with emptyDir volumes (their data is lost)")
      .option(
        "--no-surge",
        "evict single-replica Deployments' pods without starting a replacement first (downtime)",
      )
      .option(
        "--zone <zone>",
        "zone for the new slot (repeatable; default: the zones the current nodes use)",
        collect,
      )
      .option(
        "--no-target-health-check",
        "eks: do not confirm moved pods through elbv2 DescribeTargetHealth before deleting the old slot (their ALB readiness gates are still waited for)",
      )
      .option(
        "--cluster-dir <dir>",
        "local: the local cluster's directory (default: the directory of the kubeconfig, as tenkai local up writes it)",
      ),
  ).action((group: string, opts: RotateFlags) =>
    runAction(opts, async (io) => {
      // Flags first: a typo fails fast, before anything is loaded or contacted.
      const maxDraining = positiveInt("--max-draining", opts.maxDraining);
      const timeoutMs = parseDuration("--timeout", opts.timeout);
      const stallAfterMs = parseDuration("--stall-after", opts.stallAfter);
      const budgetTimeoutMs =
        opts.budgetTimeout === "never"
          ? Number.POSITIVE_INFINITY
          : parseDuration("--budget-timeout", opts.budgetTimeout);
      const { loadPlatform } = await import("../../spec/load.js");
      const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
      const platform = await loadPlatform(opts.file, opts.env ? { environment: opts.env } : {});
      const ng = platform.spec.nodeGroups.find((g) => g.name === group);
      if (!ng) {
        throw cliError(
          "CLI_UNKNOWN_NODE_GROUP",
          `node group "${group}" is not in ${opts.file}`,
          `use one of: ${platform.spec.nodeGroups.map((g) => g.name).join(", ")}`,
        );
      }
      const context = opts.context ?? (opts.env ? platform.environments[opts.env]?.context : undefined);
      const kubeConfig = loadKubeConfig({ context, kubeconfig: opts.kubeconfig });
      const { providerForGroup } = await import("../../providers/choose.js");
      const providerName = opts.provider ?? providerForGroup(platform, ng);
      const written = new Map<string, string>();
      const provider = await makeProvider(providerName, platform, kubeConfig, opts, io, (g, slot) =>
        written.set(g, slot),
      );
      const options = {
        group,
        slotTemplate: {
          group,
          instanceTypes: ng.instanceTypes,
          desired: ng.desired ?? ng.min,
          min: ng.min,
          max: ng.max,
          zones: opts.zone ?? [],
          kubernetesVersion: platform.spec.cluster.version,
          labels: ng.labels,
          taints: ng.taints,
          capacityType: ng.capacityType,
        },
        specActiveSlot: ng.activeSlot,
        maxDraining,
        timeoutMs,
        stallAfterMs,
        budgetTimeoutMs,
        forceUnreplicated: opts.forceUnreplicated ?? false,
        deleteEmptyDirData: opts.deleteEmptydirData ?? false,
        noSurge: !opts.surge,
        dryRun: opts.dryRun ?? false,
      };
      const { rotationCluster } = await import("../../rotation/cluster.js");
      const targetHealth =
        providerName === "eks" && opts.targetHealthCheck
          ? await elbv2TargetHealth(platform, kubeConfig, opts)
          : undefined;
      const deps = {
        cluster: rotationCluster(kubeConfig),
        provider,
        sink: io.sink,
        ...(targetHealth ? { targetHealth } : {}),
      };
      if (opts.rollback) {
        const { rollback } = await import("../../rotation/rollback.js");
        const r = await rollback(options, deps);
        io.result(r, (x) =>
          opts.dryRun
            ? `would roll back ${x.group} from phase ${x.phase}`
            : `${x.group}: rolled back; active slot ${x.activeSlot}`,
        );
        return 0;
      }
      const { rotate } = await import("../../rotation/rotate.js");
      const r = await rotate(options, deps);
      // The stack provider writes activeSlot itself (platform.yaml); otherwise the user does.
      const specSlot = written.get(group) ?? ng.activeSlot;
      io.result(r, (x) => renderResult(x, opts.dryRun ?? false, specSlot));
      return 0;
    }),
  );

  withOutput(
    nodes
      .command("status")
      .description("where each node group rotation stands (phase, slots, nodes drained, pods left)")
      .argument("[group]", "node group name (default: every group with a rotation record)")
      .option("--context <name>", "kubeconfig context")
      .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)"),
  ).action((group: string | undefined, opts: { output?: string; context?: string; kubeconfig?: string }) =>
    runAction(opts, async (io) => {
      const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
      const { rotationStatus } = await import("../../rotation/status.js");
      const { clientsFor } = await import("../../rotation/cluster.js");
      const list = await rotationStatus(
        clientsFor(loadKubeConfig({ context: opts.context, kubeconfig: opts.kubeconfig })),
        group,
      );
      io.result(list, (l) =>
        l.length === 0
          ? `no rotation recorded${group ? ` for ${group}` : ""}`
          : l
              .map(
                (s) =>
                  `${s.group}: ${s.phase}, active slot ${s.activeSlot} (${s.fromNodegroup} -> ${s.toNodegroup})\n` +
                  `  ${s.fromNodegroup}: ${s.live.fromNodes} node(s), ${s.live.fromCordoned} cordoned, ${s.live.podsLeft} workload pod(s) left\n` +
                  `  ${s.toNodegroup}: ${s.live.toNodes} node(s), ${s.live.toReady} Ready\n` +
                  `  drained ${s.nodesDone.length}/${s.blueNodes.length}; started ${s.startedAt}, updated ${s.updatedAt}${s.finishedAt ? `, finished ${s.finishedAt}` : ""}`,
              )
              .join("\n"),
      );
      return 0;
    }),
  );
}

function renderResult(
  r: {
    group: string;
    phase: string;
    activeSlot: string;
    ms: number;
    plan?: { blockers: readonly unknown[]; evict: readonly string[]; surge: readonly string[] };
  },
  dryRun: boolean,
  specSlot: string,
): string {
  if (dryRun) {
    return `dry run: ${r.group} would move ${r.plan?.evict.length ?? 0} pod(s), surge ${r.plan?.surge.length ?? 0} Deployment(s); nothing changed`;
  }
  const note =
    r.activeSlot !== specSlot ? `\nset activeSlot: ${r.activeSlot} for ${r.group} in platform.yaml` : "";
  return `${r.group}: active slot ${r.activeSlot} (${(r.ms / 1000).toFixed(1)} s)${note}`;
}

/** The flags a node provider is made from (shared by `nodes rotate` and `upgrade run`). */
export type ProviderFlags = AwsFlags & Pick<RotateFlags, "file" | "clusterDir" | "kubeconfig">;

/** The node provider `name` for the platform (providers/choose.ts decides the name). */
export async function makeProvider(
  name: string,
  platform: import("../../spec/schema.js").Platform,
  kubeConfig: import("@kubernetes/client-node").KubeConfig,
  opts: ProviderFlags,
  io: CommandIO,
  onSpecWritten: (group: string, slot: string) => void = () => {},
) {
  if (name === "kwok") {
    const { KwokNodeProvider } = await import("../../providers/kwok/index.js");
    const { taintKwokNodes } = await import("../../providers/choose.js");
    return new KwokNodeProvider({ kubeConfig, taintFakeNodes: taintKwokNodes(platform) });
  }
  if (name === "local") {
    const { LocalNodeProvider } = await import("../../providers/local/index.js");
    const { localClusterDir } = await import("../../local/cluster-dir.js");
    return new LocalNodeProvider({
      kubeConfig,
      clusterDir: localClusterDir({ clusterDir: opts.clusterDir, kubeconfig: opts.kubeconfig }),
    });
  }
  if (name !== "eks")
    throw cliError(
      "CLI_BAD_PROVIDER",
      `--provider must be eks, kwok or local, got "${name}"`,
      "pass --provider eks, --provider kwok or --provider local",
    );
  // One owner for node groups: the nodes stack. A slot is made and removed by deploying it.
  const [{ CloudFormationClient }, { StackNodeProvider }, { nodegroupNodeNames }, { clientConfig }] =
    await Promise.all([
      import("@aws-sdk/client-cloudformation"),
      import("../../providers/stack/index.js"),
      import("../../providers/slot-records.js"),
      import("../aws-steps.js"),
    ]);
  const specFile = /\.ya?ml$/i.test(opts.file) ? opts.file : undefined;
  return new StackNodeProvider({
    platform,
    cloudFormation: new CloudFormationClient(clientConfig(platform, opts)),
    ...(specFile ? { specFile } : {}),
    onActiveSlotWritten: (group, slot, file) => {
      onSpecWritten(group, slot);
      io.sink({
        time: new Date().toISOString(),
        level: "info",
        code: "rotation.spec.written",
        message: `${file}: activeSlot of ${group} set to ${slot} (the nodes stack holds only that slot now)`,
        data: { group, slot, file },
      });
    },
    sink: io.sink,
    ...(opts.profile ? { profile: opts.profile } : {}),
    nodeNames: nodegroupNodeNames(kubeConfig),
  });
}

/** elbv2 DescribeTargetHealth over the controller's TargetGroupBindings (providers/eks). */
async function elbv2TargetHealth(
  platform: import("../../spec/schema.js").Platform,
  kubeConfig: import("@kubernetes/client-node").KubeConfig,
  flags: AwsFlags,
) {
  const [{ ElasticLoadBalancingV2Client }, { Elbv2TargetHealth }, { clientConfig }] = await Promise.all([
    import("@aws-sdk/client-elastic-load-balancing-v2"),
    import("../../providers/eks/index.js"),
    import("../aws-steps.js"),
  ]);
  return new Elbv2TargetHealth({
    client: new ElasticLoadBalancingV2Client(clientConfig(platform, flags)),
    kubeConfig,
  });
}

export type { CommandIO };
