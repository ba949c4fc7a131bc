/** `tenkai/verify`: proves against a live cluster that tenants cannot reach each other. */
export {
  type IsolationReport,
  type MatrixCell,
  type VerifyEvent,
  type VerifyIsolationOptions,
  verifyIsolation,
} from "./isolation.js";
export { formatIsolationReport } from "./report.js";
