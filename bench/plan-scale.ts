/**
 * `tenkai validate` and `tenkai plan` on a generated spec of many tenants (default 8,000, about
 * 5 MB of YAML), through the real CLI, timing wall clock and peak RSS with /usr/bin/time. With
 * `--before DIR` it runs the CLI of another checkout (for example /work/main) on the same file
 * and prints the ratio, and compares the two plans' output byte for byte (every file of cdk.out and
 * manifests; plan.json without its timing and output paths); first, as a quick check, it plans
 * the example platform and a 50-tenant spec with both checkouts and compares those the same way.
 *
 *   node --import tsx bench/plan-scale.ts [tenants] [--before /path/to/other/checkout] [--skip-validate]
 *
 * Target (issue 10): 8,000 tenants planned in under 60 s and under 1 GB on the 2-core machine.
 * Wall time on a shared machine counts time spent waiting for a core, so the CPU time (user+sys)
 * and the load average before and after are printed beside it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
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
  /** user + sys CPU seconds */
  readonly cpu: number;
  readonly rssMiB: number;
  readonly code: number;
  readonly tail: string;
}

function run(checkout: string, cliArgs: string[]): Measure {
  const r = spawnSync(
    "/usr/bin/time",
    [
      "-f",
      "TIME %e %M %U %S",
      process.execPath,
      "--import",
      "tsx",
      join(checkout, "src/cli/run.ts"),
      ...cliArgs,
    ],
    { cwd: checkout, encoding: "utf8", maxBuffer: 1 << 30 },
  );
  const m = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr ?? "");
  return {
    seconds: Number(m?.[1] ?? Number.NaN),
    cpu: Math.round((Number(m?.[3] ?? Number.NaN) + Number(m?.[4] ?? Number.NaN)) * 100) / 100,
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
    return execFileSync("git", ["-C", c, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "?";
  }
};
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(
  `input: ${tenants} tenants x (2 services, 1 cron job), ${sizeMiB.toFixed(1)} MiB of YAML; node ${process.version}; load average (1, 5, 15 min) ${load()} on ${availableParallelism()} cores`,
);
const checkouts: [string, string][] = [
  ...(before ? [["before", before] as [string, string]] : []),
  ["after", here],
];
const results: Record<string, { validate?: Measure; plan: Measure }> = {};
try {
  if (before) {
    const small = join(dir, "fifty.yaml");
    writeFileSync(small, generateSpec(50));
    for (const [name, file] of [
      ["examples/platform.yaml", join(here, "examples/platform.yaml")],
      ["50 tenants", small],
    ] as const) {
      const outs = [join(dir, `check-before`), join(dir, `check-after`)] as const;
      const codes = [
        run(before, ["plan", file, "--out", outs[0], "-o", "json"]),
        run(here, ["plan", file, "--out", outs[1], "-o", "json"]),
      ];
      console.log(
        `check ${name}: ${codes.some((c) => c.code) ? `plan failed (exit ${codes.map((c) => c.code).join(", ")})` : compareOutputs(...outs)}`,
      );
      for (const o of outs) rmSync(o, { recursive: true, force: true });
    }
  }
  for (const [label, checkout] of checkouts) {
    const validate = skipValidate ? undefined : run(checkout, ["validate", spec, "-o", "json"]);
    if (validate)
      console.log(
        `${label} (${checkout} @ ${commit(checkout)}) validate: ${validate.seconds} s (CPU ${validate.cpu} s), peak RSS ${validate.rssMiB} MiB, exit ${validate.code}`,
      );
    const out = join(dir, `out-${label}`);
    const plan = run(checkout, ["plan", spec, "--out", out, "-o", "json"]);
    console.log(
      `${label} (${checkout} @ ${commit(checkout)}) plan:     ${plan.seconds} s (CPU ${plan.cpu} s), peak RSS ${plan.rssMiB} MiB, exit ${plan.code}${plan.code ? `\n${plan.tail}` : ""}`,
    );
    results[label] = { ...(validate ? { validate } : {}), plan };
  }
  const a = results.after?.plan;
  const b = results.before?.plan;
  if (a && b) {
    console.log(
      `plan: before/after wall time ${(b.seconds / a.seconds).toFixed(2)}x, CPU time ${(b.cpu / a.cpu).toFixed(2)}x, peak RSS ${(b.rssMiB / a.rssMiB).toFixed(2)}x`,
    );
    if (!a.code && !b.code)
      console.log(`output: ${compareOutputs(join(dir, "out-before"), join(dir, "out-after"))}`);
  }
  if (a) {
    console.log(
      `target: under 60 s and under 1024 MiB -> wall ${a.seconds} s (${(a.seconds / 60).toFixed(2)} of the target), CPU ${a.cpu} s (${(a.cpu / 60).toFixed(2)}), peak RSS ${a.rssMiB} MiB (${(a.rssMiB / 1024).toFixed(2)}): ${a.seconds < 60 && a.rssMiB < 1024 ? "met" : a.cpu < 60 && a.rssMiB < 1024 ? "met in CPU time, not in wall time on this loaded machine" : "NOT met"}`,
    );
    console.log(`load average after: ${load()}`);
  }
} finally {
  if (!process.env.KEEP_PLAN_SCALE_OUTPUT) rmSync(dir, { recursive: true, force: true });
}

/** Every file of two plan outputs, byte for byte; plan.json without timing and output paths. */
function compareOutputs(before: string, after: string): string {
  const files = (root: string) =>
    readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
      .sort();
  const planJson = (root: string) =>
    readFileSync(join(root, "plan.json"), "utf8")
      .replaceAll(root, "<out>")
      .replace(/"elapsedMs": \d+/, '"elapsedMs": 0');
  const a = files(before);
  const b = files(after);
  const differ: string[] = [];
  if (a.join("\n") !== b.join("\n")) differ.push("the list of files");
  for (const f of a.filter((x) => b.includes(x))) {
    // A construct warning's metadata carries the stack trace of the checkout that planned it.
    const trace = (root: string) => readFileSync(join(root, f), "utf8").replace(/"\s+at [^"]*"/g, '"at"');
    const same =
      f === "plan.json"
        ? planJson(before) === planJson(after)
        : f.endsWith(".metadata.json")
          ? trace(before) === trace(after)
          : readFileSync(join(before, f)).equals(readFileSync(join(after, f)));
    if (!same) differ.push(f);
  }
  return differ.length === 0
    ? `identical (${a.length} files byte for byte; plan.json without elapsedMs and output paths, *.metadata.json without the stack traces' file paths and lines)`
    : `DIFFERENT: ${differ.slice(0, 10).join(", ")}${differ.length > 10 ? ` and ${differ.length - 10} more` : ""}`;
}
