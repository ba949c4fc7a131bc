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
import * as athena from "aws-cdk-lib/aws-athena";
import * as glue from "aws-cdk-lib/aws-glue";
import * as iam from "aws-cdk-lib/aws-iam";
import * as s3 from "aws-cdk-lib/aws-s3";
import { RegionInfo } from "aws-cdk-lib/region-info";
import {
  ALB_ACCESS_LOGS_PREFIX,
  ATHENA_RESULTS_PREFIX,
  albAccessLogsBucket,
  albLogNames,
} from "../../shared/aws-names.js";
import type { Platform } from "../../spec/schema.js";
import {
  ALB_ACCESS_LOG_COLUMNS,
  ALB_ACCESS_LOG_REGEX,
  ALB_LOG_DAY_FORMAT,
  latencyByApiPathQuery,
} from "../alb-access-log-sql.js";
import { ack } from "../nag.js";

/** Athena's query results are kept this long (they are copies of what the logs already hold). */
const ATHENA_RESULTS_DAYS = 7;

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
      {
        id: "expire-athena-results",
        prefix: `${ATHENA_RESULTS_PREFIX}/`,
        expiration: Duration.days(Math.min(ATHENA_RESULTS_DAYS, platform.spec.logging.retentionDays)),
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
  addAlbLogQueries(stack, platform);
  return bucket;
}

/**
 * Amazon Athena reads the access logs where ELB writes them: a Glue table over the access-log
 * prefix with partition projection on the day (no crawler, no ALTER TABLE ADD PARTITION: Athena
 * computes each day's S3 location from `storage.location.template`), a workgroup that enforces
 * SSE-S3 encrypted results under `athena-results/` of the same bucket, and the saved query
 * "latency and errors per API path", one row per route of the spec.
 */
function addAlbLogQueries(stack: Stack, platform: Platform): void {
  const { account, region } = platform.spec.aws;
  const database = new glue.CfnDatabase(stack, "AlbLogsDatabase", {
    catalogId: account,
    databaseInput: {
      name: albLogNames.database(platform),
      description: `ALB access logs of platform ${platform.metadata.name} (read by Athena)`,
    },
  });
  const bucketName = albAccessLogsBucket(platform);
  const logs = `s3://${bucketName}/${ALB_ACCESS_LOGS_PREFIX}/AWSLogs/${account}/elasticloadbalancing/${region}`;
  const table = new glue.CfnTable(stack, "AlbLogsTable", {
    catalogId: account,
    databaseName: albLogNames.database(platform),
    tableInput: {
      name: albLogNames.table,
      description: "The shared ALB's access logs (the Athena user guide's alb_access_logs table)",
      tableType: "EXTERNAL_TABLE",
      partitionKeys: [{ name: "day", type: "string" }],
      parameters: {
        EXTERNAL: "TRUE",
        "projection.enabled": "true",
        "projection.day.type": "date",
        // ALB access logs exist from the day the platform's first stack is deployed; a range that
        // starts earlier only costs empty S3 listings for days that are never asked for.
        "projection.day.range": "2024/01/01,NOW",
        "projection.day.format": ALB_LOG_DAY_FORMAT,
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        // `${day}` is Athena's placeholder, filled in per projected day.
        "storage.location.template": `${logs}/\${day}`,
      },
      storageDescriptor: {
        columns: [...ALB_ACCESS_LOG_COLUMNS],
        location: `${logs}/`,
        inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        serdeInfo: {
          serializationLibrary: "org.apache.hadoop.hive.serde2.RegexSerDe",
          parameters: { "serialization.format": "1", "input.regex": ALB_ACCESS_LOG_REGEX },
        },
      },
    },
  });
  table.addDependency(database);
  const workGroup = new athena.CfnWorkGroup(stack, "AlbLogsWorkGroup", {
    name: albLogNames.workGroup(platform),
    description: `Queries of platform ${platform.metadata.name}'s ALB access logs`,
    state: "ENABLED",
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: true,
      publishCloudWatchMetricsEnabled: true,
      // A runaway query over years of logs stops at 10 GB scanned.
      bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
      engineVersion: { selectedEngineVersion: "Athena engine version 3" },
      resultConfiguration: {
        outputLocation: `s3://${bucketName}/${ATHENA_RESULTS_PREFIX}/`,
        encryptionConfiguration: { encryptionOption: "SSE_S3" },
      },
    },
  });
  const query = new athena.CfnNamedQuery(stack, "AlbLatencyByApiPathQuery", {
    name: albLogNames.latencyQuery,
    description:
      "p50/p95/p99 target time, requests, 4xx and 5xx per API path of the spec; parameters: first day (yyyy/MM/dd), first request time (ISO 8601 UTC)",
    database: albLogNames.database(platform),
    workGroup: workGroup.ref,
    queryString: latencyByApiPathQuery(platform),
  });
  query.addDependency(table);
}
