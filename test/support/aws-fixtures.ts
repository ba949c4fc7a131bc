/**
 * Helpers for the AWS plane's tests: read synthesized templates, resolve the trust documents
 * tenkai writes as `Fn::Sub` strings, run cfn-lint. Not imported by the product code.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly DeletionPolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Type: string; Default?: string }>;
  readonly Outputs?: Record<string, unknown>;
}

export function readTemplates(assemblyDir: string): Map<string, CfnTemplate> {
  const templates = new Map<string, CfnTemplate>();
  for (const f of readdirSync(assemblyDir)) {
    if (f.endsWith(".template.json")) {
      templates.set(
        f.replace(/\.template\.json$/, ""),
        JSON.parse(readFileSync(join(assemblyDir, f), "utf8")),
      );
    }
  }
  return templates;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function allResources(
  templates: Map<string, CfnTemplate>,
  type: string,
): { stack: string; id: string; resource: CfnResource }[] {
  return [...templates].flatMap(([stack, t]) =>
    resourcesOfType(t, type).map(([id, resource]) => ({ stack, id, resource })),
  );
}

export interface PolicyStatement {
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/**
 * A policy document as data: objects as they are; `Fn::Sub` strings (tenkai's IRSA trust) parsed
 * with their `${...}` placeholders left in place.
 */
export function policyDocument(value: unknown): { Statement: PolicyStatement[] } {
  if (value && typeof value === "object" && "Fn::Sub" in value) {
    const sub = (value as { "Fn::Sub": unknown })["Fn::Sub"];
    const text = Array.isArray(sub) ? sub[0] : sub;
    return JSON.parse(String(text));
  }
  return value as { Statement: PolicyStatement[] };
}

export function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export const CFN_LINT = fileURLToPath(new URL("../../.venv/bin/cfn-lint", import.meta.url));

export interface CfnLintRun {
  readonly available: boolean;
  readonly errors: string[];
  readonly warnings: string[];
}

/** Runs cfn-lint over the assembly's templates; `available` is false when .venv is missing. */
export function runCfnLint(assemblyDir: string): CfnLintRun {
  if (!existsSync(CFN_LINT)) return { available: false, errors: [], warnings: [] };
  const files = readdirSync(assemblyDir)
    .filter((f) => f.endsWith(".template.json"))
    .map((f) => join(assemblyDir, f));
  const run = spawnSync(CFN_LINT, ["--format", "parseable", "--", ...files], { encoding: "utf8" });
  const lines = `${run.stdout}`.split("\n").filter(Boolean);
  if (run.error) throw run.error;
  // parseable: file:line:col:endline:endcol:RULE:message; E = error, W = warning, I = info.
  return {
    available: true,
    errors: lines.filter((l) => /:E\d{4}:/.test(l)),
    warnings: lines.filter((l) => /:W\d{4}:/.test(l)),
  };
}
