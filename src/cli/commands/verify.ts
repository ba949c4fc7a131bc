import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { runAction } from "../output.js";
import { type ClusterFlags, connect, withCluster } from "./apply.js";

export function register(program: Command): void {
  const verify = program.command("verify").description("check a live cluster against the spec");
  withCluster(
    verify
      .command("isolation")
      .description(
        "prove tenants cannot reach each other: access reviews over every resource and verb, impersonated dry-run creates that must be rejected, and (on real nodes) connections between tenants' pods, Services, nodes and the metadata address that must fail; exits 1 on any breach",
      )
      .argument("<file>", "platform.yaml")
      .option(
        "--checks <list>",
        "access (RBAC and admission), network (real connections between tenants' pods; needs real nodes, skipped without them unless named alone), or both",
        "access,network",
      )
      .option(
        "--mode <mode>",
        "auto, exhaustive (every resource and verb everywhere) or targeted (full sweeps where bindings name a tenant, samples elsewhere)",
        "auto",
      ),
  ).action((file: string, opts: ClusterFlags & { mode: string; checks: string }) =>
    runAction(opts, async (io) => {
      // Flags first: a typo fails before the spec or the cluster is touched.
      const { parseChecks, networkChecks } = await import("../../verify/network/run.js");
      const { formatNetworkReport } = await import("../../verify/network/report.js");
      const checks = parseChecks(opts.checks);
      const { verifyIsolation } = await import("../../verify/isolation.js");
      const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
      const { formatIsolationReport } = await import("../../verify/report.js");
      const { platform, client, concurrency } = await connect(file, {
        ...opts,
        concurrency: opts.concurrency ?? "64",
      });
      try {
        if (!["auto", "exhaustive", "targeted"].includes(opts.mode)) {
          throw new TenkaiError(
            "CLI_BAD_MODE",
            `--mode must be auto, exhaustive or targeted, got ${opts.mode}`,
            "pass --mode auto",
          );
        }
        const mode = opts.mode as "auto" | "exhaustive" | "targeted";
        const report = checks.access
          ? await verifyIsolation(platform, {
              client,
              concurrency,
              mode,
              sink: io.sink,
            })
          : undefined;
        const network = checks.network
          ? await networkChecks({
              platform,
              kubeConfig: loadKubeConfig({
                context: opts.context ?? (opts.env ? platform.environments[opts.env]?.context : undefined),
                kubeconfig: opts.kubeconfig,
              }),
              required: !checks.access,
              sink: io.sink,
            })
          : undefined;
        io.result({ ...report, ...(network ? { network } : {}) }, () =>
          [
            report ? formatIsolationReport(report) : "",
            network?.skipped ?? "",
            network?.report ? formatNetworkReport(network.report) : "",
          ]
            .filter((x) => x)
            .join("\n"),
        );
        return (report?.ok ?? true) && (network?.ok ?? true) ? 0 : 1;
      } finally {
        client.close();
      }
    }),
  );
}
