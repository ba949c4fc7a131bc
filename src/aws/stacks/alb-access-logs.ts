/**
 * The shared ALB's access logs: an S3 bucket encrypted with SSE-S3 (ALB access logs support only
 * SSE-S3, not SSE-KMS: ELB user guide, "Access logs for your Application Load Balancer"), TLS
 * only, no public access, objects expired after the platform's log retention. The load balancer
 * itself is made by the AWS Load Balancer Controller, so the Kubernetes plane turns logging on
 * through the IngressGroup's load-balancer attributes (kube/render/ingress.ts).
 *
 * Log delivery: in Regions opened before August 2022 ELB writes as its regional account (the
 * CDK's region facts know it); in newer Regions as the log delivery service principal.
 */
import { Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { RegionInfo } from "aws-cdk-lib/region-info";
import { ALB_ACCESS_LOGS_PREFIX, albAccessLogsBucket } from "../../shared/aws-names.js";
import type { Platform } from "../../spec/schema.js";
import { ack } from "../nag.js";

export function addAlbAccessLogs(stack: Stack, platform: Platform): s3.Bucket {
  const { account, region } = platform.spec.aws;
  const bucket = new s3.Bucket(stack, "AlbAccessLogs", {
    bucketName: albAccessLogsBucket(platform),
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [
      {
        id: "expire-access-logs",
        expiration: Duration.days(platform.spec.logging.retentionDays),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const elbAccount = RegionInfo.get(region).elbv2Account;
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: "AlbAccessLogDelivery",
      principals: [
        elbAccount
          ? new iam.AccountPrincipal(elbAccount)
          : new iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com"),
      ],
      actions: ["s3:PutObject"],
      resources: [bucket.arnForObjects(`${ALB_ACCESS_LOGS_PREFIX}/AWSLogs/${account}/*`)],
    }),
  );
  ack(
    bucket,
    "S1",
    "This bucket holds access logs itself; logging its own accesses to another bucket would only add a log of the log.",
  );
  return bucket;
}
