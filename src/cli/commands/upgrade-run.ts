/**
 * `tenkai upgrade run --to 1.N [-e ENV]`: a thin command over the upgrade run (src/upgrade/run.ts).
 * It composes the engine's dependencies: the control plane (local: cluster/control-plane.sh; aws:
 * EKS UpdateClusterVersion), add-ons, each node group's provider (providers/choose.ts), the
 * verification, and where the environment before this one recorded what it passed.
 */
import type { Command } from "commander";
import { type AwsFlags, clientConfig } from "../aws-steps.js";
import { parseDuration } from "../duration.js";
import { runAction, withOutput } from "../output.js";
import {
  cliError,
  contextFor,
  requireTarget,
  type UpgradeTargetFlags,
  withUpgradeTarget,
} from "./upgrade-flags.js";

interface RunFlags extends AwsFlags, UpgradeTargetFlags {
  dryRun?: boolean;
  timeout: string;
  maxDraining: string;
  budgetTimeout: string;
  surge: boolean;
  clusterDir?: string;
  verifyNetwork: boolean;
  soak: string;
}

export function registerRun(upgrade: Command): void {
  withOutput(
    withUpgradeTarget(
      upgrade
        .command("run")
        .description(
          "upgrade to --to, one control-plane minor at a time: a data-path baseline, add-ons that must move first, the control plane, add-ons after it, every node group by blue/green rotation onto the new version, then the verification against the baseline; resumable (state in tenkai-system/upgrade-run), staging first (promotesTo)",
        ),
      "1.36",
    )
      .option("--dry-run", "print the steps and check the gates that would hold the run; change nothing")
      .option("--timeout <duration>", "bound on every step and every wait inside one", "30m")
      .option("--max-draining <n>", "nodes draining at once in each rotation", "10")
      .option(
        "--budget-timeout <duration>",
        "rotations delete a tenant's pod its PodDisruptionBudget has held back this long; 'never' waits forever",
        "15m",
      )
      .option("--no-surge", "rotations evict single-replica Deployments without a surge replica (downtime)")
      .option(
        "--cluster-dir <dir>",
        "local: the local cluster's directory (default: the directory of the kubeconfig)",
      )
      .option(
        "--no-verify-network",
        "local: skip the data path (by default: a baseline of `tenkai verify network` before the first step, and after the last one the same probes after churn and a soak, compared with it)",
      )
      .option("--soak <duration>", "local: how long the verification after the last step probes", "30s"),
  ).action((opts: RunFlags) =>
    runAction(opts, async (io) => {
      const to = requireTarget(opts.to, "1.36");
      const timeoutMs = parseDuration("--timeout", opts.timeout);
      const soakSeconds = parseDuration("--soak", opts.soak) / 1000;
      const maxDraining = Number(opts.maxDraining);
      if (!Number.isInteger(maxDraining) || maxDraining < 1)
        throw cliError(
          "CLI_BAD_NUMBER",
          `--max-draining must be a positive integer, got "${opts.maxDraining}"`,
          "pass --max-draining 10",
        );
      const budgetTimeoutMs =
        opts.budgetTimeout === "never"
          ? Number.POSITIVE_INFINITY
          : parseDuration("--budget-timeout", opts.budgetTimeout);

      const { loadPlatform } = await import("../../spec/load.js");
      const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
      const { KubeClient } = await import("../../kube/api/client.js");
      const { CoreV1Api } = await import("@kubernetes/client-node");
      const platform = await loadPlatform(opts.file, opts.env ? { environment: opts.env } : {});
      const contextOf = (env: string) => platform.environments[env]?.context;
      const kubeConfig = loadKubeConfig({ context: contextFor(platform, opts), kubeconfig: opts.kubeconfig });
      const { rotationCluster, clientsFor } = await import("../../rotation/cluster.js");
      const { providerForGroup } = await import("../../providers/choose.js");
      const { makeProvider } = await import("./nodes.js");
      const { KubePromotionRecords } = await import("../../upgrade/promotion.js");
      const { clusterHealthVerify } = await import("../../upgrade/verify-cluster.js");
      const { allOf, datapathBaseline, datapathVerify } = await import("../../upgrade/verify-datapath.js");
      const { runUpgrade } = await import("../../upgrade/run.js");

      let controlPlane: import("../../upgrade/run-types.js").ControlPlaneDriver;
      let addons: import("../../upgrade/run-types.js").AddonDriver;
      if (platform.spec.target === "local") {
        const { LocalControlPlane, localAddons } = await import("../../upgrade/control-plane-local.js");
        const { localClusterDir } = await import("../../local/cluster-dir.js");
        controlPlane = new LocalControlPlane({
          kubeConfig,
          clusterDir: localClusterDir({ clusterDir: opts.clusterDir, kubeconfig: opts.kubeconfig }),
          onProgress: (line) => io.info(line),
        });
        addons = localAddons;
      } else {
        const { EKSClient } = await import("@aws-sdk/client-eks");
        const { EksControlPlane, EksAddons } = await import("../../upgrade/control-plane-eks.js");
        const { clusterName } = await import("../../shared/aws-names.js");
        const eks = {
          client: new EKSClient(clientConfig(platform, opts)),
          clusterName: clusterName(platform),
        };
        controlPlane = new EksControlPlane(eks);
        addons = new EksAddons(eks);
      }
      const planClient = new KubeClient(kubeConfig, { maxSockets: 16 });
      const datapath =
        platform.spec.target === "local" && opts.verifyNetwork
          ? { kubeConfig, platform, soakSeconds, sink: io.sink }
          : undefined;
      const clients = clientsFor(kubeConfig);
      try {
        const r = await runUpgrade(
          {
            platform,
            to,
            specFile: opts.file,
            ...(opts.env ? { environment: opts.env } : {}),
            dryRun: opts.dryRun ?? false,
            timeoutMs,
            rotation: { maxDraining, budgetTimeoutMs, noSurge: !opts.surge },
          },
          {
            cluster: rotationCluster(kubeConfig),
            planClient,
            controlPlane,
            addons,
            providerFor: (group) => {
              const ng = platform.spec.nodeGroups.find((g) => g.name === group);
              if (!ng)
                throw cliError(
                  "CLI_UNKNOWN_NODE_GROUP",
                  `node group "${group}" is not in ${opts.file}`,
                  "run upgrade plan again",
                );
              return makeProvider(providerForGroup(platform, ng), platform, kubeConfig, opts, io);
            },
            // The cluster came back whole (verify-cluster.ts), then on the local target the data
            // path (`tenkai verify network`): a baseline before the first step, and after the last
            // the probes after churn and a soak, compared with it (verify-datapath.ts). A kwok-only
            // cluster says it was not probed. On EKS the probe image is not in the platform's
            // registry, so only the health check runs there (README).
            ...(datapath ? { baseline: datapathBaseline(datapath) } : {}),
            verify: datapath
              ? allOf(
                  clusterHealthVerify(clients, () => controlPlane.version()),
                  datapathVerify(datapath),
                )
              : clusterHealthVerify(clients, () => controlPlane.version()),
            promotions: new KubePromotionRecords({
              environment: opts.env,
              core: clients.core,
              coreFor: (env) =>
                loadKubeConfig({ context: contextOf(env), kubeconfig: opts.kubeconfig }).makeApiClient(
                  CoreV1Api,
                ),
              contextOf,
            }),
            sink: (e) => {
              if (io.format === "json" || e.level !== "debug") io.sink(e);
            },
          },
        );
        io.result(r, (x) => {
          const lines = x.steps.map((s, i) => `${String(i + 1).padStart(2)}. [${s.status}] ${s.title}`);
          const head =
            x.phase === "planned"
              ? `dry run: upgrade ${x.from} → ${x.target} in ${x.steps.length} step(s); nothing changed`
              : `upgraded ${x.from} → ${x.target}: control plane ${x.version} (${(x.ms / 1000).toFixed(1)} s)${x.resumed ? ", resumed" : ""}`;
          const v = x.verification ? `\nverification: ${x.verification.summary}` : "";
          return `${head}\n${lines.join("\n")}${v}`;
        });
        return 0;
      } finally {
        planClient.close();
      }
    }),
  );
}
