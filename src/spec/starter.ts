/** The starter spec that `tenkai init` writes: commented, and valid as written. */
import { writeFile } from "node:fs/promises";
import { eksVersions, readDataText } from "../shared/data.js";
import { TenkaiError } from "../shared/errors.js";
import { validateText } from "./load.js";

export interface StarterOptions {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  /** Overwrite an existing file. Default false: an existing spec is never lost. */
  readonly force: boolean;
  /** The clock that picks the newest version in standard support. Default now. */
  readonly now?: Date;
}

export function starterSpec(options: Omit<StarterOptions, "force">): string {
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const versions = eksVersions().versions.filter(
    (v) => v.endOfStandardSupport >= today && v.released <= today,
  );
  const version = versions.at(-1)?.version ?? eksVersions().versions.at(-1)!.version;
  const values: Record<string, string> = {
    name: options.name,
    account: options.account,
    region: options.region,
    version,
  };
  return readDataText("templates/platform.yaml").replace(/\{\{(\w+)\}\}/g, (_, k: string) => values[k] ?? "");
}

export async function writeStarter(
  file: string,
  options: StarterOptions,
): Promise<{ file: string; version: string }> {
  const text = starterSpec(options);
  // Check the options by validating what would be written: nothing is written that then fails.
  const flags: Record<string, string> = {
    "metadata.name": "--name",
    "spec.aws.account": "--account",
    "spec.aws.region": "--region",
  };
  const bad = validateText(text, file).problems.filter((p) => p.severity === "error");
  if (bad.length > 0) {
    const lines = bad.map((p) => `${flags[p.path] ?? p.path}: ${p.message}`);
    throw Object.assign(
      new TenkaiError(
        "CLI_BAD_FLAG",
        `not writing ${file}: ${lines.join("; ")}`,
        bad
          .map((p) =>
            flags[p.path] && p.fix
              ? p.fix.replace(/^write (?:\w+: )?/, `pass ${flags[p.path]} `).replace(/ in quotes,/, ",")
              : `pass a valid ${flags[p.path] ?? p.path}`,
          )
          .join("; "),
      ),
      { problems: bad },
    );
  }
  try {
    await writeFile(file, text, { flag: options.force ? "w" : "wx" });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") {
      throw new TenkaiError(
        "CLI_FILE_EXISTS",
        `${file} already exists; not overwriting it`,
        "pick another path, or pass --force to replace it",
        { cause },
      );
    }
    throw new TenkaiError(
      "INIT_WRITE_FAILED",
      `cannot write ${file}`,
      "check the directory exists and is writable",
      { cause },
    );
  }
  return { file, version: /version: "([\d.]+)"/.exec(text)?.[1] ?? "" };
}
