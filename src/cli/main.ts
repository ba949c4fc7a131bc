/**
 * The `tenkai` command line. Commands are thin: each file under commands/ registers its options
 * and imports its engine lazily inside the action, so `tenkai --help` loads no AWS CDK, SDK or
 * Kubernetes client (cold start target: under 300 ms).
 */
import { Command, CommanderError } from "commander";
import { register as registerApply } from "./commands/apply.js";
import { register as registerCompletion } from "./commands/completion.js";
import { register as registerDb } from "./commands/db.js";
import { register as registerDeploy } from "./commands/deploy.js";
import { register as registerDiff } from "./commands/diff.js";
import { register as registerInit } from "./commands/init.js";
import { register as registerLocal } from "./commands/local.js";
import { register as registerLogs } from "./commands/logs.js";
import { register as registerNodes } from "./commands/nodes.js";
import { register as registerPlan } from "./commands/plan.js";
import { register as registerSchema } from "./commands/schema.js";
import { register as registerTenant } from "./commands/tenant.js";
import { register as registerUpgrade } from "./commands/upgrade.js";
import { register as registerValidate } from "./commands/validate.js";
import { register as registerVerify } from "./commands/verify.js";
import { applyConventions } from "./conventions.js";

export function buildProgram(): Command {
  const program = new Command("tenkai")
    .description("Build and operate a multi-tenant web platform on Amazon EKS from one platform.yaml")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    // Usage errors are bad input: exit 2, not commander's 1 (runCli maps them). Subcommands
    // inherit this when they are created, so it comes before any is registered.
    .exitOverride();
  // In the order a platform team meets them: write the spec, plan, deploy, apply, operate.
  registerInit(program);
  registerValidate(program);
  registerSchema(program);
  registerPlan(program);
  registerDeploy(program);
  registerDiff(program);
  registerApply(program);
  registerVerify(program);
  registerTenant(program);
  registerNodes(program);
  registerLocal(program);
  registerDb(program);
  registerLogs(program);
  registerUpgrade(program);
  registerCompletion(program);
  applyConventions(program);
  return program;
}

/**
 * Runs the CLI on `argv` and sets `process.exitCode`: 0 for help and version, 2 for usage errors
 * (unknown command or option, missing argument, bad flag value), which commander has already
 * printed once on stderr.
 */
export async function runCli(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  }
}
