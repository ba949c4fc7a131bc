/**
 * cdk-nag acknowledgements. Each one is placed beside the construct it is about, with a reason a
 * reviewer can check; `ack` only fixes the id format cdk-nag 3 expects (one id per finding).
 */
import { Validations } from "aws-cdk-lib";
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
