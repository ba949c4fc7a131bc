/**
 * IAM trust policies for pods.
 *
 * IRSA trust needs the cluster's OIDC issuer inside a condition KEY (`<issuer>:sub`), and
 * CloudFormation cannot put an intrinsic function in a JSON key. CDK works around that with
 * `CfnJson`, a Lambda-backed custom resource per role; tenkai instead writes the whole trust
 * document as one `Fn::Sub` string (CloudFormation accepts a JSON string for
 * `AssumeRolePolicyDocument`), so no Lambda runs and the issuer can come from an SSM parameter.
 */
import { Fn } from "aws-cdk-lib";

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/** Placeholder the trust string uses for the issuer host path (`oidc.eks.<region>.amazonaws.com/id/<ID>`). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an Fn::Sub placeholder, not a JS template
const ISSUER = "${OidcIssuer}";

/** The IRSA trust document as plain data, with `${OidcIssuer}` where the issuer goes. */
export function irsaTrustDocument(sa: ServiceAccountRef): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:oidc-provider/${ISSUER}` },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: {
            [`${ISSUER}:sub`]: `system:serviceaccount:${sa.namespace}:${sa.name}`,
            [`${ISSUER}:aud`]: "sts.amazonaws.com",
          },
        },
      },
    ],
  };
}

/**
 * `AssumeRolePolicyDocument` value for a role assumed by a ServiceAccount through IRSA.
 * `issuer` is the issuer host path, a token (SSM parameter or cluster attribute) or a literal.
 */
export function irsaTrust(sa: ServiceAccountRef, issuer: string): unknown {
  return Fn.sub(JSON.stringify(irsaTrustDocument(sa)), { OidcIssuer: issuer });
}

/** Trust for EKS Pod Identity: the pods.eks.amazonaws.com service with AssumeRole and TagSession. */
export function podIdentityTrustDocument(account: string): Record<string, unknown> {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "pods.eks.amazonaws.com" },
        Action: ["sts:AssumeRole", "sts:TagSession"],
        // Confused-deputy guard: only associations in this account may use the role.
        Condition: { StringEquals: { "aws:SourceAccount": account } },
      },
    ],
  };
}

/** Issuer host path from the cluster's issuer URL (`https://oidc.eks...` → `oidc.eks...`). */
export function issuerHostPath(issuerUrl: string): string {
  return Fn.select(1, Fn.split("https://", issuerUrl));
}
