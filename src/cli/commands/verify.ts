import type { Command } from "commander";
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
      .argument("<file>", "platform.yaml"),
  ).action((file: string, opts: ClusterFlags) =>
    runAction(opts, async (io) => {
      const { verifyIsolation } = await import("../../verify/isolation.js");
      const { formatIsolationReport } = await import("../../verify/report.js");
      const { platform, client, concurrency } = await connect(file, {
        ...opts,
        concurrency: opts.concurrency ?? "64",
      });
      try {
        const report = await verifyIsolation(platform, { client, concurrency, onEvent: (e) => io.event(e) });
        io.result(report, formatIsolationReport);
        return report.ok ? 0 : 1;
      } finally {
        client.close();
      }
    }),
  );
}
