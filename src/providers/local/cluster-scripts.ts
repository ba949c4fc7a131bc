/**
 * Runs the local cluster's scripts (cluster/*.sh: up, down, node, addons) as child processes and
 * returns what they printed. The scripts own the processes they start (every PID file lives in the
 * cluster directory); tenkai only calls them.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path of a script under the package's `cluster/` (from src/ or dist/, both two levels down). */
export function clusterScriptPath(script: string): string {
  return fileURLToPath(new URL(`../../../cluster/${script}`, import.meta.url));
}

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A function that runs `bash <script> <args>`; injected so callers can be given another runner. */
export type ScriptRunner = (script: string, args: readonly string[]) => Promise<ScriptResult>;

/**
 * Runs `bash cluster/<script> ...args`. `onStderr` receives the script's progress lines as they
 * come (the scripts log to stderr and print results on stdout).
 */
export function runClusterScript(
  script: string,
  args: readonly string[],
  onStderr?: (line: string) => void,
): Promise<ScriptResult> {
  const path = clusterScriptPath(script);
  if (!existsSync(path)) {
    return Promise.resolve({
      code: 127,
      stdout: "",
      stderr: `${path} does not exist (this tenkai has no local cluster scripts)`,
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [path, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (!onStderr) return;
      const lines = (partial + d).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onStderr(l);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (onStderr && partial.trim()) onStderr(partial);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** The last `n` lines of a script's stderr, for error messages. */
export function tail(text: string, n = 15): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
