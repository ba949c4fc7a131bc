/**
 * `tenkai/rotation`: blue/green node group rotation. Decides first (a plan with every blocker),
 * then acts through a node provider; resumable from the state it records in the cluster.
 */
export { rollback } from "./rollback.js";
export { type RotationResult, rotate } from "./rotate.js";
export { type RotationStatus, rotationStatus } from "./status.js";
export type {
  Blocker,
  RotationDeps,
  RotationEvent,
  RotationOptions,
  RotationPhase,
  RotationPlan,
  RotationState,
} from "./types.js";
