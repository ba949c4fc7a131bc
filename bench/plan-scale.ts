/**
 * `tenkai validate` and `tenkai plan` on a generated spec of many tenants (default 8,000, about
 * 5 MB of YAML), through the real CLI, timing wall clock and peak RSS with /usr/bin/time. With
 * `--before DIR` it runs the CLI of another checkout (for example /work/main) on the same file
 * and prints the ratio.
 *
 *   node --import tsx bench/plan-scale.ts [tenants] [--before /path/to/other/checkout] [--skip-validate]
 *
 * Target (issue 10): 8,000 tenants planned in under 60 s and under 1 GB on the 2-core machine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSpec } from "./scale-spec.js";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const before = flag("--before");
const skipValidate = args.includes("--skip-validate");
const tenants = Number(args.find((a) => /^\d+$/.test(a)) ?? 8000);
const here = new URL("..", import.meta.url).pathname;

interface Measure {
  readonly seconds: number;
  readonly rssMiB: number;
  readonly code: number;
  readonly tail: string;
}

function run(checkout: string, cliArgs: string[]): Measure {
  const r = spawnSync(
    "/usr/bin/time",
    ["-f", "TIME %e %M", process.execPath, "--import", "tsx", join(checkout, "src/cli/run.ts"), ...cliArgs],
    { cwd: checkout, encoding: "utf8", maxBuffer: 1 << 30 },
  );
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr ?? "");
  return {
    seconds: Number(m?.[1] ?? Number.NaN),
    rssMiB: Math.round(Number(m?.[2] ?? Number.NaN) / 1024),
    code: r.status ?? -1,
    tail: (r.stderr ?? "")
      .replace(/TIME .*\n?/, "")
      .split("\n")
      .slice(-4)
      .join("\n"),
  };
}

const dir = mkdtempSync(join(tmpdir(), "tenkai-plan-scale-"));
const spec = join(dir, "platform.yaml");
writeFileSync(spec, generateSpec(tenants));
const sizeMiB = statSync(spec).size / 2 ** 20;
const commit = (c: string) => {
  try {
    return execFileSync("git", ["-C", c, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};
console.log(
  `input: ${tenants} tenants x (2 services, 1 cron job), ${sizeMiB.toFixed(1)} MiB of YAML; node ${process.version}; load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?"}`,
);
const checkouts: [string, string][] = [
  ...(before ? [["before", before] as [string, string]] : []),
  ["after", here],
];
const results: Record<string, { validate?: Measure; plan: Measure }> = {};
try {
  for (const [label, checkout] of checkouts) {
    const validate = skipValidate ? undefined : run(checkout, ["validate", spec, "-o", "json"]);
    if (validate)
      console.log(
        `${label} (${checkout} @ ${commit(checkout)}) validate: ${validate.seconds} s, peak RSS ${validate.rssMiB} MiB, exit ${validate.code}`,
      );
    const out = join(dir, `out-${label}`);
    const plan = run(checkout, ["plan", spec, "--out", out, "-o", "json"]);
    console.log(
      `${label} (${checkout} @ ${commit(checkout)}) plan:     ${plan.seconds} s, peak RSS ${plan.rssMiB} MiB, exit ${plan.code}${plan.code ? `\n${plan.tail}` : ""}`,
    );
    results[label] = { ...(validate ? { validate } : {}), plan };
  }
  const a = results.after?.plan;
  const b = results.before?.plan;
  if (a && b)
    console.log(
      `plan: before/after time ${(b.seconds / a.seconds).toFixed(1)}x, peak RSS ${(b.rssMiB / a.rssMiB).toFixed(1)}x`,
    );
  if (a)
    console.log(
      `target: under 60 s and under 1024 MiB -> ${a.seconds < 60 && a.rssMiB < 1024 ? "met" : "NOT met"} (${a.seconds} s, ${a.rssMiB} MiB)`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
