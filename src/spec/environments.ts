/**
 * Per-environment overlays: `environments.<name>` is deep-merged over `spec` before validation
 * (maps merge key by key, lists replace), so staging and production share one file and differ
 * only where they must (account, region, version under test, sizes).
 */
import type { SpecProblem } from "./problems.js";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

export function deepMerge(base: unknown, overlay: unknown): unknown {
  if (!isObject(base) || !isObject(overlay)) return overlay === undefined ? base : overlay;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(overlay)) out[k] = deepMerge(base[k], v);
  return out;
}

export function applyEnvironment(
  raw: unknown,
  environment: string,
): { value: unknown } | { problem: Omit<SpecProblem, "line" | "column"> } {
  const envs = isObject(raw) && isObject(raw.environments) ? raw.environments : {};
  const overlay = envs[environment];
  if (!isObject(overlay)) {
    const names = Object.keys(envs);
    return {
      problem: {
        code: "SPEC_UNKNOWN_ENVIRONMENT",
        severity: "error",
        path: `environments.${environment}`,
        message: `no environment named "${environment}"`,
        fix: names.length ? `use one of: ${names.join(", ")}` : "add it under `environments:` or drop --env",
      },
    };
  }
  const { context: _context, promotesTo: _promotesTo, ...specOverlay } = overlay;
  const spec = isObject(raw) ? raw.spec : undefined;
  return { value: { ...(raw as Json), spec: deepMerge(spec, specOverlay) } };
}
