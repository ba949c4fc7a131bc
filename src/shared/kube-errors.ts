/**
 * The one reading of Kubernetes API errors, for both clients tenkai uses: its own (KubeApiError:
 * `status` and `reason` from the metav1.Status body) and @kubernetes/client-node's ApiException
 * (`code` is the HTTP status, `body` the Status as text or object). Callers branch on what this
 * returns, never on message text; error codes come from one table (ERROR_CODES `KUBE_API_*`).
 */
import type { ErrorCode } from "./errors.js";

/** metav1.Status reasons tenkai branches on (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason). */
export type KubeReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Invalid"
  | "TooManyRequests"
  | "InternalError"
  | "ServiceUnavailable"
  | "Timeout"
  | "Unknown";

export interface KubeErrorInfo {
  /** HTTP status; undefined for a failure with no answer (connection refused, reset, timeout). */
  readonly status: number | undefined;
  readonly reason: KubeReason;
  readonly code: ErrorCode;
  /** The Status `message`, or the error's own message. */
  readonly message: string;
  /** Whether waiting may fix it: throttling (429), server errors (5xx) and no answer at all. */
  readonly transient: boolean;
}

interface StatusBody {
  readonly reason?: string;
  readonly message?: string;
}

function statusBody(body: unknown): StatusBody | undefined {
  if (typeof body === "object" && body) return body as StatusBody;
  if (typeof body === "string" && body.startsWith("{")) {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The HTTP status of either client's error, or undefined. */
export function kubeStatus(err: unknown): number | undefined {
  const e = err as { status?: unknown; code?: unknown } | null | undefined;
  if (typeof e?.status === "number") return e.status;
  if (typeof e?.code === "number") return e.code;
  return undefined;
}

const REASON_BY_STATUS: Readonly<Record<number, KubeReason>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  410: "Gone",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

const CODE_BY_REASON: Readonly<Record<KubeReason, ErrorCode>> = {
  BadRequest: "KUBE_API_BAD_REQUEST",
  Unauthorized: "KUBE_API_UNAUTHORIZED",
  Forbidden: "KUBE_API_FORBIDDEN",
  NotFound: "KUBE_API_NOT_FOUND",
  AlreadyExists: "KUBE_API_ALREADY_EXISTS",
  Conflict: "KUBE_API_CONFLICT",
  Gone: "KUBE_API_GONE",
  Invalid: "KUBE_API_INVALID",
  TooManyRequests: "KUBE_API_TOO_MANY_REQUESTS",
  InternalError: "KUBE_API_SERVER_ERROR",
  ServiceUnavailable: "KUBE_API_SERVER_ERROR",
  Timeout: "KUBE_API_TIMEOUT",
  Unknown: "KUBE_API_ERROR",
};

function isReason(r: string): r is KubeReason {
  return Object.hasOwn(CODE_BY_REASON, r);
}

/** Reason and code for a status and the Status body's reason (which wins when it is a known one). */
export function kubeReason(
  status: number | undefined,
  reason?: string,
): { reason: KubeReason; code: ErrorCode } {
  const r: KubeReason =
    reason && isReason(reason)
      ? reason
      : status === undefined
        ? "Unknown"
        : (REASON_BY_STATUS[status] ?? (status >= 500 ? "InternalError" : "Unknown"));
  return { reason: r, code: CODE_BY_REASON[r] };
}

/** Reads any error from either client. Never throws. */
export function kubeError(err: unknown): KubeErrorInfo {
  const status = kubeStatus(err);
  const e = err as { reason?: unknown; body?: unknown; message?: unknown } | null | undefined;
  const body = statusBody(e?.body);
  const rawReason = typeof e?.reason === "string" && e.reason ? e.reason : body?.reason;
  const { reason, code } = kubeReason(status, rawReason);
  const message =
    body?.message ??
    (typeof e?.body === "string" && e.body ? e.body : undefined) ??
    (err instanceof Error ? err.message : String(err));
  const transient = status === undefined ? err instanceof Error : status === 429 || status >= 500;
  return { status, reason, code, message, transient };
}

/** The Status message of an error from either client (for wrapping with context). */
export function kubeMessage(err: unknown): string {
  return kubeError(err).message;
}

export const isNotFound = (err: unknown): boolean => kubeStatus(err) === 404;
