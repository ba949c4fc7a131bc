/**
 * What `tenkai upgrade plan` and `tenkai upgrade run` share: the target and where the cluster is
 * (`--to`, `-f`, `-e`, `--context`, `--kubeconfig`), how `--to` is checked, and which kubeconfig
 * context an environment means.
 */
import type { Command } from "commander";
import { type ErrorCode, TenkaiError } from "../../shared/errors.js";
import type { Platform } from "../../spec/schema.js";

export interface UpgradeTargetFlags {
  output?: string;
  to?: string;
  file: string;
  env?: string;
  context?: string;
  kubeconfig?: string;
}

export function cliError(code: ErrorCode, message: string, fix: string, cause?: unknown): TenkaiError {
  return new TenkaiError(code, message, fix, cause === undefined ? undefined : { cause });
}

/** `--to`, `-f`, `-e`, `--context`, `--kubeconfig`, worded alike on both commands. */
export function withUpgradeTarget(cmd: Command, example: string): Command {
  return cmd
    .option("--to <version>", `target Kubernetes minor, e.g. ${example}`)
    .option("-f, --file <file>", "platform.yaml", "platform.yaml")
    .option("-e, --env <name>", "use this environment's overlay and context")
    .option(
      "--context <name>",
      "kubeconfig context (default: the environment's context, else the current one)",
    )
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)");
}

/**
 * `--to` as given: required, a minor like 1.36.
 * @throws TenkaiError `CLI_MISSING_TO`, `CLI_BAD_VERSION` (exit 2).
 */
export function requireTarget(to: string | undefined, example: string): string {
  if (!to) throw cliError("CLI_MISSING_TO", "--to is required", `pass --to 1.N, e.g. --to ${example}`);
  if (!/^v?1\.\d+$/.test(to.trim()))
    throw cliError(
      "CLI_BAD_VERSION",
      `--to must be a Kubernetes minor like ${example}, got "${to}"`,
      `pass --to ${example}`,
    );
  return to;
}

/** `--context`, else the environment's context in the spec, else the kubeconfig's current one. */
export function contextFor(platform: Platform, opts: UpgradeTargetFlags): string | undefined {
  return opts.context ?? (opts.env ? platform.environments[opts.env]?.context : undefined);
}
