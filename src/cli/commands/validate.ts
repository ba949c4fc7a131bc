import type { Command } from "commander";
import { runAction, withOutput } from "../output.js";

export function register(program: Command): void {
  withOutput(
    program
      .command("validate")
      .description("check a platform spec: every problem with file:line:col, field, and how to fix it")
      .argument("<file>", "platform.yaml")
      .option("-e, --env <name>", "validate with this environment's overlay applied"),
  ).action((file: string, opts: { output?: string; env?: string }) =>
    runAction(opts, async (io) => {
      const { validateFile } = await import("../../spec/load.js");
      const { formatProblem } = await import("../../spec/problems.js");
      const result = await validateFile(file, opts.env ? { environment: opts.env } : {});
      const errors = result.problems.filter((p) => p.severity === "error").length;
      const warnings = result.problems.length - errors;
      io.result({ file, valid: errors === 0, errors, warnings, problems: result.problems }, (r) =>
        [
          ...r.problems.map(formatProblem),
          r.valid
            ? `${file}: valid${warnings ? ` (${warnings} warning${warnings === 1 ? "" : "s"})` : ""}`
            : `${file}: ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`,
        ].join("\n"),
      );
      return errors === 0 ? 0 : 2;
    }),
  );
}
