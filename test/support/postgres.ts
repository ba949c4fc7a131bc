/**
 * A throwaway real PostgreSQL server for tests (Debian's packages; scripts/setup-postgres.sh
 * installs them): initdb in a temp dir, a free port, a Unix socket in the same dir, trust over
 * the socket and scram-sha-256 over TCP, every statement logged (log_statement = all) so tests
 * can read what reached the server. Runs as the `postgres` user when the tests run as root.
 */
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

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
const asRoot = userInfo().uid === 0;
const idOf = (flag: "-u" | "-g") => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });

/** Why a PostgreSQL server cannot be started here, or undefined when it can. */
export function postgresUnavailableReason(): string | undefined {
  const missing = Object.entries(bins)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  if (missing.length > 0)
    return `PostgreSQL binaries missing (${missing.join(", ")}): run scripts/setup-postgres.sh`;
  if (asRoot && idOf("-u").status !== 0)
    return "running as root and there is no postgres user to run the server as";
  return undefined;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, asServer = false) {
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

export interface TestPostgres {
  /** The temp dir, also the Unix socket directory (the `host` for socket connections). */
  readonly dir: string;
  readonly port: number;
  readonly psqlBin: string;
  /** psql as `user` over the socket (trust) or, with a password, over TCP (scram-sha-256). */
  psql(user: string, db: string, sql: string, password?: string): SpawnSyncReturns<string>;
  /** The server's log so far (every statement it ran). */
  serverLog(): string;
  stop(): void;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const reason = postgresUnavailableReason();
  if (reason) throw new Error(reason);
  const dir = mkdtempSync(join(tmpdir(), "tenkai-pg-"));
  if (asRoot) chownSync(dir, Number(idOf("-u").stdout.trim()), Number(idOf("-g").stdout.trim()));
  const port = await freePort();
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  const init = run(
    bins.initdb as string,
    ["-D", data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync"],
    {},
    true,
  );
  assert.equal(init.status, 0, init.stderr);
  const start = run(
    bins.pg_ctl as string,
    [
      "-D",
      data,
      "-l",
      log,
      "-w",
      "-t",
      "30",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c log_statement=all`,
      "start",
    ],
    {},
    true,
  );
  assert.equal(start.status, 0, `${start.stdout}${start.stderr}`);
  const psql = (user: string, db: string, sql: string, password?: string) =>
    run(
      bins.psql as string,
      [
        "-X",
        "-qAt",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        password ? "127.0.0.1" : dir,
        "-p",
        String(port),
        "-U",
        user,
        "-d",
        db,
        "-c",
        sql,
      ],
      password ? { PGPASSWORD: password } : {},
    );
  return {
    dir,
    port,
    psqlBin: bins.psql as string,
    psql,
    serverLog: () => (existsSync(log) ? readFileSync(log, "utf8") : ""),
    stop() {
      run(bins.pg_ctl as string, ["-D", data, "-m", "immediate", "-w", "stop"], {}, true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
