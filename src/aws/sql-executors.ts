/**
 * The two SqlExecutors of the tenant-database step (tenant-database.ts):
 *
 * - `dataApiExecutor`: the RDS Data API (ExecuteStatement) against the Aurora cluster, signed in
 *   with the RDS-managed master secret. The SQL travels in an HTTPS request body to
 *   rds-data.<region>.amazonaws.com: no network path into the VPC, no Lambda, no password on a
 *   command line. Each call without a transaction id commits on its own, which CREATE DATABASE
 *   needs (Data API docs, "Running SQL statements").
 * - `pgExecutor`: node-postgres over TCP or a Unix socket, for a server tenkai can reach (the
 *   tests' real PostgreSQL). The password goes in the client's connection config, never argv.
 */
import {
  BadRequestException,
  DatabaseResumingException,
  ExecuteStatementCommand,
  type Field,
  type RDSDataClient,
} from "@aws-sdk/client-rds-data";
import pg from "pg";
import type { SqlExecutor } from "./tenant-database.js";

export interface DataApiTarget {
  readonly client: RDSDataClient;
  /** ARN of the Aurora DB cluster (arn:aws:rds:<region>:<account>:cluster:<id>). */
  readonly resourceArn: string;
  /** ARN of the RDS-managed master user secret (DescribeDBClusters: MasterUserSecret.SecretArn). */
  readonly secretArn: string;
  /** Database to run in. Default `postgres`. */
  readonly database?: string;
  /**
   * How often to retry while a Serverless v2 cluster at 0 ACU resumes (DatabaseResumingException,
   * which the Data API answers for up to about 30 s). Default 10, 3 s apart.
   */
  readonly resumeRetries?: number;
  /** Injected pause (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

function fieldText(f: Field): string {
  if (f.isNull) return "";
  if (f.stringValue !== undefined) return f.stringValue;
  if (f.booleanValue !== undefined) return String(f.booleanValue);
  if (f.longValue !== undefined) return String(f.longValue);
  if (f.doubleValue !== undefined) return String(f.doubleValue);
  return "";
}

export function dataApiExecutor(target: DataApiTarget): SqlExecutor {
  const sleep = target.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const run = async (sql: string) => {
    const retries = target.resumeRetries ?? 10;
    for (let attempt = 0; ; attempt++) {
      try {
        return await target.client.send(
          new ExecuteStatementCommand({
            resourceArn: target.resourceArn,
            secretArn: target.secretArn,
            database: target.database ?? "postgres",
            sql,
          }),
        );
      } catch (err) {
        if (err instanceof DatabaseResumingException && attempt < retries) {
          await sleep(3000);
          continue;
        }
        // A BadRequestException carries PostgreSQL's error text; keep it as the message so the
        // caller names the failure (and redacts secrets from it).
        if (err instanceof BadRequestException) throw new Error(err.message, { cause: err });
        throw err;
      }
    }
  };
  return {
    async query(sql) {
      const out = await run(sql);
      return (out.records ?? []).map((row) => row.map(fieldText));
    },
    async execute(sql) {
      await run(sql);
    },
  };
}

export interface PgConnection {
  /** Host name, or the directory of the server's Unix socket. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Omit for trust (socket) authentication. */
  readonly password?: string;
  /** TLS (Aurora's rds.force_ssl): pass `true` or node tls options. Default off. */
  readonly ssl?: boolean | { readonly rejectUnauthorized?: boolean; readonly ca?: string };
}

/** A SqlExecutor over one node-postgres connection, opened on first use. */
export function pgExecutor(conn: PgConnection): SqlExecutor {
  let client: pg.Client | undefined;
  const connect = async () => {
    if (client) return client;
    const c = new pg.Client({
      host: conn.host,
      port: conn.port,
      user: conn.user,
      database: conn.database,
      password: conn.password,
      ssl: conn.ssl as pg.ClientConfig["ssl"],
    });
    await c.connect();
    client = c;
    return c;
  };
  return {
    async query(sql) {
      const c = await connect();
      const res = await c.query({ text: sql, rowMode: "array" });
      return (res.rows as unknown[][]).map((row) => row.map((v) => (v === null ? "" : String(v))));
    },
    async execute(sql) {
      await (await connect()).query(sql);
    },
    async close() {
      await client?.end();
      client = undefined;
    },
  };
}
