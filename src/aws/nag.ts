/**
 * cdk-nag acknowledgements. Each one is placed beside the construct it is about, with a reason a
 * reviewer can check; `ack` only fixes the id format cdk-nag 3 expects (one id per finding).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type App, Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/** Acknowledges one AwsSolutions finding (`IAM5[Resource::...]`, `SMG4`, ...) on a construct. */
export function ack(construct: IConstruct, finding: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}

/** Acknowledges IAM4 for AWS managed policies (cdk-nag renders the partition as `<AWS::Partition>`). */
export function ackManagedPolicies(construct: IConstruct, policies: readonly string[], reason: string): void {
  for (const name of policies)
    ack(construct, `IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`, reason);
}

/** Acknowledges IAM5 for each wildcard resource in `resources` (non-wildcard ones make no finding). */
export function ackWildcardResources(
  construct: IConstruct,
  resources: readonly string[],
  reason: string,
): void {
  for (const r of resources) if (r.includes("*")) ack(construct, `IAM5[Resource::${r}]`, reason);
}

export interface NagFinding {
  /** Rule and finding, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly rule: string;
  readonly description: string;
  readonly constructPaths: readonly string[];
}

export interface NagAcknowledgement {
  readonly constructPath: string;
  readonly id: string;
  readonly reason: string;
}

export interface NagResult {
  /** Findings nobody acknowledged (a clean platform has none). */
  readonly findings: readonly NagFinding[];
  readonly acknowledgements: readonly NagAcknowledgement[];
}

interface ValidationReport {
  readonly pluginReports?: readonly {
    readonly pluginName: string;
    readonly violations: readonly {
      readonly ruleName: string;
      readonly description: string;
      readonly violatingConstructs?: readonly { readonly constructPath: string }[];
    }[];
  }[];
}

/**
 * Runs cdk-nag's AwsSolutions pack over every stack of the app and synthesizes it. Returns the
 * unacknowledged findings and every acknowledgement with its reason (for review).
 */
export async function runAwsSolutionsChecks(app: App): Promise<NagResult> {
  const { AwsSolutionsChecks } = await import("cdk-nag");
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (err) {
    // cdk-nag fails synthesis on findings; the report below lists them.
    if (!(err instanceof Error) || !/Validation failed/i.test(err.message)) throw err;
  }
  const reportPath = join(app.outdir, "validation-report.json");
  const report: ValidationReport = existsSync(reportPath) ? JSON.parse(readFileSync(reportPath, "utf8")) : {};
  const findings = (report.pluginReports ?? [])
    .filter((r) => r.pluginName === "AwsSolutions")
    .flatMap((r) => r.violations)
    .map((v) => ({
      rule: v.ruleName,
      description: v.description,
      constructPaths: (v.violatingConstructs ?? []).map((c) => c.constructPath),
    }));
  const acknowledgements: NagAcknowledgement[] = [];
  for (const c of app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>)) {
        acknowledgements.push({ constructPath: c.node.path, id, reason });
      }
    }
  }
  return { findings, acknowledgements };
}
