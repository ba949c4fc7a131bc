/**
 * How commands talk to the user. Engines never print (STYLE.md 6): they emit events, and this
 * module renders them, as progress lines on stderr for people or NDJSON on stdout for scripts.
 * It also turns typed errors into a message with its code and fix, and an exit code.
 */
import type { Command } from "commander";
import { exitCodeOf, isTenkaiError, TenkaiError } from "../shared/errors.js";

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
  throw new TenkaiError(
    "CLI_BAD_OUTPUT",
    `--output must be text or json, got "${String(value)}"`,
    "use --output text or --output json",
  );
}

/** Exit codes: 0 ok, 1 the operation failed or found a breach, 2 bad input (spec or flags). */
export function exitCodeFor(err: unknown): number {
  return isTenkaiError(err) ? exitCodeOf(err.code) : 1;
}

/**
 * Runs a command's body with its IO, renders any error (with code, fix and causes) and sets
 * `process.exitCode`. The body returns its exit code (default 0). An error that is not a
 * TenkaiError is a bug: it is reported as INTERNAL with its stack.
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
    const known = isTenkaiError(raw) ? raw : undefined;
    const code = known?.code ?? "INTERNAL";
    const message = raw instanceof Error ? raw.message : String(raw);
    const fix = known?.fix;
    if (format === "json") {
      const error = {
        code,
        message,
        fix,
        details: known?.details,
        problems: known?.problems,
        causes: causes(raw),
      };
      streams.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`);
    } else {
      const chain = causes(raw)
        .map((c) => `\n  caused by: ${c}`)
        .join("");
      streams.stderr.write(`error ${code}: ${message}${chain}${fix ? `\n  fix: ${fix}` : ""}\n`);
      if (!known && raw instanceof Error && raw.stack) streams.stderr.write(`${raw.stack}\n`);
    }
    process.exitCode = exitCodeFor(raw);
  }
}

function causes(err: unknown): string[] {
  const out: string[] = [];
  let cur = err instanceof Error ? err.cause : undefined;
  for (let i = 0; cur !== undefined && i < 5; i++) {
    out.push(cur instanceof Error ? cur.message : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return out;
}
