/**
 * Isolation checks decided as data (STYLE.md 5): each answer from the server becomes a
 * `{ verdict, reason, message }` before anything is reported, so the CLI, JSON and tests read
 * the same facts. Pure.
 */
export type Verdict = "pass" | "breach" | "error";

export type CheckKind =
  | "cross-tenant"
  | "cluster-scoped"
  | "guard-write"
  | "anyone"
  | "admission"
  | "guard-present";

export interface IsolationCheck {
  readonly kind: CheckKind;
  /** Whose access is checked: `tenkai:<tenant>:<level>` or `system:authenticated`. */
  readonly identity: string;
  readonly tenant: string;
  /** Namespace checked, or `(cluster)`. */
  readonly target: string;
  /** What was asked, e.g. `create pods` or `privileged pod`. */
  readonly action: string;
  readonly verdict: Verdict;
  /** Stable code: DENIED, ALLOWED, REJECTED, ACCEPTED, NOT_APPLICABLE, PROBE_FAILED. */
  readonly reason: string;
  readonly message: string;
}

export interface SarStatus {
  readonly allowed?: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
  readonly evaluationError?: string;
}

/** A SubjectAccessReview that must come back not allowed. */
export function decideAccess(
  status: SarStatus,
  ctx: { identity: string; action: string; target: string },
): Pick<IsolationCheck, "verdict" | "reason" | "message"> {
  if (status.allowed) {
    const by = status.reason ? `: ${status.reason}` : "";
    return {
      verdict: "breach",
      reason: "ALLOWED",
      message: `${ctx.identity} may ${ctx.action} in ${ctx.target}${by}`,
    };
  }
  if (status.evaluationError && !status.denied) {
    // RBAC reports partial errors (e.g. a binding to a missing role) but still decides; only
    // count it when nothing was decided at all.
    return {
      verdict: "pass",
      reason: "DENIED",
      message: `${ctx.identity} may not ${ctx.action} in ${ctx.target} (evaluation note: ${status.evaluationError})`,
    };
  }
  return {
    verdict: "pass",
    reason: "DENIED",
    message: `${ctx.identity} may not ${ctx.action} in ${ctx.target}`,
  };
}

/**
 * What must have stopped a probe: a Pod Security violation, quota/limit, or a named policy. A pod
 * template breaking Pod Security is admitted with a warning (PSA enforces on pods only) and its
 * controller's pods are refused: `pod-security-warning` expects exactly that warning.
 */
export type Expectation =
  | { readonly by: "pod-security" }
  | { readonly by: "pod-security-warning" }
  | { readonly by: "quota" }
  | { readonly by: "policy"; readonly policy: string };

export interface ProbeAnswer {
  /** HTTP status of the dry-run create (2xx means accepted). */
  readonly status: number;
  readonly message: string;
  /** `Warning` headers of an accepted request. */
  readonly warnings?: readonly string[];
}

const MATCHERS: Record<Expectation["by"], (m: string, e: Expectation) => boolean> = {
  "pod-security": (m) => /violates PodSecurity/.test(m),
  "pod-security-warning": (m) => /violates PodSecurity/.test(m),
  quota: (m) => /exceeded quota|maximum (cpu|memory|ephemeral-storage) usage|must specify/.test(m),
  policy: (m, e) => e.by === "policy" && m.includes(`ValidatingAdmissionPolicy '${e.policy}'`),
};

/** A dry-run create that must be rejected, and rejected by the guard meant to reject it. */
export function decideProbe(
  answer: ProbeAnswer,
  expect: Expectation,
  ctx: {
    identity: string;
    action: string;
    target: string;
    /** Whether the identity's Role lets it create this kind at all. Default true. */
    mayCreate?: boolean;
  },
): Pick<IsolationCheck, "verdict" | "reason" | "message"> {
  const what = `${ctx.identity}: ${ctx.action} in ${ctx.target}`;
  const rbacRefused = /cannot create resource|is forbidden: User .* cannot/.test(answer.message);
  if (ctx.mayCreate === false) {
    if (answer.status >= 300 && rbacRefused)
      return {
        verdict: "pass",
        reason: "REFUSED_BY_RBAC",
        message: `${what} refused by RBAC (the level may not create it)`,
      };
    if (answer.status < 300)
      return {
        verdict: "breach",
        reason: "ACCEPTED",
        message: `${what} was accepted (server-side dry run), though its Role does not let it create this kind`,
      };
  }
  const warned = (answer.warnings ?? []).find((w) => /would violate PodSecurity/.test(w));
  if (answer.status < 300 && expect.by === "pod-security-warning" && warned) {
    return {
      verdict: "pass",
      reason: "WARNED",
      message: `${what} admitted with the Pod Security warning; its pods are refused: ${warned}`,
    };
  }
  if (answer.status < 300) {
    return {
      verdict: "breach",
      reason: "ACCEPTED",
      message: `${what} was accepted (server-side dry run); expected ${describe(expect)} to reject it`,
    };
  }
  if (MATCHERS[expect.by](answer.message, expect)) {
    return {
      verdict: "pass",
      reason: "REJECTED",
      message: `${what} rejected by ${describe(expect)}: ${answer.message}`,
    };
  }
  if (rbacRefused) {
    return {
      verdict: "error",
      reason: "PROBE_FAILED",
      message: `${what} could not be probed: RBAC refused the identity before admission (${answer.message})`,
    };
  }
  // Rejected, but by something else: still not accepted, yet the guard under test was not proven.
  return {
    verdict: "error",
    reason: "PROBE_FAILED",
    message: `${what} was rejected by something other than ${describe(expect)}: ${answer.message}`,
  };
}

function describe(e: Expectation): string {
  return e.by === "pod-security"
    ? "Pod Security Admission (restricted)"
    : e.by === "pod-security-warning"
      ? "a Pod Security Admission warning (restricted)"
      : e.by === "quota"
        ? "the ResourceQuota or LimitRange"
        : `ValidatingAdmissionPolicy ${e.policy}`;
}
