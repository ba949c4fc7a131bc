/**
 * Measures the two numbers a newcomer feels first, on the built CLI (`npm run build` first):
 *   - `tenkai --help` cold start (target < 300 ms): heavy libraries must load lazily;
 *   - `tenkai plan examples/platform.yaml` end to end (target < 10 s).
 * Each run is a fresh `node` process. Prints the median and range of N runs and the ratio to target.
 *   npx tsx bench/cli.ts [--runs 7]
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../", import.meta.url).pathname;
const bin = join(root, "bin/tenkai.js");
const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

if (!existsSync(join(root, "dist/cli/main.js"))) {
  console.log("building first (npm run build)");
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
}

function time(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`tenkai ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function report(what: string, samples: number[], targetMs: number): void {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const verdict = median <= targetMs ? "meets" : "MISSES";
  console.log(
    `${what}: median ${median.toFixed(0)} ms (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, ${samples.length} runs); target ${targetMs} ms; median/target = ${(median / targetMs).toFixed(2)} (${verdict})`,
  );
}

// Baseline: a bare node process, so the startup cost tenkai adds is visible.
const bare = Array.from({ length: runs }, () => {
  const start = process.hrtime.bigint();
  spawnSync(process.execPath, ["-e", "0"]);
  return Number(process.hrtime.bigint() - start) / 1e6;
});
report("node -e 0 (baseline)", bare, 300);
report(
  "tenkai --help",
  Array.from({ length: runs }, () => time(["--help"])),
  300,
);
const out = mkdtempSync(join(tmpdir(), "tenkai-bench-plan-"));
const planRuns = Math.max(3, Math.ceil(runs / 2));
report(
  "tenkai plan examples/platform.yaml",
  Array.from({ length: planRuns }, () => time(["plan", "examples/platform.yaml", "--out", out])),
  10_000,
);
console.log(
  `machine: ${process.platform} ${process.arch}, node ${process.version}, ${(await import("node:os")).cpus().length} cores`,
);
