/**
 * The `tenkai` command line. Commands are thin: each file under commands/ registers its options
 * and imports its engine lazily inside the action, so `tenkai --help` loads no AWS CDK, SDK or
 * Kubernetes client (cold start target: under 300 ms).
 */
import { Command } from "commander";
// --- command registrations from other modules (one import each) ---
import { register as registerApply } from "./commands/apply.js";
import { register as registerDeploy } from "./commands/deploy.js";
import { register as registerDiff } from "./commands/diff.js";
import { register as registerInit } from "./commands/init.js";
import { register as registerPlan } from "./commands/plan.js";
import { register as registerSchema } from "./commands/schema.js";
import { register as registerTenant } from "./commands/tenant.js";
import { register as registerValidate } from "./commands/validate.js";
import { register as registerVerify } from "./commands/verify.js";
import { register as registerNodes } from "./commands/nodes.js";
// --- end of command registrations ---

export function buildProgram(): Command {
  const program = new Command("tenkai")
    .description("Build and operate a multi-tenant web platform on Amazon EKS from one platform.yaml")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)");
  registerInit(program);
  registerValidate(program);
  registerPlan(program);
  registerSchema(program);
  registerDiff(program);
  // --- register calls from other modules (one line each) ---
  registerApply(program);
  registerTenant(program);
  registerVerify(program);
  registerDeploy(program);
  registerNodes(program);
  // --- end of register calls ---
  return program;
}
