/** The one duration syntax of every timeout flag: `90s`, `30m`, `1h`, `500ms`, or plain seconds. */
import { TenkaiError } from "../shared/errors.js";

/** A duration flag's value in milliseconds; throws CLI_BAD_DURATION (exit 2) otherwise. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m)
    throw new TenkaiError(
      "CLI_BAD_DURATION",
      `${flag} must be a duration like 90s, 30m or 1h, got "${value}"`,
      `pass ${flag} 30m`,
    );
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Math.round(n * unit);
}
