/**
 * `tenkai logs TENANT [SERVICE]`: tails a tenant's log group, or runs a saved or given Logs
 * Insights query on it, with the caller's own AWS credentials (the AWS plane's policies decide
 * who may read which group). Lines as text, or NDJSON events with `-o json`.
 */
import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { clientConfig, report } from "../aws-steps.js";
import { runAction, withOutput } from "../output.js";

interface LogsFlags {
  readonly output?: string;
  readonly file: string;
  readonly env?: string;
  readonly profile?: string;
  readonly since: string;
  readonly follow?: boolean;
  readonly query?: string;
  readonly insights?: string;
}

export function register(program: Command): void {
  withOutput(
    program
      .command("logs")
      .description(
        "tail a tenant's logs, or run a saved Logs Insights query on them (your own AWS credentials)",
      )
      .argument("<tenant>", "tenant name")
      .argument("[service]", "only this service or cron job")
      .option("-f, --file <file>", "platform spec", "platform.yaml")
      .option("-e, --env <name>", "use this environment's overlay")
      .option("--profile <name>", "AWS profile (default: the SDK's default chain)")
      .option("--since <when>", "from this long ago (90s, 30m, 1h, 2d) or this date", "1h")
      .option("--follow", "keep printing new lines until interrupted")
      .option("--query <name>", "run a saved Logs Insights query (errors, slow-requests-by-path)")
      .option("--insights <query>", "run this Logs Insights query"),
  ).action((tenant: string, service: string | undefined, opts: LogsFlags) =>
    runAction(opts, async (io) => {
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
      const logs = new CloudWatchLogsClient(clientConfig(platform, opts.profile));
      try {
        if (isQuery) {
          const result = await runInsights(target, {
            logs,
            startTime,
            endTime: now,
            query: insightsQuery(target, { name: opts.query, text: opts.insights }),
          });
          io.result(result, (r) => {
            if (r.rows.length === 0) return `no results in ${target.logGroup}`;
            const w = r.columns.map((c) => Math.max(c.length, ...r.rows.map((row) => (row[c] ?? "").length)));
            const line = (cells: string[]) =>
              cells
                .map((c, i) => c.padEnd(w[i] ?? 0))
                .join("  ")
                .trimEnd();
            return [
              line([...r.columns]),
              ...r.rows.map((row) => line(r.columns.map((c) => row[c] ?? ""))),
            ].join("\n");
          });
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
