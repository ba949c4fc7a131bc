/** `tenkai/verify`: proves against a live cluster that tenants cannot reach each other. */
export {
  type IsolationReport,
  type MatrixCell,
  type VerifyEvent,
  type VerifyIsolationOptions,
  verifyIsolation,
} from "./isolation.js";
export { parseBaseline } from "./network/baseline.js";
export { verifyNetwork } from "./network/datapath.js";
export type {
  BaselineDiff,
  DatapathChange,
  DatapathCheck,
  DatapathKind,
  DatapathLoss,
  NetworkBaseline,
  NetworkVerification,
  NetworkVerifyEvent,
  NetworkVerifyOptions,
} from "./network/datapath-types.js";
export { formatIsolationReport } from "./report.js";
