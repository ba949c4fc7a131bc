/**
 * The preamble of every test that brings a platform up on real local nodes with `tenkai local up`
 * (network-fault, local-network): why it must skip on this machine (printed once), a work
 * directory with the spec, the cluster brought up before the tests and removed after them
 * (kept with TENKAI_KEEP_CLUSTER=1), and the CLI run as a child process. Test support only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import { localDown } from "../../src/local/down.js";
import type { LocalUpEvent } from "../../src/local/events.js";
import { type LocalUpResult, localUp } from "../../src/local/up.js";
import { loadPlatform } from "../../src/spec/load.js";
import { clusterPrerequisiteProblem, realNodePrerequisiteProblem } from "./cluster.js";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Why real nodes cannot run here (printed as `<test>: skipping: ...`), or undefined. */
export function realNodeSkip(test: string): string | undefined {
  const skip = clusterPrerequisiteProblem() ?? realNodePrerequisiteProblem();
  if (skip) process.stderr.write(`${test}: skipping: ${skip}\n`);
  return skip;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository's root; resolves with its exit code and output. */
export function runCommand(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    p.on("error", reject);
    p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** `tenkai ARGS` from the sources. */
export const tenkai = (args: string[]) =>
  runCommand(process.execPath, ["--import", "tsx", join(repoRoot, "src/cli/run.ts"), ...args]);

export interface LocalPlatform {
  readonly work: string;
  readonly file: string;
  readonly clusterDir: string;
  /** Set once `before` ran. */
  up: LocalUpResult;
  kc: KubeConfig;
  readonly events: LocalUpEvent[];
}

/**
 * Inside a `describe`: writes `spec` to a fresh work directory, runs `tenkai local up` before its
 * tests and `tenkai local down --purge` after them.
 */
export function localPlatform(spec: string, prefix: string): LocalPlatform {
  const work = mkdtempSync(join(tmpdir(), `tenkai-${prefix}-`));
  const p = {
    work,
    file: join(work, "platform.yaml"),
    clusterDir: join(work, "cluster"),
    events: [] as LocalUpEvent[],
  } as LocalPlatform;
  before(async () => {
    writeFileSync(p.file, spec);
    p.up = await localUp({
      platform: await loadPlatform(p.file),
      file: p.file,
      clusterDir: p.clusterDir,
      timeoutMs: 600_000,
      sink: (e) => p.events.push(e),
    });
    p.kc = new KubeConfig();
    p.kc.loadFromFile(p.up.kubeconfig);
  });
  after(async () => {
    if (!process.env.TENKAI_KEEP_CLUSTER) await localDown({ clusterDir: p.clusterDir, purge: true });
  });
  return p;
}
