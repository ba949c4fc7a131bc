/** Runs the real CLI (from source, through tsx) as a user would: no AWS credentials, no cluster. */
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const EXAMPLE = join(ROOT, "examples/platform.yaml");

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function tenkai(args: readonly string[], cwd = ROOT, extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    KUBECONFIG: "/nonexistent",
    ...extraEnv,
  };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/run.ts"), ...args],
      { cwd, env, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

/** No stack trace reached the user: no `    at fn (file:line)` frames. */
export function hasStack(text: string): boolean {
  return /^\s+at .+[:(]/m.test(text);
}
