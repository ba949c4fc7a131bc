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
        "prove tenants cannot reach each other: access reviews over every resource and verb, and impersonated dry-run creates that must be rejected; exits 1 on any breach",
      )
      .argument("<file>", "platform.yaml")
      .option(
        "--mode <mode>",
        "auto, exhaustive (every resource and verb everywhere) or targeted (full sweeps where bindings name a tenant, samples elsewhere)",
        "auto",
      ),
  ).action((file: string, opts: ClusterFlags & { mode: string }) =>
    runAction(opts, async (io) => {
      const { verifyIsolation } = await import("../../verify/isolation.js");
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
        const report = await verifyIsolation(platform, {
          client,
          concurrency,
          mode,
          sink: io.sink,
        });
        io.result(report, formatIsolationReport);
        return report.ok ? 0 : 1;
      } finally {
        client.close();
      }
    }),
  );
}
