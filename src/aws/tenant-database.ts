/**
 * Applies the tenant databases and login roles to the platform's Aurora cluster: reads what the
 * server has, decides the statements (tenant-database-sql.ts), runs them one by one, and reports
 * each as an event. The SQL connection and the secret store are injected: `psqlExecutor` runs
 * psql where the cluster is reachable (a bastion, or a Job in the cluster); an RDS Data API
 * executor fits the same interface.
 */
import { spawn } from "node:child_process";
import { tenantDatabaseName, tenantDatabaseSecretName } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import { type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { tenantUsesDatabase } from "../spec/tenant-needs.js";
import { INSPECT_SQL, parseInspect, tenantDatabaseStatements } from "./tenant-database-sql.js";

export interface SqlExecutor {
  /** Runs one query and returns its rows as text columns. */
  query(sql: string): Promise<string[][]>;
  /** Runs one statement on its own (autocommit: CREATE DATABASE cannot run in a transaction). */
  execute(sql: string): Promise<void>;
}

export interface TenantSecretReader {
  /** The secret's string (tenkai's tenant secrets hold JSON with a `password` field). */
  secretString(name: string): Promise<string>;
}

/** One statement run against the cluster (shared/events.ts); never carries a password. */
export type TenantDatabaseEvent = TenkaiEvent<
  "aws.database.statement",
  { readonly tenant: string; readonly action: string }
>;

export interface ApplyTenantDatabasesOptions {
  readonly sql: SqlExecutor;
  readonly secrets: TenantSecretReader;
  /** Where events go. Default: nowhere. */
  readonly sink?: EventSink<TenantDatabaseEvent>;
}

export interface ApplyTenantDatabasesResult {
  /** Databases created by this run (empty on a re-run). */
  readonly created: readonly string[];
  readonly statements: number;
}

export async function applyTenantDatabases(
  platform: Platform,
  options: ApplyTenantDatabasesOptions,
): Promise<ApplyTenantDatabasesResult> {
  const tenants = platform.spec.tenants.filter(tenantUsesDatabase);
  const inputs = [];
  for (const t of tenants) {
    const name = tenantDatabaseSecretName(platform, t.name);
    let password: unknown;
    try {
      password = (JSON.parse(await options.secrets.secretString(name)) as { password?: unknown }).password;
    } catch (err) {
      throw new TenkaiError(
        "AWS_TENANT_SECRET_UNREADABLE",
        `cannot read the database password of tenant ${t.name} from secret ${name}`,
        "deploy the tenant stacks first (tenkai deploy), and run this with a principal allowed secretsmanager:GetSecretValue on it",
        { cause: err },
      );
    }
    if (typeof password !== "string" || password.length === 0) {
      throw new TenkaiError(
        "AWS_TENANT_SECRET_UNREADABLE",
        `secret ${name} has no "password" field`,
        "re-create the secret by redeploying its tenant stack",
      );
    }
    inputs.push({ tenant: t.name, password });
  }
  const rows = await options.sql.query(INSPECT_SQL);
  const statements = tenantDatabaseStatements(
    inputs,
    parseInspect(rows.map((r) => [r[0] ?? "", r[1] ?? ""] as const)),
  );
  const created: string[] = [];
  const emit = emitter(options.sink);
  for (const s of statements) {
    emit("info", "aws.database.statement", `${s.tenant}: ${s.action}`, {
      tenant: s.tenant,
      action: s.action,
    });
    try {
      await options.sql.execute(s.sql);
    } catch (err) {
      // psql echoes the failing statement: never let a password into the message.
      const reason = inputs.reduce(
        (text, i) => text.split(i.password).join("<redacted>"),
        err instanceof Error ? err.message : String(err),
      );
      throw new TenkaiError(
        "AWS_TENANT_SQL_FAILED",
        `tenant ${s.tenant}: ${s.action} failed: ${reason}`,
        "check that the admin user has CREATEROLE and CREATEDB (Aurora's master user has), then run again: every step is idempotent",
      );
    }
    if (s.action.startsWith("create database")) created.push(tenantDatabaseName(s.tenant));
  }
  return { created, statements: statements.length };
}

export interface PsqlConnection {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Password (sent as PGPASSWORD); omit for trust or .pgpass. */
  readonly password?: string;
  /** The psql binary. Default: `psql` on PATH. */
  readonly psql?: string;
  /** Extra environment, e.g. PGSSLMODE=require for Aurora (rds.force_ssl). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A SqlExecutor over the psql CLI (unit separator between columns, one row per line). */
export function psqlExecutor(conn: PsqlConnection): SqlExecutor {
  const run = (sql: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(
        conn.psql ?? "psql",
        [
          "-X",
          "-qAt",
          "-F",
          "\u001f",
          "-v",
          "ON_ERROR_STOP=1",
          "-h",
          conn.host,
          "-p",
          String(conn.port),
          "-U",
          conn.user,
          "-d",
          conn.database,
          "-c",
          sql,
        ],
        {
          env: { ...process.env, ...conn.env, ...(conn.password ? { PGPASSWORD: conn.password } : {}) },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      let err = "";
      child.stdout.on("data", (d) => {
        out += d;
      });
      child.stderr.on("data", (d) => {
        err += d;
      });
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve(out) : reject(new Error(err.trim() || `psql exited with ${code}`)),
      );
    });
  return {
    async query(sql) {
      const out = await run(sql);
      return out
        .split("\n")
        .filter((l) => l.length > 0)
        .map((l) => l.split("\u001f"));
    },
    async execute(sql) {
      await run(sql);
    },
  };
}
