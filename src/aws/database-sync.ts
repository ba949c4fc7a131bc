/**
 * The tenant-database step of `tenkai deploy` and the query behind `tenkai db status`: finds the
 * platform's Aurora cluster and its RDS-managed master secret (DescribeDBClusters), reads each
 * tenant's password from its Secrets Manager secret, and runs the tenant SQL through the RDS Data
 * API with the caller's credentials. The passwords stay in memory: they are sent to PostgreSQL
 * only as SCRAM verifiers (tenant-database-sql.ts) and never appear in an event or error.
 */
import {
  type DBCluster,
  DBClusterNotFoundFault,
  DescribeDBClustersCommand,
  type RDSClient,
} from "@aws-sdk/client-rds";
import type { RDSDataClient } from "@aws-sdk/client-rds-data";
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { databaseClusterIdentifier } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { EventSink } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { dataApiExecutor } from "./sql-executors.js";
import {
  type ApplyTenantDatabasesResult,
  applyTenantDatabases,
  type SqlExecutor,
  type TenantDatabaseEvent,
  type TenantSecretReader,
  tenantDatabasesStatus,
} from "./tenant-database.js";
import type { TenantDatabaseStatus } from "./tenant-database-sql.js";

export interface DatabaseCluster {
  readonly identifier: string;
  readonly arn: string;
  readonly masterSecretArn: string;
}

/** The deployed cluster, checked for what the Data API needs. */
export async function findDatabaseCluster(rds: RDSClient, platform: Platform): Promise<DatabaseCluster> {
  const identifier = databaseClusterIdentifier(platform);
  let c: DBCluster | undefined;
  try {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: identifier }));
    c = out.DBClusters?.[0];
  } catch (err) {
    if (err instanceof DBClusterNotFoundFault)
      throw new TenkaiError(
        "AWS_DATABASE_NOT_DEPLOYED",
        `Aurora cluster ${identifier} does not exist in ${platform.spec.aws.account}/${platform.spec.aws.region}`,
        `deploy the data stack first: tenkai deploy FILE --stack ${platform.metadata.name}-data`,
        { cause: err },
      );
    throw err;
  }
  if (!c?.DBClusterArn)
    throw new TenkaiError(
      "AWS_DATABASE_NOT_DEPLOYED",
      `Aurora cluster ${identifier} was not found`,
      `deploy the data stack first: tenkai deploy FILE --stack ${platform.metadata.name}-data`,
    );
  if (c.HttpEndpointEnabled === false)
    throw new TenkaiError(
      "AWS_DATA_API_DISABLED",
      `the RDS Data API is off on cluster ${identifier}`,
      "redeploy the data stack (it sets EnableHttpEndpoint), or: aws rds enable-http-endpoint --resource-arn <cluster ARN>",
    );
  const secret = c.MasterUserSecret?.SecretArn;
  if (!secret)
    throw new TenkaiError(
      "AWS_DATABASE_NO_MASTER_SECRET",
      `cluster ${identifier} has no RDS-managed master secret`,
      "redeploy the data stack: it sets ManageMasterUserPassword, so RDS keeps the admin password in Secrets Manager",
    );
  return { identifier, arn: c.DBClusterArn, masterSecretArn: secret };
}

/** Tenant passwords from Secrets Manager (GetSecretValue with the caller's credentials). */
export function secretsManagerReader(client: SecretsManagerClient): TenantSecretReader {
  return {
    async secretString(name) {
      const out = await client.send(new GetSecretValueCommand({ SecretId: name }));
      if (out.SecretString === undefined) throw new Error(`secret ${name} holds no SecretString`);
      return out.SecretString;
    },
  };
}

export interface DatabaseClients {
  readonly rds: RDSClient;
  readonly rdsData: RDSDataClient;
  readonly secrets: SecretsManagerClient;
}

async function dataApi(
  platform: Platform,
  clients: Pick<DatabaseClients, "rds" | "rdsData">,
): Promise<SqlExecutor> {
  const cluster = await findDatabaseCluster(clients.rds, platform);
  return dataApiExecutor({
    client: clients.rdsData,
    resourceArn: cluster.arn,
    secretArn: cluster.masterSecretArn,
  });
}

/** `tenkai deploy`'s last step: every tenant's database and role in step with the spec. */
export async function syncTenantDatabases(
  platform: Platform,
  clients: DatabaseClients,
  sink?: EventSink<TenantDatabaseEvent>,
): Promise<ApplyTenantDatabasesResult> {
  return applyTenantDatabases(platform, {
    sql: await dataApi(platform, clients),
    secrets: secretsManagerReader(clients.secrets),
    ...(sink ? { sink } : {}),
  });
}

/** `tenkai db status`: per tenant, whether its database and role exist and match. */
export async function databaseStatus(
  platform: Platform,
  clients: Pick<DatabaseClients, "rds" | "rdsData">,
): Promise<TenantDatabaseStatus[]> {
  return tenantDatabasesStatus(platform, await dataApi(platform, clients));
}
