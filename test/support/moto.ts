/**
 * moto's server mode for AWS tests: a real HTTP endpoint that the real AWS SDK talks to
 * (.venv/bin/moto_server from scripts/setup-python.sh), on a free port, one per test file.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const MOTO = fileURLToPath(new URL("../../.venv/bin/moto_server", import.meta.url));

export interface Moto {
  readonly endpoint: string;
  readonly proc: ChildProcess;
  /** SDK client options for this server (fake credentials). */
  clientConfig(region: string): {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
  };
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** Starts moto, or returns why it cannot (the test then skips with that reason). */
export async function startMoto(): Promise<Moto | string> {
  if (!existsSync(MOTO)) return `moto_server is not installed at ${MOTO}; run: bash scripts/setup-python.sh`;
  const port = await freePort();
  const proc = spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  // Waits on the server answering (a condition), 30 s at most on a busy machine.
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      return {
        endpoint,
        proc,
        clientConfig: (region) => ({
          endpoint,
          region,
          credentials: { accessKeyId: "test", secretAccessKey: "test" },
          forcePathStyle: true,
        }),
        stop: () => proc.kill(),
      };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  proc.kill();
  return `moto_server did not answer on ${endpoint} within 30 s`;
}
