import type { Command } from "commander";
import { runAction, withOutput } from "../output.js";

export function register(program: Command): void {
  withOutput(
    program
      .command("plan")
      .description(
        "offline: write CloudFormation (CDK cloud assembly) and Kubernetes manifests, and summarise with a cost estimate",
      )
      .argument("<file>", "platform.yaml")
      .option(
        "--out <dir>",
        "output directory: tenkai makes and marks it, and replaces only what a plan writes there",
        "out/plan",
      )
      .option("-e, --env <name>", "plan this environment's overlay")
      .option("--no-cost", "skip the cost estimate"),
  ).action((file: string, opts: { output?: string; out: string; env?: string; cost: boolean }) =>
    runAction(opts, async (io) => {
      const { loadPlatform } = await import("../../spec/load.js");
      const { planPlatform } = await import("../../plan/plan.js");
      const { renderPlanSummary } = await import("../../plan/summary-text.js");
      const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
      const summary = await planPlatform(platform, {
        outDir: opts.out,
        protect: [file],
        skipCost: !opts.cost,
        // In json mode the result is one document: progress stays on stderr for people only.
        ...(io.format === "text" ? { sink: io.sink } : {}),
      });
      io.result(summary, renderPlanSummary);
    }),
  );
}
