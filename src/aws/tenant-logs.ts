/**
 * Reading a tenant's logs with the caller's own credentials: `tenkai logs TENANT [SERVICE]`.
 *
 * - Tail: FilterLogEvents over the tenant's log group from `since`, filtered to one service by
 *   the container name Fluent Bit's kubernetes filter writes into each record (a service's
 *   container is named after it). `follow` keeps polling FilterLogEvents from the newest
 *   timestamp seen (events at that millisecond are de-duplicated by event id); polling instead of
 *   StartLiveTail keeps to plain request/response calls that every proxy and mock handles, at the
 *   cost of a poll interval's delay.
 * - Insights: one of the saved queries (TENANT_QUERIES, the same text the tenant stacks save as
 *   query definitions) or the caller's own, with a filter to the service put first; StartQuery,
 *   then GetQueryResults until it is Complete.
 *
 * Who may read which group is the AWS plane's IAM policy, not tenkai's: an AccessDenied is
 * reported as LOGS_ACCESS_DENIED naming the group and tenant, never retried with other rights.
 */
import {
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { logGroupNames } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { Platform, Tenant } from "../spec/schema.js";
import { isAccessDenied } from "./sdk-errors.js";
import { TENANT_QUERIES } from "./tenant-model.js";

export interface LogLine {
  readonly timestamp: number;
  readonly stream: string;
  readonly message: string;
  readonly eventId: string;
}

export interface LogTarget {
  readonly tenant: Tenant;
  readonly logGroup: string;
  readonly service?: string;
}

/** Parses `--since`: `90s`, `30m`, `1h`, `2d`, or an ISO date. Returns epoch ms. */
export function parseSince(value: string, now: number): number {
  const m = /^(\d+)([smhd])$/.exec(value);
  if (m) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as "s" | "m" | "h" | "d"];
    return now - Number(m[1]) * unit;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new TenkaiError(
      "CLI_BAD_SINCE",
      `--since ${value} is neither a duration nor a date`,
      "pass --since 1h, 30m, 2d or 2026-12-01T10:00:00Z",
    );
  return t;
}

/** The tenant's log group, checked against the spec (and the service, if given). */
export function logTarget(platform: Platform, tenantName: string, service?: string): LogTarget {
  const tenant = platform.spec.tenants.find((t) => t.name === tenantName);
  if (!tenant)
    throw new TenkaiError(
      "CLI_UNKNOWN_TENANT",
      `no tenant ${tenantName} in the spec`,
      `use one of: ${platform.spec.tenants.map((t) => t.name).join(", ")}`,
    );
  if (service) {
    const workloads = [...tenant.services, ...tenant.cronJobs].map((w) => w.name);
    if (!workloads.includes(service))
      throw new TenkaiError(
        "CLI_UNKNOWN_SERVICE",
        `tenant ${tenantName} has no service or cron job ${service}`,
        `use one of: ${workloads.join(", ")}`,
      );
  }
  return { tenant, logGroup: logGroupNames.tenant(platform, tenantName), ...(service ? { service } : {}) };
}

/** FilterLogEvents pattern for one service's records (JSON written by Fluent Bit). */
export function serviceFilterPattern(service: string): string {
  return `{ $.kubernetes.container_name = "${service}" }`;
}

function logsError(err: unknown, target: LogTarget): Error {
  if (isAccessDenied(err))
    return new TenkaiError(
      "LOGS_ACCESS_DENIED",
      `your AWS credentials may not read log group ${target.logGroup} (tenant ${target.tenant.name})`,
      "use a role mapped to this tenant (its access roles may read its own log group only), or ask the platform team",
      { cause: err },
    );
  if ((err as { name?: string }).name === "ResourceNotFoundException")
    return new TenkaiError(
      "LOGS_GROUP_NOT_FOUND",
      `log group ${target.logGroup} does not exist`,
      "deploy the tenant's stack first (tenkai deploy FILE)",
      { cause: err },
    );
  return err instanceof Error ? err : new Error(String(err));
}

export interface TailOptions {
  readonly logs: CloudWatchLogsClient;
  readonly startTime: number;
  /** Keep polling for new events until `signal` aborts. */
  readonly follow?: boolean;
  readonly signal?: AbortSignal;
  /** Between polls when following. Default 2000 ms (FilterLogEvents allows 25 requests per second per account). */
  readonly pollMs?: number;
  /** Stop after this many events when not following. Default 10,000. */
  readonly limit?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onLines: (lines: readonly LogLine[]) => void;
}

