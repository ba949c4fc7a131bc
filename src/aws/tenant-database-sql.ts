/**
 * The SQL that gives each tenant its own PostgreSQL database and login role on the shared Aurora
 * cluster, decided as data from what the server already has, then run statement by statement
 * (RDS Data API or psql). Running it again changes nothing but the passwords it re-asserts.
 *
 * Why two steps: `CREATE DATABASE` cannot run inside a transaction or a `DO` block and has no
 * `IF NOT EXISTS` (PostgreSQL docs, CREATE DATABASE), so whether to issue it is decided from
 * `INSPECT_SQL`'s answer. Everything else is idempotent on its own.
 *
 * Isolation: `REVOKE ALL ON DATABASE ... FROM PUBLIC` takes away the CONNECT every role has on a
 * new database by default, so tenant A's role cannot connect to tenant B's database; the tenant's
 * role owns its database (and, from PostgreSQL 15, its `public` schema through pg_database_owner).
 */
import { tenantDatabaseName } from "../shared/aws-names.js";

export interface TenantDatabaseInput {
  readonly tenant: string;
  /** The login password (from the tenant's Secrets Manager secret). */
  readonly password: string;
}

/** What the server already holds (answer of INSPECT_SQL). */
export interface DatabaseServerState {
  readonly databases: readonly string[];
  readonly roles: readonly string[];
}

/** One row per database and role: `kind` is `database` or `role`. */
export const INSPECT_SQL =
  "SELECT 'database' AS kind, datname AS name FROM pg_catalog.pg_database UNION ALL SELECT 'role', rolname FROM pg_catalog.pg_roles ORDER BY 1, 2";

/** Parses INSPECT_SQL rows (`kind|name` lines from psql -At, or row objects). */
export function parseInspect(rows: readonly (readonly [string, string])[]): DatabaseServerState {
  return {
    databases: rows.filter(([k]) => k === "database").map(([, n]) => n),
    roles: rows.filter(([k]) => k === "role").map(([, n]) => n),
  };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new RangeError("a SQL literal cannot hold a NUL character");
  return `'${value.replace(/'/g, "''")}'`;
}

export interface TenantDatabaseStatement {
  readonly tenant: string;
  /** What the statement does, for progress events (never contains the password). */
  readonly action: string;
  readonly sql: string;
}

/** The statements that bring the server to the wanted tenants, in order. */
export function tenantDatabaseStatements(
  tenants: readonly TenantDatabaseInput[],
  state: DatabaseServerState,
): TenantDatabaseStatement[] {
  const statements: TenantDatabaseStatement[] = [];
  for (const { tenant, password } of tenants) {
    const name = tenantDatabaseName(tenant);
    const role = quoteIdent(name);
    const db = quoteIdent(name);
    const add = (action: string, sql: string) => statements.push({ tenant, action, sql });
    add(
      `ensure login role ${name}`,
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}) THEN CREATE ROLE ${role} LOGIN; END IF; END $$`,
    );
    add(`set password of ${name}`, `ALTER ROLE ${role} WITH LOGIN PASSWORD ${quoteLiteral(password)}`);
    // On Aurora the master user is not a superuser: creating a database owned by another role
    // needs membership in it (PostgreSQL: "must be able to SET ROLE").
    add(`let the admin act as ${name}`, `GRANT ${role} TO CURRENT_USER`);
    if (!state.databases.includes(name))
      add(`create database ${name}`, `CREATE DATABASE ${db} OWNER ${role}`);
    add(`make ${name} own its database`, `ALTER DATABASE ${db} OWNER TO ${role}`);
    add(`close ${name} to other roles`, `REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    add(`let ${name} connect`, `GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${role}`);
  }
  return statements;
}
