/**
 * Typed errors that callers branch on by `code`, never by message text (STYLE.md 2 and 3).
 * Every error says how to fix it; ids travel in fields, not only in the message.
 */
export class TenkaiError extends Error {
  override name = "TenkaiError";
  constructor(
    /** Stable code, e.g. `SPEC_INVALID`. */
    readonly code: string,
    message: string,
    /** What the user can do about it. */
    readonly fix?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTenkaiError(err: unknown, code?: string): err is TenkaiError {
  return err instanceof TenkaiError && (code === undefined || err.code === code);
}
