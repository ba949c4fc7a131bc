/**
 * The `tenkai` command line. Commands are thin: each file under commands/ registers its options
 * and imports its engine lazily inside the action, so `tenkai --help` loads no AWS CDK, SDK or
 * Kubernetes client (cold start target: under 300 ms).
 */
import { Command } from "commander";
import { register as registerApply } from "./commands/apply.js";
import { register as registerDb } from "./commands/db.js";
import { register as registerDeploy } from "./commands/deploy.js";
import { register as registerDiff } from "./commands/diff.js";
import { register as registerInit } from "./commands/init.js";
import { register as registerLogs } from "./commands/logs.js";
import { register as registerNodes } from "./commands/nodes.js";
import { register as registerPlan } from "./commands/plan.js";
import { register as registerSchema } from "./commands/schema.js";
import { register as registerTenant } from "./commands/tenant.js";
import { register as registerValidate } from "./commands/validate.js";
import { register as registerVerify } from "./commands/verify.js";

export function buildProgram(): Command {
  const program = new Command("tenkai")
    .description("Build and operate a multi-tenant web platform on Amazon EKS from one platform.yaml")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
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
  registerDb(program);
  registerLogs(program);
  return program;
}
