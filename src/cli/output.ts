/**
 * How commands talk to the user. Engines never print (STYLE.md 6): they emit events, and this
 * module renders them, as progress lines on stderr for people or NDJSON on stdout for scripts.
 * It also turns typed errors into a message with its code and fix, and an exit code.
 */
import type { Command } from "commander";

export type OutputFormat = "text" | "json";

/** An engine event: `type` names it; the rest are its fields (ids in fields, not only in text). */
export interface CliEvent {
  readonly type: string;
  readonly message?: string;
  readonly [field: string]: unknown;
}

export interface CommandIO {
  readonly format: OutputFormat;
  /** Streams an event: text renders `message` (or the type) on stderr; json writes one NDJSON line. */
  event(e: CliEvent): void;
  /** The command's result: json writes one JSON document on stdout; text writes `render(data)`. */
  result<T>(data: T, render: (data: T) => string): void;
  /** A note for people (stderr); silent in json mode. */
  info(message: string): void;
}

export interface OutputStreams {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

export function createIO(format: OutputFormat, streams: OutputStreams = process): CommandIO {
  return {
    format,
    event(e) {
      if (format === "json") streams.stdout.write(`${JSON.stringify(e)}\n`);
      else streams.stderr.write(`${e.message ?? e.type}\n`);
    },
    result(data, render) {
      if (format === "json") streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        const text = render(data);
        if (text) streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      }
    },
    info(message) {
      if (format === "text") streams.stderr.write(`${message}\n`);
    },
  };
}

/** Adds `-o, --output <text|json>` to a command. */
export function withOutput(cmd: Command): Command {
  return cmd.option("-o, --output <format>", "output format: text or json", "text");
}

function parseFormat(value: unknown): OutputFormat {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw Object.assign(new Error(`--output must be text or json, got "${String(value)}"`), {
    code: "CLI_BAD_OUTPUT",
    fix: "use --output text or --output json",
  });
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  fix?: unknown;
  problems?: unknown;
  cause?: unknown;
  /** Set by an engine error that is bad input rather than a failure (exit 2). */
  exitCode?: unknown;
}

/** Exit codes: 0 ok, 1 the operation failed or found a breach, 2 bad input (spec or flags). */
export function exitCodeFor(err: ErrorShape): number {
  if (err.exitCode === 2) return 2;
  const code = typeof err.code === "string" ? err.code : "";
  return code.startsWith("SPEC_") || code.startsWith("CLI_") ? 2 : 1;
}

/**
 * Runs a command's body with its IO, renders any error (with code, fix and causes) and sets
 * `process.exitCode`. The body returns its exit code (default 0).
 */
export async function runAction(
  opts: { output?: unknown },
  body: (io: CommandIO) => Promise<unknown>,
  streams: OutputStreams = process,
): Promise<void> {
  let format: OutputFormat = "text";
  try {
    format = parseFormat(opts.output);
    const io = createIO(format, streams);
    const code = await body(io);
    process.exitCode = typeof code === "number" ? code : 0;
  } catch (raw) {
    const err = (raw ?? {}) as ErrorShape;
    const code = typeof err.code === "string" ? err.code : "INTERNAL";
    const message = typeof err.message === "string" ? err.message : String(raw);
    const fix = typeof err.fix === "string" ? err.fix : undefined;
    if (format === "json") {
      streams.stdout.write(
        `${JSON.stringify({ error: { code, message, fix, problems: err.problems, causes: causes(err) } }, null, 2)}\n`,
      );
    } else {
      const chain = causes(err)
        .map((c) => `\n  caused by: ${c}`)
        .join("");
      streams.stderr.write(`error ${code}: ${message}${chain}${fix ? `\n  fix: ${fix}` : ""}\n`);
      if (code === "INTERNAL" && raw instanceof Error && raw.stack) streams.stderr.write(`${raw.stack}\n`);
    }
    process.exitCode = exitCodeFor(err);
  }
}

function causes(err: ErrorShape): string[] {
  const out: string[] = [];
  let cur = err.cause as ErrorShape | undefined;
  for (let i = 0; cur && i < 5; i++) {
    out.push(typeof cur.message === "string" ? cur.message : String(cur));
    cur = cur.cause as ErrorShape | undefined;
  }
  return out;
}
