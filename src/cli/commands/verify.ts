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
  withCluster(
    verify
      .command("network")
      .description(
        "prove the data path with real packets: two probe pods on every real node (kwok nodes run none), every pair on the same node and across nodes, DNS to every CoreDNS pod and the kube-dns Service, a Service VIP, and with a spec each tenant's NetworkPolicies; compare with a baseline, churn, soak; exits 1 on any loss, naming nodes and pod pairs",
      )
      .argument("[file]", "platform.yaml (with it, each tenant namespace is probed too)")
      .option("--save-baseline <file>", "write this run's outcome as a baseline to compare later runs with")
      .option("--baseline <file>", "compare with a baseline written by --save-baseline; report what changed")
      .option("--churn", "delete and re-create probe set a on every node before probing (set b stands)")
      .option("--soak <duration>", "repeat the probes over this window (90s, 10m) and count failures"),
  ).action(
    (
      file: string | undefined,
      opts: ClusterFlags & {
        file?: string;
        saveBaseline?: string;
        baseline?: string;
        churn?: boolean;
        soak?: string;
      },
    ) =>
      runAction(opts, async (io) => {
        // Flags and files first: bad input exits 2 before the cluster is touched.
        const { readFile, writeFile } = await import("node:fs/promises");
        const { parseDuration } = await import("../duration.js");
        const { parseBaseline } = await import("../../verify/network/baseline.js");
        const soakMs = opts.soak !== undefined ? parseDuration("--soak", opts.soak) : 0;
        let baseline: import("../../verify/network/datapath-types.js").NetworkBaseline | undefined;
        if (opts.baseline) {
          const path = opts.baseline;
          const text = await readFile(path, "utf8").catch((err: unknown) => {
            throw new TenkaiError(
              "CLI_BAD_BASELINE",
              `cannot read ${path}: ${(err as Error).message}`,
              "pass a file written by tenkai verify network --save-baseline",
            );
          });
          baseline = parseBaseline(text, path);
        }
        const { loadKubeConfig } = await import("../../kube/api/kubeconfig.js");
        const { verifyNetwork } = await import("../../verify/network/datapath.js");
        const { formatNetworkVerification } = await import("../../verify/network/datapath-report.js");
        // The spec is optional here: without one (no -f and no platform.yaml in this directory) the
        // tenants' NetworkPolicies are not probed, and the run says so.
        const { existsSync } = await import("node:fs");
        const { DEFAULT_SPEC } = await import("../conventions.js");
        const noSpec = !file || (file === DEFAULT_SPEC && opts.file === undefined && !existsSync(file));
        if (noSpec)
          io.info(
            `no ${DEFAULT_SPEC} here and no -f: tenant NetworkPolicies are not probed (name the spec to probe them)`,
          );
        const platform = noSpec
          ? undefined
          : await (await import("../../spec/load.js")).loadPlatform(
              file,
              opts.env ? { environment: opts.env } : {},
            );
        const context = opts.context ?? (opts.env ? platform?.environments[opts.env]?.context : undefined);
        const v = await verifyNetwork({
          kubeConfig: loadKubeConfig({ context, kubeconfig: opts.kubeconfig }),
          ...(platform ? { spec: platform } : {}),
          ...(baseline ? { baseline } : {}),
          churn: !!opts.churn,
          soakSeconds: soakMs / 1000,
          sink: io.sink,
        });
        if (opts.saveBaseline) {
          await writeFile(opts.saveBaseline, `${JSON.stringify(v.baseline, null, 2)}\n`);
          io.info(`baseline written to ${opts.saveBaseline}`);
        }
        io.result(v, formatNetworkVerification);
        return v.ok ? 0 : 1;
      }),
  );
}
