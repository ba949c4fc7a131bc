/**
 * `tenkai logs TENANT [SERVICE]`: tails a tenant's log group, or runs a saved or given Logs
 * Insights query on it, with the caller's own AWS credentials (the AWS plane's policies decide
 * who may read which group). Lines as text, or NDJSON events with `-o json`.
 *
 * `tenkai logs --alb [TENANT]`: the shared ALB's access logs, which exist only in S3, through
 * Amazon Athena: the saved query "latency and errors per API path" over `--since`, one row per
 * route of the spec (or of one tenant).
 */
import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { type AwsFlags, clientConfig, report } from "../aws-steps.js";
import { type CommandIO, runAction, withOutput } from "../output.js";

interface LogsFlags extends AwsFlags {
  readonly output?: string;
  readonly file: string;
  readonly env?: string;
  readonly since: string;
  readonly follow?: boolean;
  readonly query?: string;
  readonly insights?: string;
  readonly alb?: boolean;
}

/** Rows as aligned columns (the first row is the header). */
function table(columns: readonly string[], rows: readonly Readonly<Record<string, string>>[]): string {
  const w = columns.map((c) => Math.max(c.length, ...rows.map((row) => (row[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(w[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line([...columns]), ...rows.map((row) => line(columns.map((c) => row[c] ?? "")))].join("\n");
}

async function albLogs(
  tenant: string | undefined,
  service: string | undefined,
  opts: LogsFlags,
  io: CommandIO,
) {
  if (service !== undefined || opts.follow || opts.query !== undefined || opts.insights !== undefined)
    throw new TenkaiError(
      "CLI_BAD_FLAGS",
      "--alb reads the shared ALB's access logs per API path: it takes a tenant at most, and no service, --follow, --query or --insights",
      "run tenkai logs --alb [TENANT] --since 1h, or drop --alb to read a tenant's own logs",
    );
  const { loadPlatform } = await import("../../spec/load.js");
  const { AthenaClient } = await import("@aws-sdk/client-athena");
  const { parseSince } = await import("../../aws/tenant-logs.js");
  const { runAlbLatencyQuery } = await import("../../aws/alb-logs.js");
  const { awsCallError } = await import("../../aws/sdk-errors.js");
  const platform = await loadPlatform(opts.file, opts.env ? { environment: opts.env } : {});
  const since = parseSince(opts.since, Date.now());
  const athena = new AthenaClient(clientConfig(platform, opts));
  try {
    const result = await runAlbLatencyQuery(platform, {
      athena,
      since,
      ...(tenant !== undefined ? { tenant } : {}),
    });
    io.result({ ...result, since: new Date(since).toISOString() }, (r) =>
      r.rows.length === 0
        ? `no API paths${tenant ? ` of tenant ${tenant}` : ""} in the spec`
        : table(r.columns, r.rows),
    );
    return 0;
  } catch (err) {
    throw awsCallError(
      err,
      `run the Athena query over the ALB access logs (workgroup of ${platform.metadata.name})`,
    );
  } finally {
    athena.destroy();
  }
}

export function register(program: Command): void {
  withOutput(
    program
      .command("logs")
      .description(
        "tail a tenant's logs, run a saved Logs Insights query on them, or (--alb) the ALB's latency and errors per API path through Athena (your own AWS credentials)",
      )
      .argument("[tenant]", "tenant name (with --alb: only this tenant's paths)")
      .argument("[service]", "only this service or cron job")
      .option("-f, --file <file>", "platform spec", "platform.yaml")
      .option("-e, --env <name>", "use this environment's overlay")
      .option("--since <when>", "from this long ago (90s, 30m, 1h, 2d) or this date", "1h")
      .option("--follow", "keep printing new lines until interrupted")
      .option("--query <name>", "run a saved Logs Insights query (errors, slow-requests-by-path)")
      .option("--insights <query>", "run this Logs Insights query")
      .option(
        "--alb",
        'the shared ALB\'s access logs through Athena: the saved query "latency and errors per API path" (requests, 4xx, 5xx, p50/p95/p99 target time per route)',
      ),
  ).action((tenant: string | undefined, service: string | undefined, opts: LogsFlags) =>
    runAction(opts, async (io) => {
      if (opts.alb) return albLogs(tenant, service, opts, io);
      if (tenant === undefined)
        throw new TenkaiError(
          "CLI_UNKNOWN_TENANT",
          "no tenant named",
          "pass the tenant whose logs to read (tenkai logs TENANT [SERVICE]), or --alb for the ALB's access logs",
        );
      if (opts.query !== undefined && opts.insights !== undefined)
        throw new TenkaiError(
          "CLI_BAD_FLAGS",
          "--query and --insights exclude each other",
          "pass one of them",
        );
      const isQuery = opts.query !== undefined || opts.insights !== undefined;
      if (isQuery && opts.follow)
        throw new TenkaiError(
          "CLI_BAD_FLAGS",
          "--follow tails lines; it does not apply to a query",
          "drop --follow, or drop --query/--insights",
        );
      const { loadPlatform } = await import("../../spec/load.js");
      const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
      const { logTarget, parseSince, tailLogs, insightsQuery, runInsights } = await import(
        "../../aws/tenant-logs.js"
      );
      const { awsCallError } = await import("../../aws/sdk-errors.js");
      const platform = await loadPlatform(opts.file, opts.env ? { environment: opts.env } : {});
      const target = logTarget(platform, tenant, service);
      const now = Date.now();
      const startTime = parseSince(opts.since, now);
      const logs = new CloudWatchLogsClient(clientConfig(platform, opts));
      try {
        if (isQuery) {
          const result = await runInsights(target, {
            logs,
            startTime,
            endTime: now,
            query: insightsQuery(target, { name: opts.query, text: opts.insights }),
          });
          io.result(result, (r) =>
            r.rows.length === 0 ? `no results in ${target.logGroup}` : table(r.columns, r.rows),
          );
          return 0;
        }
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once("SIGINT", stop);
        try {
          const result = await tailLogs(target, {
            logs,
            startTime,
            follow: opts.follow ?? false,
            signal: controller.signal,
            onLines: (lines) => {
              for (const l of lines) {
                if (io.format === "json")
                  report(io, "info", "logs.line", l.message, {
                    timestamp: l.timestamp,
                    stream: l.stream,
                    eventId: l.eventId,
                  });
                else
                  process.stdout.write(`${new Date(l.timestamp).toISOString()} ${l.stream} ${l.message}\n`);
              }
            },
          });
          io.info(`${result.lines} lines from ${target.logGroup}`);
          return 0;
        } finally {
          process.off("SIGINT", stop);
        }
      } catch (err) {
        throw awsCallError(err, `read log group ${target.logGroup}`);
      } finally {
        logs.destroy();
      }
    }),
  );
}
