/**
 * `tenkai upgrade run` from tests: the example platform with environments, and the CLI run as a
 * child process with `-o json` (its NDJSON events, streamed to a callback, and its final document).
 * Test support only.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * The example platform on the local target, one kwok group, staging promoting to production:
 * both environments on `context`, or production on `productionContext` (a second cluster).
 */
export function platformWithEnvironments(
  context: string,
  groups: string,
  productionContext: string = context,
): string {
  const text = `${readFileSync(join(root, "examples/platform.yaml"), "utf8")
    .replace(/^spec:\n/m, "spec:\n  target: local\n")
    .replace(/- \{\s*name: general,(?:[^{}]|\{[^}]*\})*\}/, groups)
    .replace(/^environments:[\s\S]*$/m, "")}
environments:
  staging: { context: ${context}, promotesTo: production }
  production: { context: ${productionContext} }
`;
  const dir = mkdtempSync(join(tmpdir(), "tenkai-upgrade-run-"));
  const file = join(dir, "platform.yaml");
  writeFileSync(file, text);
  return file;
}

export interface CliEvent {
  code: string;
  level: string;
  message: string;
  data: Record<string, unknown>;
}

export interface CliRun {
  code: number;
  events: CliEvent[];
  doc: Record<string, unknown>;
  stdout: string;
  stderr: string;
}

/** `tenkai ARGS -o json`: the NDJSON events and the final JSON document. */
export function tenkaiJson(args: string[], onEvent?: (event: CliEvent) => void) {
  const p = spawn(
    process.execPath,
    ["--import", "tsx", join(root, "src/cli/run.ts"), ...args, "-o", "json"],
    {
      cwd: root,
    },
  );
  const done = new Promise<CliRun>((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let partial = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      const lines = (partial + d).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (!l.startsWith('{"time"')) continue;
        try {
          onEvent?.(JSON.parse(l) as CliEvent);
        } catch {}
      }
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    p.on("error", reject);
    p.on("close", (code) => {
      const lines = stdout.split("\n");
      const events = lines.filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l));
      const start = lines.lastIndexOf("{");
      const doc = start >= 0 ? JSON.parse(lines.slice(start).join("\n")) : {};
      resolve({ code: code ?? 1, events, doc, stdout, stderr });
    });
  });
  return { child: p, done };
}
