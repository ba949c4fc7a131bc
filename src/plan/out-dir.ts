/**
 * The plan output directory, and the promise that goes with it: tenkai removes only what it wrote.
 *
 * A directory becomes tenkai's when tenkai creates it, or finds it empty, and writes the marker
 * file `.tenkai-plan` into it. A later plan into a marked directory replaces only the entries a
 * plan writes (`cdk.out/`, `manifests/`, `plan.json`); anything else in it stays. A directory that
 * holds other files and no marker is refused, and so is any layout that would put the spec itself
 * where a plan writes.
 */
import { lstat, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { TenkaiError } from "../shared/errors.js";

/** The marker that says "tenkai made this directory"; its content names the tool and the layout. */
export const OUT_MARKER = ".tenkai-plan";
/** Every entry a plan writes into its directory; the only entries it ever removes. */
export const PLAN_ENTRIES = ["cdk.out", "manifests", "plan.json"] as const;

const MARKER_TEXT = `tenkai plan output: tenkai replaces ${PLAN_ENTRIES.join(", ")} here on each plan and touches nothing else.\n`;

/** A directory tenkai will not write into (CLI_ codes: the --out flag is bad input, exit 2). */
export class PlanOutputError extends TenkaiError {
  override name = "PlanOutputError";
}

export interface PrepareOutOptions {
  /** Files that must survive the plan whatever happens (the spec being planned). */
  readonly protect?: readonly string[];
}

/**
 * Makes `outDir` ready for a plan: creates and marks it, or checks it is tenkai's, then removes
 * the previous plan's entries. Throws `PlanOutputError` (before removing anything) when the
 * directory is not tenkai's or a protected file lies where a plan writes.
 */
export async function prepareOutDir(outDir: string, options: PrepareOutOptions = {}): Promise<void> {
  const dir = resolve(outDir);
  for (const file of options.protect ?? []) {
    const inside = relative(dir, resolve(file));
    const first = inside.split(sep)[0] ?? "";
    if (inside === "" || (PLAN_ENTRIES as readonly string[]).includes(first) || first === OUT_MARKER) {
      throw new PlanOutputError(
        "CLI_OUT_HOLDS_SPEC",
        `the spec ${file} lies where a plan into ${outDir} writes`,
        "plan into another directory, for example --out out/plan, or move the spec out of it",
      );
    }
  }

  const info = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw new PlanOutputError(
      "PLAN_OUT_UNREADABLE",
      `cannot read the output directory ${outDir} (${err.code ?? err.message})`,
      "check its permissions, or choose another --out",
      { cause: err },
    );
  });
  if (!info) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, OUT_MARKER), MARKER_TEXT);
    return;
  }
  if (!info.isDirectory()) {
    throw new PlanOutputError(
      "CLI_OUT_NOT_DIRECTORY",
      `--out ${outDir} is a file, not a directory`,
      "choose a directory for the plan, for example --out out/plan",
    );
  }
  const entries = await readdir(dir);
  const marked = entries.includes(OUT_MARKER) && (await stat(join(dir, OUT_MARKER))).isFile();
  if (!marked) {
    if (entries.length > 0 && !(await isUnmarkedPlan(dir, entries))) {
      const shown =
        entries.slice(0, 5).join(", ") + (entries.length > 5 ? `, … (${entries.length} in all)` : "");
      throw new PlanOutputError(
        "CLI_OUT_NOT_OURS",
        `--out ${outDir} already holds files tenkai did not write (${shown}); a plan replaces its output directory, so tenkai refuses one it did not make`,
        "choose a new or empty directory, for example --out out/plan",
      );
    }
    await writeFile(join(dir, OUT_MARKER), MARKER_TEXT);
  }
  for (const entry of PLAN_ENTRIES) await rm(join(dir, entry), { recursive: true, force: true });
}

/**
 * A plan written before the marker existed: nothing but plan entries, and a plan.json that is a
 * plan summary. It is adopted (marked) rather than refused.
 */
async function isUnmarkedPlan(dir: string, entries: readonly string[]): Promise<boolean> {
  if (!entries.every((e) => (PLAN_ENTRIES as readonly string[]).includes(e))) return false;
  if (!entries.includes("plan.json")) return false;
  try {
    const summary = JSON.parse(await readFile(join(dir, "plan.json"), "utf8")) as Record<string, unknown>;
    return typeof summary.platform === "string" && typeof summary.aws === "object" && summary.aws !== null;
  } catch {
    return false;
  }
}