/** Tails the target's log group; resolves when done (or when `signal` aborts while following). */
export async function tailLogs(target: LogTarget, options: TailOptions): Promise<{ lines: number }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const limit = options.limit ?? 10_000;
  let startTime = options.startTime;
  let seenAtStart = new Set<string>();
  let total = 0;
  for (;;) {
    let nextToken: string | undefined;
    const batch: LogLine[] = [];
    do {
      let out: { events?: FilteredLogEvent[]; nextToken?: string };
      try {
        out = await options.logs.send(
          new FilterLogEventsCommand({
            logGroupName: target.logGroup,
            startTime,
            ...(target.service ? { filterPattern: serviceFilterPattern(target.service) } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (err) {
        throw logsError(err, target);
      }
      for (const e of out.events ?? []) {
        const id = e.eventId ?? `${e.timestamp}:${e.logStreamName}:${e.message}`;
        if ((e.timestamp ?? 0) === startTime && seenAtStart.has(id)) continue;
        batch.push({
          timestamp: e.timestamp ?? 0,
          stream: e.logStreamName ?? "",
          message: e.message ?? "",
          eventId: id,
        });
      }
      nextToken = out.nextToken;
    } while (nextToken && (options.follow || total + batch.length < limit));
    batch.sort((a, b) => a.timestamp - b.timestamp);
    const lines = options.follow ? batch : batch.slice(0, limit - total);
    if (lines.length > 0) options.onLines(lines);
    total += lines.length;
    if (!options.follow || options.signal?.aborted) return { lines: total };
    const newest = lines.at(-1)?.timestamp;
    if (newest !== undefined) {
      if (newest !== startTime) seenAtStart = new Set();
      startTime = newest;
      for (const l of lines) if (l.timestamp === newest) seenAtStart.add(l.eventId);
    }
    await sleep(options.pollMs ?? 2000);
    if (options.signal?.aborted) return { lines: total };
  }
}

/** A saved query by name, or the caller's own text, filtered to the service when given. */
export function insightsQuery(target: LogTarget, query: { name?: string; text?: string }): string {
  let text = query.text;
  if (query.name !== undefined) {
    const saved = TENANT_QUERIES.find((q) => q.name === query.name);
    if (!saved)
      throw new TenkaiError(
        "CLI_UNKNOWN_QUERY",
        `no saved query ${query.name}`,
        `use one of: ${TENANT_QUERIES.map((q) => q.name).join(", ")}, or --insights 'QUERY'`,
      );
    text = saved.query;
  }
  if (!text)
    throw new TenkaiError("CLI_NO_QUERY", "no query given", "pass --query NAME or --insights 'QUERY'");
  return target.service ? `filter kubernetes.container_name = "${target.service}"\n| ${text}` : text;
}

export interface InsightsOptions {
  readonly logs: CloudWatchLogsClient;
  readonly startTime: number;
  readonly endTime: number;
  readonly query: string;
  /** Between GetQueryResults polls. Default 1000 ms. */
  readonly pollMs?: number;
  /** Give up after. Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface InsightsResult {
  readonly query: string;
  readonly status: string;
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string>>[];
  readonly recordsScanned?: number;
}

/** Runs a Logs Insights query over the target's log group and waits for its results. */
export async function runInsights(target: LogTarget, options: InsightsOptions): Promise<InsightsResult> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  try {
    const { queryId } = await options.logs.send(
      new StartQueryCommand({
        logGroupName: target.logGroup,
        // Logs Insights takes seconds since the epoch.
        startTime: Math.floor(options.startTime / 1000),
        endTime: Math.ceil(options.endTime / 1000),
        queryString: options.query,
      }),
    );
    const deadline = (options.timeoutMs ?? 300_000) / (options.pollMs ?? 1000);
    for (let i = 0; ; i++) {
      const out = await options.logs.send(new GetQueryResultsCommand({ queryId }));
      const status = out.status ?? "Unknown";
      if (["Complete", "Failed", "Cancelled", "Timeout"].includes(status)) {
        if (status !== "Complete")
          throw new TenkaiError(
            "LOGS_QUERY_FAILED",
            `the Logs Insights query on ${target.logGroup} ended ${status}`,
            "check the query syntax, or narrow --since",
          );
        const rows = (out.results ?? []).map((r) =>
          Object.fromEntries(
            r.filter((f) => f.field && f.field !== "@ptr").map((f) => [f.field as string, f.value ?? ""]),
          ),
        );
        const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
        return {
          query: options.query,
          status,
          columns,
          rows,
          ...(out.statistics?.recordsScanned !== undefined
            ? { recordsScanned: out.statistics.recordsScanned }
            : {}),
        };
      }
      if (i >= deadline)
        throw new TenkaiError(
          "LOGS_QUERY_TIMEOUT",
          `the Logs Insights query on ${target.logGroup} did not finish`,
          "narrow --since and run again",
        );
      await sleep(options.pollMs ?? 1000);
    }
  } catch (err) {
    throw logsError(err, target);
  }
}
