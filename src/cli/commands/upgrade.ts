/**
 * `tenkai upgrade plan --to 1.N [-e ENV] [PATH...]`: a thin command over the upgrade planner
 * (src/upgrade). Exit 0 clear, 1 blockers, 2 bad input. The engine is imported lazily so
 * `tenkai --help` stays fast.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import { isTenkaiError } from "../../shared/errors.js";
import { type AwsFlags, clientConfig } from "../aws-steps.js";
import { runAction, withOutput } from "../output.js";
import {
  cliError,
  contextFor,
  requireTarget,
  type UpgradeTargetFlags,
  withUpgradeTarget,
} from "./upgrade-flags.js";
import { registerRun } from "./upgrade-run.js";

interface PlanFlags extends AwsFlags, UpgradeTargetFlags {
  offline?: boolean;
  playbook?: string;
  force?: boolean;
  kubectlVersion?: string;
  surge: boolean;
  addons?: string;
  eksAddons?: boolean;
  pageSize: string;
}

/** The operator's kubectl, when one is on PATH. */
function detectKubectl(): string | undefined {
  const r = spawnSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8", timeout: 5000 });
  if (r.status !== 0) return undefined;
  try {
    return (JSON.parse(r.stdout) as { clientVersion?: { gitVersion?: string } }).clientVersion?.gitVersion;
  } catch {
    return undefined;
  }
}

export function register(program: Command): void {
  const upgrade = program
    .command("upgrade")
    .description(
      "Kubernetes version upgrades: plan (removed APIs, skew, add-ons, blockers, EKS caveats) and run (ordered, resumable, staging first)",
    );
  registerRun(upgrade);

  withOutput(
    withUpgradeTarget(
      upgrade
        .command("plan")
        .description(
          "plan an upgrade to --to: removed and deprecated APIs (live objects incl. last-applied and managed fields, Helm releases, the platform's manifests, PATHs), version skew, add-ons, what would block the node rotations, EKS caveats, and the ordered steps; exit 0 clear, 1 blockers, 2 bad input",
        )
        .argument("[paths...]", "manifest files or directories to check as well"),
      "1.37",
    )
      .option(
        "--offline",
        "do not contact the cluster: plan from the spec's version, its manifests and PATHs",
      )
      .option("--playbook <file>", "also write the ordered steps as a Markdown playbook")
      .option("--force", "let --playbook overwrite a file tenkai did not write")
      .option("--kubectl-version <version>", "the kubectl the upgrade will use (default: the one on PATH)")
      .option("--no-surge", "plan rotations that evict single-replica Deployments without a surge replica")
      .option("--addons <file>", "add-on table to use instead of data/eks-addons.json (same shape)")
      .option(
        "--eks-addons",
        "ask EKS DescribeAddonVersions for the EKS add-on versions (needs AWS credentials; falls back to the table)",
      )
      .option("--page-size <n>", "objects per list request", "500"),
  ).action((paths: string[], opts: PlanFlags) =>
    runAction(opts, async (io) => {
      // Flags first: a typo fails fast, before anything is loaded or contacted.
      const to = requireTarget(opts.to, "1.37");
      const pageSize = Number(opts.pageSize);
      if (!Number.isInteger(pageSize) || pageSize < 1)
        throw cliError(
          "CLI_BAD_NUMBER",
          `--page-size must be a positive integer, got "${opts.pageSize}"`,
          "pass --page-size 500",
        );
      for (const p of paths)
        if (!existsSync(p))
          throw cliError(
            "CLI_BAD_PATH",
            `${p}: no such file or directory`,
            "pass existing manifest files or directories",
          );
      if (opts.playbook && existsSync(opts.playbook) && !opts.force) {
        const { PLAYBOOK_MARKER } = await import("../../upgrade/report.js");
        if (!readFileSync(opts.playbook, "utf8").startsWith(PLAYBOOK_MARKER))
          throw cliError(
            "CLI_FILE_EXISTS",
            `${opts.playbook} exists and was not written by tenkai`,
            "pass another --playbook path, or --force to overwrite it",
          );
      }
      let addons: import("../../upgrade/addons.js").AddonTable | undefined;
      if (opts.addons) {
        try {
          addons = JSON.parse(readFileSync(opts.addons, "utf8"));
        } catch (cause) {
          throw cliError(
            "CLI_BAD_ADDONS",
            `${opts.addons}: not a readable JSON add-on table`,
            "pass a file shaped like data/eks-addons.json",
            cause,
          );
        }
      }
      const { loadPlatform } = await import("../../spec/load.js");
      const platform = await loadPlatform(opts.file, opts.env ? { environment: opts.env } : {});
      let client: import("../../kube/api/client.js").KubeClient | undefined;
      if (!opts.offline) {
        const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
        const { KubeClient } = await import("../../kube/api/client.js");
        client = new KubeClient(
          loadKubeConfig({ context: contextFor(platform, opts), kubeconfig: opts.kubeconfig }),
          { maxSockets: 16 },
        );
      }
      const kubectlVersion = opts.kubectlVersion ?? detectKubectl();
      const { planUpgrade } = await import("../../upgrade/plan.js");
      const { formatPlanTable, formatPlaybook } = await import("../../upgrade/report.js");
      try {
        const plan = await planUpgrade(
          {
            platform,
            to,
            paths,
            specFile: opts.file,
            pageSize,
            ...(opts.env ? { environment: opts.env } : {}),
            ...(kubectlVersion ? { kubectlVersion } : {}),
            ...(opts.surge ? {} : { noSurge: true }),
            ...(addons ? { addons, addonSource: opts.addons } : {}),
            ...(opts.eksAddons
              ? {
                  addonLookup: async (
                    table: import("../../upgrade/addons.js").AddonTable,
                    path: readonly string[],
                  ) => {
                    const { EKSClient } = await import("@aws-sdk/client-eks");
                    const { eksAddonTable } = await import("../../upgrade/addons-eks.js");
                    return eksAddonTable(new EKSClient(clientConfig(platform, opts)), table, path);
                  },
                }
              : {}),
          },
          {
            ...(client ? { client } : {}),
            sink: (e) => {
              // People see progress per type and the blockers; scripts get every event.
              if (io.format === "json" || e.level !== "debug") io.sink(e);
            },
          },
        ).catch((err: unknown) => {
          // A target behind the cluster is known only once the cluster answered; it is still bad input.
          if (isTenkaiError(err, "UPGRADE_TARGET_BEHIND"))
            throw cliError("CLI_TARGET_BEHIND", err.message, err.fix ?? "pass a later --to", err);
          throw err;
        });
        if (opts.playbook) {
          writeFileSync(opts.playbook, formatPlaybook(plan, new Date()));
          io.info(`playbook written to ${opts.playbook}`);
        }
        io.result(plan, formatPlanTable);
        return plan.counts.blocker > 0 ? 1 : 0;
      } finally {
        client?.close();
      }
    }),
  );
}
