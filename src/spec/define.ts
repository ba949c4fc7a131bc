import { type LoadOptions, validateObject } from "./load.js";
import { SpecError } from "./problems.js";
import type { Platform, PlatformInput } from "./schema.js";

/**
 * Defines a platform in TypeScript with the same checks as `platform.yaml`:
 *
 * ```ts
 * export default definePlatform({ apiVersion: "tenkai.dev/v1alpha1", kind: "Platform", ... });
 * ```
 * @throws SpecError listing every problem (with field paths; there are no line numbers).
 */
export function definePlatform(input: PlatformInput, options: LoadOptions = {}): Platform {
  const result = validateObject(input, options);
  if (!result.platform) throw new SpecError(result.problems);
  return result.platform;
}
