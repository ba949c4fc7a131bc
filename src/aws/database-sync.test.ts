/**
 * The deploy's tenant-database step through the RDS Data API, with the AWS SDK mocked
 * (aws-sdk-client-mock: moto has no RDS Data API that runs SQL). Where PostgreSQL is installed the
 * mocked ExecuteStatement runs each statement on a real server (test/support/postgres.ts) and
 * answers in the Data API's record shape, so the SQL and the executor are exercised together.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DBClusterNotFoundFault, DescribeDBClustersCommand, RDSClient } from "@aws-sdk/client-rds";
import {
  DatabaseResumingException,
  ExecuteStatementCommand,
  type Field,
  RDSDataClient,
} from "@aws-sdk/client-rds-data";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import {
  postgresUnavailableReason,
  startTestPostgres,
  type TestPostgres,
} from "../../test/support/postgres.js";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { databaseStatus, findDatabaseCluster, syncTenantDatabases } from "./database-sync.js";
import { pgExecutor } from "./sql-executors.js";

const CLUSTER_ARN = "arn:aws:rds:ap-northeast-1:123456789012:cluster:web-db";
const MASTER_SECRET = "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!cluster-1234-abcdef";
const example = () => loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
const password = (tenant: string) => `Pw-${tenant}-x7Q!`;

function clients() {
  const rds = new RDSClient({ region: "ap-northeast-1" });
  const rdsData = new RDSDataClient({ region: "ap-northeast-1" });
  const secrets = new SecretsManagerClient({ region: "ap-northeast-1" });
  const mocks = { rds: mockClient(rds), rdsData: mockClient(rdsData), secrets: mockClient(secrets) };
  mocks.rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: "web-db" }).resolves({
    DBClusters: [
      {
        DBClusterArn: CLUSTER_ARN,
        HttpEndpointEnabled: true,
        MasterUserSecret: { SecretArn: MASTER_SECRET },
      },
    ],
  });
  mocks.secrets.on(GetSecretValueCommand).callsFake(({ SecretId }: { SecretId: string }) => {
    const tenant = SecretId.split("/")[2] ?? "";
    return { SecretString: JSON.stringify({ username: `tenant_${tenant}`, password: password(tenant) }) };
  });
  return { rds, rdsData, secrets, mocks };
}

describe("tenant databases through the Data API (SDK mocked)", () => {
  it("finds the cluster and its RDS-managed master secret, and says what to do when they are missing", async () => {
    const platform = await example();
    const c = clients();
    assert.deepEqual(await findDatabaseCluster(c.rds, platform), {
      identifier: "web-db",
      arn: CLUSTER_ARN,
      masterSecretArn: MASTER_SECRET,
    });
    c.mocks.rds
      .on(DescribeDBClustersCommand)
      .rejects(new DBClusterNotFoundFault({ message: "DBCluster web-db not found.", $metadata: {} }));
    await assert.rejects(findDatabaseCluster(c.rds, platform), (e: unknown) => {
      assert.ok(isTenkaiError(e, "AWS_DATABASE_NOT_DEPLOYED"));
      assert.match(e.fix ?? "", /--stack web-data/);
      return true;
    });
    c.mocks.rds.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterArn: CLUSTER_ARN, HttpEndpointEnabled: false }],
    });
    await assert.rejects(findDatabaseCluster(c.rds, platform), (e: unknown) =>
      isTenkaiError(e, "AWS_DATA_API_DISABLED"),
    );
  });

  it("waits out a resuming Serverless v2 cluster, then reads the Data API's typed fields as text", async () => {
    const platform = await example();
    const c = clients();
    let calls = 0;
    c.mocks.rdsData.on(ExecuteStatementCommand).callsFake(() => {
      calls++;
      if (calls === 1)
        throw new DatabaseResumingException({ message: "The database is resuming", $metadata: {} });
      const row = (kind: string, name: string, a: Field, b: Field): Field[] => [
        { stringValue: kind },
        { stringValue: name },
        a,
        b,
      ];
      return {
        records: [
          row("database", "tenant_shop", { stringValue: "tenant_shop" }, { stringValue: "false" }),
          row("role", "tenant_shop", { booleanValue: true }, { booleanValue: false }),
        ],
      };
    });
    const status = await databaseStatus(platform, c);
    assert.equal(calls, 2);
    assert.deepEqual(
      status.map((s) => [s.tenant, s.state]),
      [
        ["shop", "ok"],
        ["users", "missing"],
        ["orders", "missing"],
      ],
    );
    const input = c.mocks.rdsData.commandCalls(ExecuteStatementCommand)[1]?.args[0].input;
    assert.equal(input?.resourceArn, CLUSTER_ARN);
    assert.equal(input?.secretArn, MASTER_SECRET);
    assert.equal(input?.database, "postgres");
  });
});

const unavailable = postgresUnavailableReason();
let server: TestPostgres | undefined;
before(async () => {
  if (unavailable) return;
  server = await startTestPostgres();
  assert.equal(
    server.psql("postgres", "postgres", "CREATE ROLE tenkai_admin LOGIN CREATEROLE CREATEDB").status,
    0,
  );
});
after(() => server?.stop());

describe("the Data API step against a real PostgreSQL behind the mocked ExecuteStatement", {
  skip: unavailable ? `no PostgreSQL: ${unavailable}` : false,
}, () => {
  it("creates every tenant's database and role, changes nothing the second time, and sends no password", async () => {
    const platform = await example();
    const pg = server as TestPostgres;
    const admin = pgExecutor({ host: pg.dir, port: pg.port, user: "tenkai_admin", database: "postgres" });
    const c = clients();
    // The Data API answers string columns as stringValue (formatRecordsAs NONE).
    c.mocks.rdsData.on(ExecuteStatementCommand).callsFake(async ({ sql }: { sql: string }) => ({
      records: (await admin.query(sql)).map((row) => row.map((v) => ({ stringValue: v }))),
    }));
    const events: string[] = [];
    try {
      const first = await syncTenantDatabases(platform, c, (e) => events.push(JSON.stringify(e)));
      assert.deepEqual([...first.created].sort(), ["tenant_orders", "tenant_shop", "tenant_users"]);
      const second = await syncTenantDatabases(platform, c);
      assert.deepEqual(second.created, []);
      assert.deepEqual(
        (await databaseStatus(platform, c)).map((s) => s.state),
        ["ok", "ok", "ok"],
      );
    } finally {
      await admin.close?.();
    }
    for (const t of ["shop", "users", "orders"])
      assert.equal(pg.psql(`tenant_${t}`, `tenant_${t}`, "SELECT 1", password(t)).stdout.trim(), "1");
    const sent = c.mocks.rdsData
      .commandCalls(ExecuteStatementCommand)
      .map((call) => call.args[0].input.sql ?? "");
    for (const t of ["shop", "users", "orders"]) {
      assert.ok(!sent.some((sql) => sql.includes(password(t))), `password of ${t} sent in SQL`);
      assert.ok(!events.some((e) => e.includes(password(t))), `password of ${t} in an event`);
      assert.ok(!pg.serverLog().includes(password(t)), `password of ${t} in the server log`);
    }
  });
});
