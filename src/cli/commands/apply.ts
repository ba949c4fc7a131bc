import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import type { Platform } from "../../spec/schema.js";
import {
  type AwsFlags,
  clientConfig,
  type ImageGateFlags,
  imageGateStep,
  withImageGate,
} from "../aws-steps.js";
import { parseDuration } from "../duration.js";
import { runAction, withOutput } from "../output.js";

export interface ClusterFlags {
  output?: string;
  context?: string;
  kubeconfig?: string;
  env?: string;
  concurrency?: string;
}

/** Adds the flags every cluster command shares. */
export function withCluster(cmd: Command): Command {
  return withOutput(
    cmd
      .option(
        "--context <name>",
        "kubeconfig context (default: the environment's context, else the current one)",
      )
      .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
      .option("-e, --env <name>", "use this environment's overlay and context")
      .option("--concurrency <n>", "requests in flight at once", "32"),
  );
}

/** Loads the spec (with its environment overlay) and a client for the chosen context. */
export async function connect(file: string, opts: ClusterFlags) {
  const { loadPlatform } = await import("../../spec/load.js");
  const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
  const { KubeClient } = await import("../../kube/api/client.js");
  const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
  const context = opts.context ?? (opts.env ? platform.environments[opts.env]?.context : undefined);
  const concurrency = Number(opts.concurrency ?? 32);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TenkaiError(
      "CLI_BAD_CONCURRENCY",
      `--concurrency must be a positive integer, got ${opts.concurrency}`,
      "pass --concurrency 32",
    );
  }
  const client = new KubeClient(loadKubeConfig({ context, kubeconfig: opts.kubeconfig }), {
    maxSockets: concurrency,
  });
  return { platform, client, concurrency };
}

export function register(program: Command): void {
  withImageGate(
    withCluster(
      program
        .command("apply")
        .description(
          "server-side apply the Kubernetes plane (ApplySet ownership, prune, ordered, waits for rollouts)",
        )
        .argument("<file>", "platform.yaml")
        .option("--dry-run", "server-side dry run: show what would change, change nothing")
        .option("--no-prune", "keep objects that left the spec")
        .option("--no-wait", "do not wait for rollouts")
        .option(
          "--timeout <duration>",
          "how long to wait for rollouts (90s, 5m, 1h; plain numbers are seconds)",
          "5m",
        )
        .option("--force-conflicts", "take over fields other managers own on objects tenkai does not own yet")
        .option(
          "--vpc-id <id>",
          "the cluster's VPC for the AWS Load Balancer Controller (default on target aws: read with eks:DescribeCluster)",
        ),
    ),
  ).action(
    (
      file: string,
      opts: ClusterFlags &
        ImageGateFlags & {
          dryRun?: boolean;
          prune: boolean;
          wait: boolean;
          timeout: string;
          forceConflicts?: boolean;
          vpcId?: string;
        },
    ) =>
      runAction(opts, async (io) => {
        const { applyPlatform } = await import("../../kube/api/apply.js");
        const { platform, client, concurrency } = await connect(file, opts);
        try {
          await imageGateStep(platform, opts, io);
          const vpcId =
            opts.vpcId ?? (platform.spec.target === "aws" ? await clusterVpcId(platform, opts) : undefined);
          const result = await applyPlatform(platform, {
            client,
            ...(vpcId ? { vpcId } : {}),
            concurrency,
            dryRun: opts.dryRun ?? false,
            prune: opts.prune,
            wait: opts.wait,
            waitTimeoutMs: parseDuration("--timeout", opts.timeout),
            forceConflicts: opts.forceConflicts ?? false,
            sink: (e) => {
              // People see what changed; scripts get every event.
              if (io.format === "json" || e.code !== "apply.object" || e.data.outcome !== "unchanged")
                io.sink(e);
            },
          });
          io.result(result, (r) => {
            const s = r.summary;
            return `${s.dryRun ? "dry run: " : ""}${s.created} created, ${s.configured} configured, ${s.unchanged} unchanged, ${s.pruned} pruned (${s.total} objects, ${(s.durationMs / 1000).toFixed(1)} s, context ${client.context})`;
          });
          return 0;
        } finally {
          client.close();
        }
      }),
  );
}

/**
 * The VPC of the platform's EKS cluster, from the AWS plane (EKS DescribeCluster), or undefined
 * when it cannot be read (apply then says what is missing, only if it needs it).
 */
export async function clusterVpcId(platform: Platform, flags: AwsFlags): Promise<string | undefined> {
  const { EKSClient, DescribeClusterCommand } = await import("@aws-sdk/client-eks");
  const { clusterName } = await import("../../shared/aws-names.js");
  const eks = new EKSClient(clientConfig(platform, flags));
  try {
    const out = await eks.send(new DescribeClusterCommand({ name: clusterName(platform) }));
    return out.cluster?.resourcesVpcConfig?.vpcId;
  } catch {
    return undefined;
  } finally {
    eks.destroy();
  }
}
