/**
 * Applies the tenant databases and login roles to the platform's Aurora cluster: reads what the
 * server has, decides the statements (tenant-database-sql.ts), runs them one by one, and reports
 * each as an event. The SQL connection and the secret store are injected (sql-executors.ts):
 * the RDS Data API at deploy, node-postgres against a server tenkai can reach (the tests' real
 * PostgreSQL). A tenant that left the spec keeps its database: it is reported, never dropped.
 */
import { tenantDatabaseName, tenantDatabaseSecretName } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import { type EventSink, emitter, type TenkaiEvent } from "../shared/events.js";
import type { Platform } from "../spec/schema.js";
import { tenantUsesDatabase } from "../spec/tenant-needs.js";
import {
  INSPECT_SQL,
  keptDatabases,
  parseInspect,
  STATUS_SQL,
  type TenantDatabaseStatus,
  tenantDatabaseStatements,
  tenantDatabaseStatus,
} from "./tenant-database-sql.js";

/**
 * One SQL connection as the admin (Aurora's master user). Implementations: `dataApiExecutor`
 * (RDS Data API, no network path to the VPC) and `pgExecutor` (node-postgres).
 * Both throw on a failed statement; the message may quote the statement, so callers redact.
 */
export interface SqlExecutor {
  /** Runs one query and returns its rows as text columns (NULL as ""). */
  query(sql: string): Promise<string[][]>;
  /** Runs one statement on its own (autocommit: CREATE DATABASE cannot run in a transaction). */
  execute(sql: string): Promise<void>;
  /** Releases the connection, if any. */
  close?(): Promise<void>;
}

export interface TenantSecretReader {
  /** The secret's string (tenkai's tenant secrets hold JSON with a `password` field). */
  secretString(name: string): Promise<string>;
}

/** What the tenant-database step reports (shared/events.ts); never carries a password. */
export type TenantDatabaseEvent =
  | TenkaiEvent<"aws.database.statement", { readonly tenant: string; readonly action: string }>
  /** A tenant database no tenant in the spec uses: left as it is. */
  | TenkaiEvent<"aws.database.kept", { readonly database: string }>;

export interface ApplyTenantDatabasesOptions {
  readonly sql: SqlExecutor;
  readonly secrets: TenantSecretReader;
  /** Where events go. Default: nowhere. */
  readonly sink?: EventSink<TenantDatabaseEvent>;
}

export interface ApplyTenantDatabasesResult {
  /** Databases created by this run (empty on a re-run). */
  readonly created: readonly string[];
  /** Tenant databases on the server that no tenant in the spec uses: kept, never dropped. */
  readonly kept: readonly string[];
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
  const state = parseInspect(rows.map((r) => [r[0] ?? "", r[1] ?? ""] as const));
  const statements = tenantDatabaseStatements(inputs, state);
  const kept = keptDatabases(
    tenants.map((t) => t.name),
    state,
  );
  const emit = emitter(options.sink);
  for (const database of kept) {
    emit(
      "warn",
      "aws.database.kept",
      `kept database ${database}: no tenant in the spec uses it (tenkai never drops a database; drop it yourself after a backup)`,
      { database },
    );
  }
  const created: string[] = [];
  for (const s of statements) {
    emit("info", "aws.database.statement", `${s.tenant}: ${s.action}`, {
      tenant: s.tenant,
      action: s.action,
    });
    try {
      await options.sql.execute(s.sql);
    } catch (err) {
      // psql echoes the failing statement: never let a password into the message.
      const reason = redact(err instanceof Error ? err.message : String(err), [
        ...inputs.map((i) => i.password),
        ...statements.flatMap((x) => x.sensitive ?? []),
      ]);
      throw new TenkaiError(
        "AWS_TENANT_SQL_FAILED",
        `tenant ${s.tenant}: ${s.action} failed: ${reason}`,
        "check that the admin user has CREATEROLE and CREATEDB (Aurora's master user has), then run again: every step is idempotent",
      );
    }
    if (s.action.startsWith("create database")) created.push(tenantDatabaseName(s.tenant));
  }
  return { created, kept, statements: statements.length };
}

function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, secret) => (secret ? t.split(secret).join("<redacted>") : t), text);
}

/** Per tenant that uses the database (and per tenant database the spec no longer has): what the server holds. */
export async function tenantDatabasesStatus(
  platform: Platform,
  sql: SqlExecutor,
): Promise<TenantDatabaseStatus[]> {
  const wanted = platform.spec.tenants.filter(tenantUsesDatabase).map((t) => t.name);
  return tenantDatabaseStatus(wanted, await sql.query(STATUS_SQL));
}
