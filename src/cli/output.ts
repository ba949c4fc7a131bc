/**
 * How commands talk to the user. Engines never print (STYLE.md 6): they emit events, and this
 * module is the one sink: progress lines on stderr for people, NDJSON on stdout for scripts, or
 * only warnings with --quiet.
 * It also turns typed errors into a message with its code and fix, and an exit code.
 */
import type { Command } from "commander";
import { exitCodeOf, isTenkaiError, TenkaiError } from "../shared/errors.js";
import type { EventLevel, EventSink, TenkaiEvent } from "../shared/events.js";

export type OutputFormat = "text" | "json";

export interface CommandIO {
  readonly format: OutputFormat;
  /**
   * The one sink every engine is given (shared/events.ts). text: one line per event on stderr,
   * `warning:`/`error:` in front by level; quiet: warnings and errors only; json: every event as
   * one NDJSON line on stdout. Rendering reads `level`, `code` and `data`, never cuts `message`.
   */
  readonly sink: EventSink;
  /** The command's result: json writes one JSON document on stdout; text writes `render(data)`. */
  result<T>(data: T, render: (data: T) => string): void;
  /** A note for people (stderr); silent in json mode and with --quiet. */
  info(message: string): void;
}

export interface OutputStreams {
  readonly stdout: { write(chunk: string): unknown };
  readonly stderr: { write(chunk: string): unknown };
}

/** Flags every command takes (set on the program by conventions.ts, read by `runAction`). */
export interface GlobalFlags {
  /** Print stack traces of unexpected errors. Default false: no stack trace reaches a user unasked. */
  readonly debug: boolean;
}

let globalFlags: GlobalFlags = { debug: false };

/** Called once the program has parsed its options (a preAction hook in conventions.ts). */
export function setGlobalFlags(flags: Partial<GlobalFlags>): void {
  globalFlags = { ...globalFlags, ...flags };
}

const PREFIX: Readonly<Record<EventLevel, string>> = {
  debug: "",
  info: "",
  warn: "warning: ",
  error: "error: ",
};

/** One line of text for an event: its message, marked by its level. */
export function eventLine(e: TenkaiEvent): string {
  return `${PREFIX[e.level]}${e.message}`;
}

export function createIO(
  format: OutputFormat,
  streams: OutputStreams = process,
  options: { readonly quiet?: boolean } = {},
): CommandIO {
  const quiet = options.quiet ?? false;
  const loud = (e: TenkaiEvent) => e.level === "warn" || e.level === "error";
  return {
    format,
    sink(e) {
      if (quiet && !loud(e)) return;
      if (format === "json") streams.stdout.write(`${JSON.stringify(e)}\n`);
      else streams.stderr.write(`${eventLine(e)}\n`);
    },
    result(data, render) {
      if (format === "json") streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      else {
        const text = render(data);
        if (text) streams.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      }
    },
    info(message) {
      if (format === "text" && !quiet) streams.stderr.write(`${message}\n`);
    },
  };
}

/** Adds `-o, --output <text|json>` to a command (`-q, --quiet` comes with every command: conventions.ts). */
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
  opts: { output?: unknown; quiet?: unknown },
  body: (io: CommandIO) => Promise<unknown>,
  streams: OutputStreams = process,
): Promise<void> {
  let format: OutputFormat = "text";
  try {
    format = parseFormat(opts.output);
    const io = createIO(format, streams, { quiet: opts.quiet === true });
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
      if (!known && raw instanceof Error && raw.stack) {
        if (globalFlags.debug) streams.stderr.write(`${raw.stack}\n`);
        else
          streams.stderr.write(
            "  this is a bug in tenkai: run again with --debug for the stack trace, and report it\n",
          );
      }
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
