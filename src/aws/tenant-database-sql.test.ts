/**
 * The tenant SQL against a real PostgreSQL server (Debian's package; scripts/setup-postgres.sh
 * installs it): a throwaway cluster from initdb on a free port (test/support/postgres.ts), the
 * SQL run twice as a non-superuser admin with CREATEROLE and CREATEDB (what Aurora's master user
 * is), then what a tenant would try: connect to its own database, create a table, connect to
 * another's. The server logs every statement, so the tests also read what reached it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  postgresUnavailableReason,
  startTestPostgres,
  type TestPostgres,
} from "../../test/support/postgres.js";
import { tenantDatabaseName, tenantDatabaseSecretName } from "../shared/aws-names.js";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { pgExecutor } from "./sql-executors.js";
import { applyTenantDatabases, tenantDatabasesStatus } from "./tenant-database.js";
import {
  INSPECT_SQL,
  parseInspect,
  quoteLiteral,
  scramVerifier,
  tenantDatabaseStatements,
} from "./tenant-database-sql.js";

const unavailable = postgresUnavailableReason();
let server: TestPostgres | undefined;
let dir = "";
let port = 0;
const psql = (user: string, db: string, sql: string, password?: string) =>
  (server as TestPostgres).psql(user, db, sql, password);

function applyAsAdmin(tenants: { tenant: string; password: string }[]): string[] {
  const inspect = psql("tenkai_admin", "postgres", INSPECT_SQL);
  assert.equal(inspect.status, 0, inspect.stderr);
  const rows = inspect.stdout
    .trim()
    .split("\n")
    .map((l) => l.split("|") as [string, string]);
  const statements = tenantDatabaseStatements(tenants, parseInspect(rows));
  // psql -f sends each statement on its own (autocommit), as the RDS Data API would.
  const file = join(dir, "tenants.sql");
  writeFileSync(file, statements.map((s) => `${s.sql};\n`).join(""));
  const r = spawnSync(
    (server as TestPostgres).psqlBin,
    [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "tenkai_admin",
      "-d",
      "postgres",
      "-f",
      file,
    ],
    { encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  return statements.map((s) => s.action);
}

const TENANTS = [
  { tenant: "shop", password: "shop-pass-1" },
  { tenant: "user-s", password: "it's secret" },
];

before(async () => {
  if (unavailable) return;
  server = await startTestPostgres();
  dir = server.dir;
  port = server.port;
  // Aurora's master user is not a superuser: it has CREATEROLE and CREATEDB (rds_superuser).
  const admin = psql("postgres", "postgres", "CREATE ROLE tenkai_admin LOGIN CREATEROLE CREATEDB");
  assert.equal(admin.status, 0, admin.stderr);
});
after(() => server?.stop());

describe("tenant databases on a real PostgreSQL", {
  skip: unavailable ? `no PostgreSQL: ${unavailable}` : false,
}, () => {
  it("creates each tenant's database and role on the first run, and no database on the second", () => {
    const first = applyAsAdmin(TENANTS);
    assert.ok(first.includes("create database tenant_shop"));
    assert.ok(first.includes("create database tenant_user_s"));
    const second = applyAsAdmin(TENANTS);
    assert.ok(!second.some((a) => a.startsWith("create database")), second.join("; "));
    const dbs = psql(
      "postgres",
      "postgres",
      "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'tenant_%' ORDER BY 1",
    );
    assert.equal(dbs.stdout.trim(), "tenant_shop|tenant_shop\ntenant_user_s|tenant_user_s");
    const roles = psql(
      "postgres",
      "postgres",
      "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname LIKE 'tenant_%' ORDER BY 1",
    );
    assert.equal(roles.stdout.trim(), "tenant_shop|f|f|f\ntenant_user_s|f|f|f");
  });

  it("lets a tenant connect to its own database with its password and create tables there", () => {
    const r = psql(
      tenantDatabaseName("shop"),
      tenantDatabaseName("shop"),
      "CREATE TABLE IF NOT EXISTS orders (id int); SELECT current_user",
      "shop-pass-1",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "tenant_shop");
    const quoted = psql(
      tenantDatabaseName("user-s"),
      tenantDatabaseName("user-s"),
      "SELECT 1",
      "it's secret",
    );
    assert.equal(quoted.status, 0, quoted.stderr);
  });

  it("refuses tenant A's role on tenant B's database, and a wrong password", () => {
    const cross = psql(tenantDatabaseName("shop"), tenantDatabaseName("user-s"), "SELECT 1", "shop-pass-1");
    assert.notEqual(cross.status, 0);
    assert.match(cross.stderr, /permission denied for database "tenant_user_s"/);
    const wrong = psql(tenantDatabaseName("shop"), tenantDatabaseName("shop"), "SELECT 1", "not-it");
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /password authentication failed/);
  });

  it("computes the SCRAM-SHA-256 verifier PostgreSQL itself stores for a password", () => {
    const set = psql(
      "postgres",
      "postgres",
      "SET password_encryption = 'scram-sha-256'; CREATE ROLE scram_probe PASSWORD 'pencil-42'",
    );
    assert.equal(set.status, 0, set.stderr);
    const stored = psql(
      "postgres",
      "postgres",
      "SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'",
    ).stdout.trim();
    const salt = Buffer.from(stored.split("$")[1]?.split(":")[1] ?? "", "base64");
    assert.equal(scramVerifier("pencil-42", salt), stored);
    assert.throws(() => scramVerifier("pässword"), RangeError);
  });

  it("re-asserts a changed password on the next run", () => {
    applyAsAdmin([
      { tenant: "shop", password: "rotated-2" },
      TENANTS[1] as { tenant: string; password: string },
    ]);
    assert.equal(psql("tenant_shop", "tenant_shop", "SELECT 1", "rotated-2").status, 0);
    assert.notEqual(psql("tenant_shop", "tenant_shop", "SELECT 1", "shop-pass-1").status, 0);
  });
});

describe("applyTenantDatabases over node-postgres", {
  skip: unavailable ? `no PostgreSQL: ${unavailable}` : false,
}, () => {
  const example = () => loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
  const admin = () => pgExecutor({ host: dir, port, user: "tenkai_admin", database: "postgres" });

  it("creates the example's missing tenant databases (shop's exists from above), then nothing, with an event per step", async () => {
    const platform = await example();
    const passwords = new Map(
      platform.spec.tenants.map((t) => [tenantDatabaseSecretName(platform, t.name), `pw-${t.name}-Zq9`]),
    );
    const secrets = {
      secretString: async (name: string) => JSON.stringify({ password: passwords.get(name) }),
    };
    const sql = admin();
    const events: string[] = [];
    const logBefore = (server as TestPostgres).serverLog().length;
    try {
      const first = await applyTenantDatabases(platform, {
        sql,
        secrets,
        sink: (e) => events.push(JSON.stringify(e)),
      });
      assert.deepEqual([...first.created].sort(), ["tenant_orders", "tenant_users"]);
      // user-s from the first suite is no tenant of the example: kept and reported, not dropped.
      assert.deepEqual(first.kept, ["tenant_user_s"]);
      assert.ok(events.some((e) => e.includes('"message":"orders: create database tenant_orders"')));
      assert.ok(
        events.some(
          (e) => e.includes('"code":"aws.database.kept"') && e.includes('"database":"tenant_user_s"'),
        ),
      );
      const second = await applyTenantDatabases(platform, { sql, secrets });
      assert.deepEqual(second.created, []);
      const status = await tenantDatabasesStatus(platform, sql);
      assert.deepEqual(
        status.map((s) => `${s.tenant} ${s.state}`),
        ["shop ok", "users ok", "orders ok", "tenant_user_s not-in-spec"],
      );
    } finally {
      await sql.close?.();
    }
    assert.equal(
      psql("tenant_orders", "tenant_orders", "SELECT current_database()", "pw-orders-Zq9").stdout.trim(),
      "tenant_orders",
    );
    // The server logged every statement (log_statement = all): the passwords never reached it.
    const log = (server as TestPostgres).serverLog().slice(logBefore);
    assert.match(log, /ALTER ROLE "tenant_orders" WITH LOGIN PASSWORD 'SCRAM-SHA-256\$4096:/);
    for (const pw of passwords.values()) {
      assert.ok(!log.includes(pw), `password ${pw} in the server log`);
      assert.ok(!events.some((e) => e.includes(pw)), "no password in events");
    }
  });

  it("db status names what drifted (PUBLIC given CONNECT back, a role that cannot log in) and deploy puts it back", async () => {
    const platform = await example();
    assert.equal(psql("postgres", "postgres", "GRANT CONNECT ON DATABASE tenant_orders TO PUBLIC").status, 0);
    assert.equal(psql("postgres", "postgres", "ALTER ROLE tenant_users NOLOGIN").status, 0);
    const sql = admin();
    try {
      const status = await tenantDatabasesStatus(platform, sql);
      const orders = status.find((s) => s.tenant === "orders");
      assert.equal(orders?.state, "drifted");
      assert.deepEqual(orders?.problems, ["PUBLIC may connect (other tenants' roles could)"]);
      assert.deepEqual(status.find((s) => s.tenant === "users")?.problems, ["role cannot log in"]);
      // deploy puts it back.
      const secrets = { secretString: async () => JSON.stringify({ password: "again-Zq9" }) };
      await applyTenantDatabases(platform, { sql, secrets });
      const after = await tenantDatabasesStatus(platform, sql);
      assert.ok(
        after.filter((s) => s.inSpec).every((s) => s.state === "ok"),
        JSON.stringify(after),
      );
    } finally {
      await sql.close?.();
    }
  });

  it("names the tenant and redacts the password when a statement fails", async () => {
    const platform = await example();
    // A role without CREATEROLE cannot create the tenant roles.
    assert.equal(psql("postgres", "postgres", "CREATE ROLE weak LOGIN").status, 0);
    const sql = pgExecutor({ host: dir, port, user: "weak", database: "postgres" });
    const secrets = { secretString: async () => JSON.stringify({ password: "s3cr3t-value" }) };
    try {
      await assert.rejects(applyTenantDatabases(platform, { sql, secrets }), (e: unknown) => {
        assert.ok(isTenkaiError(e, "AWS_TENANT_SQL_FAILED"));
        assert.match(e.message, /^tenant shop: /);
        assert.ok(!e.message.includes("s3cr3t-value"), e.message);
        return true;
      });
    } finally {
      await sql.close?.();
    }
  });
});

describe("statements as data", () => {
  it("quotes literals and never puts the password in an action", () => {
    assert.equal(quoteLiteral("it's"), "'it''s'");
    const s = tenantDatabaseStatements([{ tenant: "a", password: "p'w" }], { databases: [], roles: [] });
    assert.ok(
      s.every((x) => !x.sql.includes("p'w") && !x.sql.includes("p''w")),
      "password sent as a verifier",
    );
    assert.ok(s.every((x) => !x.action.includes("p'w")));
    assert.ok(s.some((x) => x.sensitive?.includes("p'w")));
  });
});
