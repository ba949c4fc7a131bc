/** Small helpers shared by the stacks. */
import { Fn, Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as kms from "aws-cdk-lib/aws-kms";
import type * as logs from "aws-cdk-lib/aws-logs";

/** CloudWatch retention enum from days (the schema only admits values PutRetentionPolicy accepts). */
export function retention(days: number): logs.RetentionDays {
  return days as logs.RetentionDays;
}

/**
 * Lets CloudWatch Logs use a KMS key for the named log groups (and prefixes ending in `*`), as
 * the CloudWatch Logs encryption guide prescribes: the service principal, scoped by the
 * `kms:EncryptionContext:aws:logs:arn` of those groups.
 */
export function logsKeyPolicy(key: kms.Key, stack: Stack, logGroupNames: readonly string[]): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "CloudWatchLogsUse",
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      conditions: {
        ArnLike: {
          "kms:EncryptionContext:aws:logs:arn": logGroupNames.map(
            (n) => `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${n}`,
          ),
        },
      },
    }),
  );
}

/**
 * Base of tenkai's stacks. With an explicit account and region, CDK resolves
 * `stack.availabilityZones` through a context lookup (an AWS call at synth, and an assembly that
 * `cdk deploy` refuses while the lookup is missing). tenkai plans offline, so its stacks answer
 * with `Fn::GetAZs` instead: CloudFormation picks the account's real AZs at deploy time.
 */
export class TenkaiStack extends Stack {
  override get availabilityZones(): string[] {
    return [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs()));
  }
}
