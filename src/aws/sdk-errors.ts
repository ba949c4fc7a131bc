/**
 * AWS SDK errors of tenkai's own API calls (image gate, tenant databases, logs) as TenkaiErrors
 * with a stable code and a fix: no credentials, access denied, anything else kept as the cause.
 */
import { TenkaiError } from "../shared/errors.js";

const NO_CREDENTIALS_FIX =
  "sign in to that account (aws sso login --profile <name>, then pass --profile <name> or set AWS_PROFILE; or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then run the command again";

export function isAccessDenied(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name ?? "";
  return /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|UnrecognizedClientException)$/.test(
    name,
  );
}

/** Wraps an SDK error of `what` (e.g. "look up images in ECR"); TenkaiErrors pass through. */
export function awsCallError(err: unknown, what: string): Error {
  if (err instanceof TenkaiError) return err;
  const name = (err as { name?: string } | undefined)?.name ?? "";
  const message = err instanceof Error ? err.message : String(err);
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message))
    return new TenkaiError(
      "AWS_NO_CREDENTIALS",
      `cannot ${what}: no AWS credentials (${message})`,
      NO_CREDENTIALS_FIX,
      {
        cause: err,
      },
    );
  if (isAccessDenied(err))
    return new TenkaiError(
      "AWS_ACCESS_DENIED",
      `cannot ${what}: access denied (${message})`,
      "run it with a role that the platform's policies allow this, or ask the platform team",
      { cause: err },
    );
  return new TenkaiError("AWS_CALL_FAILED", `cannot ${what}: ${message}`, "check the cause, then run again", {
    cause: err,
  });
}
