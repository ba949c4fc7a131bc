/**
 * The tenant SQL against a real PostgreSQL server (Debian's package; scripts/setup-postgres.sh
 * installs it): a throwaway cluster from initdb on a free port, the SQL run twice as a
 * non-superuser admin with CREATEROLE and CREATEDB (what Aurora's master user is), then what a
 * tenant would try: connect to its own database, create a table, connect to another's.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tenantDatabaseName, tenantDatabaseSecretName } from "../shared/aws-names.js";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { applyTenantDatabases, psqlExecutor } from "./tenant-database.js";
import { INSPECT_SQL, parseInspect, quoteLiteral, tenantDatabaseStatements } from "./tenant-database-sql.js";

function findBin(name: string): string | undefined {
  const onPath = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (onPath) return onPath;
  const base = "/usr/lib/postgresql";
  if (!existsSync(base)) return undefined;
  for (const v of readdirSync(base).sort().reverse())
    if (existsSync(join(base, v, "bin", name))) return join(base, v, "bin", name);
  return undefined;
}

const bins = { initdb: findBin("initdb"), pg_ctl: findBin("pg_ctl"), psql: findBin("psql") };
const missing = Object.entries(bins)
  .filter(([, v]) => !v)
  .map(([k]) => k);
// PostgreSQL refuses to run as root: run the server as the `postgres` user then.
const asRoot = userInfo().uid === 0;
const pgUser = asRoot ? spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }) : undefined;
const serverUid = pgUser ? Number(pgUser.stdout.trim()) : undefined;
const serverGid = pgUser
  ? Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout.trim())
  : undefined;
const unavailable =
  missing.length > 0
    ? `PostgreSQL binaries missing (${missing.join(", ")}): run scripts/setup-postgres.sh`
    : asRoot && pgUser?.status !== 0
      ? "running as root and there is no postgres user to run the server as"
      : undefined;

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
  asServer = false,
): SpawnSyncReturns<string> {
  const [c, a] = asServer && asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  return spawnSync(c, a, { encoding: "utf8", env: { ...process.env, ...env } });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

let dir = "";
let port = 0;
let started = false;

/** psql as `user` over the socket (trust) or, with a password, over TCP (scram-sha-256). */
function psql(user: string, db: string, sql: string, password?: string): SpawnSyncReturns<string> {
  const host = password ? "127.0.0.1" : dir;
  return run(
    bins.psql as string,
    ["-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", String(port), "-U", user, "-d", db, "-c", sql],
    password ? { PGPASSWORD: password } : {},
  );
}

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
  const r = run(bins.psql as string, [
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
  ]);
  assert.equal(r.status, 0, r.stderr);
  return statements.map((s) => s.action);
}

const TENANTS = [
  { tenant: "shop", password: "shop-pass-1" },
  { tenant: "user-s", password: "it's secret" },
];

before(async () => {
  if (unavailable) return;
  dir = mkdtempSync(join(tmpdir(), "tenkai-pg-"));
  if (asRoot) chownSync(dir, serverUid as number, serverGid as number);
  port = await freePort();
  const init = run(
    bins.initdb as string,
    [
      "-D",
      join(dir, "data"),
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--no-sync",
    ],
    {},
    true,
  );
  assert.equal(init.status, 0, init.stderr);
  const start = run(
    bins.pg_ctl as string,
    [
      "-D",
      join(dir, "data"),
      "-l",
      join(dir, "server.log"),
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "start",
    ],
    {},
    true,
  );
  assert.equal(start.status, 0, `${start.stdout}${start.stderr}`);
  started = true;
  // Aurora's master user is not a superuser: it has CREATEROLE and CREATEDB (rds_superuser).
  const admin = psql("postgres", "postgres", "CREATE ROLE tenkai_admin LOGIN CREATEROLE CREATEDB");
  assert.equal(admin.status, 0, admin.stderr);
});
after(() => {
  if (started)
    run(bins.pg_ctl as string, ["-D", join(dir, "data"), "-m", "immediate", "-w", "stop"], {}, true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

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

  it("re-asserts a changed password on the next run", () => {
    applyAsAdmin([
      { tenant: "shop", password: "rotated-2" },
      TENANTS[1] as { tenant: string; password: string },
    ]);
    assert.equal(psql("tenant_shop", "tenant_shop", "SELECT 1", "rotated-2").status, 0);
    assert.notEqual(psql("tenant_shop", "tenant_shop", "SELECT 1", "shop-pass-1").status, 0);
  });
});

describe("applyTenantDatabases over psql", {
  skip: unavailable ? `no PostgreSQL: ${unavailable}` : false,
}, () => {
  it("creates the example's missing tenant databases (shop's exists from above), then nothing, with an event per step", async () => {
    const platform = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
    const passwords = new Map(
      platform.spec.tenants.map((t) => [tenantDatabaseSecretName(platform, t.name), `pw-${t.name}`]),
    );
    const secrets = {
      secretString: async (name: string) => JSON.stringify({ password: passwords.get(name) }),
    };
    const sql = psqlExecutor({
      host: dir,
      port,
      user: "tenkai_admin",
      database: "postgres",
      psql: bins.psql,
    });
    const events: string[] = [];
    const first = await applyTenantDatabases(platform, {
      sql,
      secrets,
      sink: (e) => events.push(e.message),
    });
    assert.deepEqual([...first.created].sort(), ["tenant_orders", "tenant_users"]);
    assert.ok(events.includes("orders: create database tenant_orders"));
    assert.ok(
      events.every((m) => !m.includes("pw-")),
      "no password in events",
    );
    const second = await applyTenantDatabases(platform, { sql, secrets });
    assert.deepEqual(second.created, []);
    assert.equal(
      psql("tenant_orders", "tenant_orders", "SELECT current_database()", "pw-orders").stdout.trim(),
      "tenant_orders",
    );
  });
  it("names the tenant and redacts the password when a statement fails", async () => {
    const platform = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
    // A role without CREATEROLE cannot create the tenant roles.
    assert.equal(psql("postgres", "postgres", "CREATE ROLE weak LOGIN").status, 0);
    const sql = psqlExecutor({ host: dir, port, user: "weak", database: "postgres", psql: bins.psql });
    const secrets = { secretString: async () => JSON.stringify({ password: "s3cr3t-value" }) };
    await assert.rejects(applyTenantDatabases(platform, { sql, secrets }), (e: unknown) => {
      assert.ok(isTenkaiError(e, "AWS_TENANT_SQL_FAILED"));
      assert.match(e.message, /^tenant shop: /);
      assert.ok(!e.message.includes("s3cr3t-value"), e.message);
      return true;
    });
  });
});

describe("statements as data", () => {
  it("quotes literals and never puts the password in an action", () => {
    assert.equal(quoteLiteral("it's"), "'it''s'");
    const s = tenantDatabaseStatements([{ tenant: "a", password: "p'w" }], { databases: [], roles: [] });
    assert.ok(s.some((x) => x.sql.includes("PASSWORD 'p''w'")));
    assert.ok(s.every((x) => !x.action.includes("p'w")));
  });
});
