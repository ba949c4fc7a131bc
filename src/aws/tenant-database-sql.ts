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
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
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
  /** Values in `sql` that must never reach a message or log (redact them from errors). */
  readonly sensitive?: readonly string[];
}

/** PostgreSQL's default SCRAM iteration count (scram_iterations, PostgreSQL 16 docs). */
const SCRAM_ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802 / RFC 7677, in the
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` form of pg_authid.rolpassword).
 * `ALTER ROLE ... PASSWORD '<verifier>'` stores it as given (PostgreSQL docs, "Password
 * Authentication": a password already in SCRAM form is stored unchanged), so the plain password
 * never travels in SQL: not in the Data API request, not in a server statement log
 * (log_statement = ddl logs ALTER ROLE), not in pg_stat_activity.
 *
 * SASLprep: PostgreSQL normalizes the password with SASLprep before hashing; for ASCII
 * passwords (what Secrets Manager generates for tenkai's secrets) that is the identity, so
 * non-ASCII passwords are refused here rather than hashed differently from the server.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16)): string {
  if (!/^[\x20-\x7e]+$/.test(password))
    throw new RangeError("tenant database passwords must be printable ASCII (SASLprep is not implemented)");
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString("base64")}$${storedKey}:${serverKey}`;
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
    const verifier = scramVerifier(password);
    statements.push({
      tenant,
      action: `set password of ${name}`,
      sql: `ALTER ROLE ${role} WITH LOGIN PASSWORD ${quoteLiteral(verifier)}`,
      sensitive: [password, verifier],
    });
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

/**
 * Every tenant database and role on the server with what `tenkai db status` compares, all as
 * text so psql, node-postgres and the Data API answer alike: `database|name|owner|public_connect`
 * and `role|name|can_login|superuser_or_creator`. PUBLIC's CONNECT is read from the database's
 * ACL (a NULL ACL means the defaults, which give PUBLIC CONNECT: acldefault('d', owner)).
 */
export const STATUS_SQL = [
  "SELECT 'database', d.datname::text, pg_catalog.pg_get_userbyid(d.datdba)::text,",
  "COALESCE((SELECT bool_or(a.grantee = 0 AND a.privilege_type = 'CONNECT') FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) a), false)::text",
  "FROM pg_catalog.pg_database d WHERE d.datname LIKE 'tenant\\_%'",
  "UNION ALL SELECT 'role', r.rolname::text, r.rolcanlogin::text, (r.rolsuper OR r.rolcreatedb OR r.rolcreaterole)::text",
  "FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'tenant\\_%' ORDER BY 1, 2",
].join(" ");

export type TenantDatabaseState = "ok" | "missing" | "drifted" | "not-in-spec";

/** One line of `tenkai db status`. */
export interface TenantDatabaseStatus {
  /** The tenant (for a database no tenant in the spec wants: the database name). */
  readonly tenant: string;
  readonly database: string;
  readonly inSpec: boolean;
  readonly databaseExists: boolean;
  readonly roleExists: boolean;
  readonly state: TenantDatabaseState;
  /** What does not match the spec, in words (empty when ok). */
  readonly problems: readonly string[];
}

const isTrue = (v: string | undefined) => v === "true" || v === "t";

/** Compares STATUS_SQL's rows with the tenants that want a database. */
export function tenantDatabaseStatus(
  wanted: readonly string[],
  rows: readonly (readonly string[])[],
): TenantDatabaseStatus[] {
  const dbs = new Map(rows.filter((r) => r[0] === "database").map((r) => [r[1] ?? "", r]));
  const roles = new Map(rows.filter((r) => r[0] === "role").map((r) => [r[1] ?? "", r]));
  const out: TenantDatabaseStatus[] = wanted.map((tenant) => {
    const name = tenantDatabaseName(tenant);
    const db = dbs.get(name);
    const role = roles.get(name);
    const problems: string[] = [];
    if (!db) problems.push("database missing");
    if (!role) problems.push("role missing");
    if (db && db[2] !== name) problems.push(`database owned by ${db[2]}, not ${name}`);
    if (db && isTrue(db[3])) problems.push("PUBLIC may connect (other tenants' roles could)");
    if (role && !isTrue(role[2])) problems.push("role cannot log in");
    if (role && isTrue(role[3])) problems.push("role has SUPERUSER, CREATEDB or CREATEROLE");
    const state: TenantDatabaseState = !db || !role ? "missing" : problems.length > 0 ? "drifted" : "ok";
    return {
      tenant,
      database: name,
      inSpec: true,
      databaseExists: !!db,
      roleExists: !!role,
      state,
      problems,
    };
  });
  const wantedNames = new Set(wanted.map(tenantDatabaseName));
  for (const name of [...dbs.keys()].filter((n) => !wantedNames.has(n)).sort()) {
    out.push({
      tenant: name,
      database: name,
      inSpec: false,
      databaseExists: true,
      roleExists: roles.has(name),
      state: "not-in-spec",
      problems: ["no tenant in the spec uses this database: kept, never dropped by tenkai"],
    });
  }
  return out;
}

/** Tenant databases on the server that no tenant in `wanted` uses (kept, reported). */
export function keptDatabases(wanted: readonly string[], state: DatabaseServerState): string[] {
  const names = new Set(wanted.map(tenantDatabaseName));
  return state.databases.filter((d) => d.startsWith("tenant_") && !names.has(d)).sort();
}
