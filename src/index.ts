/**
 * tenkai as a library: the commands are thin wrappers over these. Heavy planes (AWS CDK, the
 * Kubernetes client) are subpath exports of their own, so importing this stays cheap:
 * `tenkai/aws`, `tenkai/kube`, `tenkai/rotation`, `tenkai/verify`, `tenkai/upgrade`, `tenkai/providers/eks`,
 * `tenkai/providers/kwok` (package.json `exports`; test/cli/exports.test.ts checks each one).
 */
export { type CostEstimate, estimateMonthlyCost } from "./plan/cost.js";
export { type PlanOptions, type PlanSummary, planPlatform } from "./plan/plan.js";
export * from "./providers/node-provider.js";
export { isTenkaiError, TenkaiError } from "./shared/errors.js";
export type { AwsPlaneSynthesis, KubeObject, KubernetesPlane } from "./shared/planes.js";
export { definePlatform } from "./spec/define.js";
export { platformJsonSchema } from "./spec/json-schema.js";
export {
  type LoadOptions,
  type LoadResult,
  loadPlatform,
  validateFile,
  validateObject,
  validateText,
} from "./spec/load.js";
export { formatProblem, SpecError, type SpecProblem } from "./spec/problems.js";
export type {
  CronJob,
  FargateProfile,
  NodeGroup,
  Platform,
  PlatformInput,
  Service,
  Tenant,
} from "./spec/schema.js";
