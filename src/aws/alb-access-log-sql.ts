/**
 * How Amazon Athena reads the shared ALB's access logs (they exist only as gzip files in S3):
 * the table's columns and RegexSerDe pattern, and the saved query "latency and errors per API
 * path", generated from the spec so that every route of every tenant is its own row.
 *
 * The columns and the pattern are those of the Athena user guide's `alb_access_logs` table
 * ("Querying Application Load Balancer logs", the partition-projection form, with the
 * classification, classification_reason and conn_trace_id fields). The pattern is stored here as
 * the SerDe reads it (a Glue table parameter), not as a DDL string literal: `"` and `\s` are not
 * escaped a second time.
 */
import { albLogNames } from "../shared/aws-names.js";
import { normalizePath } from "../spec/checks.js";
import type { Platform } from "../spec/schema.js";

/** Columns of the access-log table, in log-entry order (ELB user guide, "Access log entries"). */
export const ALB_ACCESS_LOG_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  { name: "type", type: "string" },
  { name: "time", type: "string" },
  { name: "elb", type: "string" },
  { name: "client_ip", type: "string" },
  { name: "client_port", type: "int" },
  { name: "target_ip", type: "string" },
  { name: "target_port", type: "int" },
  { name: "request_processing_time", type: "double" },
  { name: "target_processing_time", type: "double" },
  { name: "response_processing_time", type: "double" },
  { name: "elb_status_code", type: "int" },
  { name: "target_status_code", type: "string" },
  { name: "received_bytes", type: "bigint" },
  { name: "sent_bytes", type: "bigint" },
  { name: "request_verb", type: "string" },
  { name: "request_url", type: "string" },
  { name: "request_proto", type: "string" },
  { name: "user_agent", type: "string" },
  { name: "ssl_cipher", type: "string" },
  { name: "ssl_protocol", type: "string" },
  { name: "target_group_arn", type: "string" },
  { name: "trace_id", type: "string" },
  { name: "domain_name", type: "string" },
  { name: "chosen_cert_arn", type: "string" },
  { name: "matched_rule_priority", type: "string" },
  { name: "request_creation_time", type: "string" },
  { name: "actions_executed", type: "string" },
  { name: "redirect_url", type: "string" },
  { name: "lambda_error_reason", type: "string" },
  { name: "target_port_list", type: "string" },
  { name: "target_status_code_list", type: "string" },
  { name: "classification", type: "string" },
  { name: "classification_reason", type: "string" },
  { name: "conn_trace_id", type: "string" },
];

/** The RegexSerDe `input.regex` of that table: one capture group per column. */
export const ALB_ACCESS_LOG_REGEX =
  '([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) "([^ ]*) (.*) (- |[^ ]*)" "([^"]*)" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^"]*)" ([-.0-9]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^ ]*)" "([^\\s]+?)" "([^\\s]+)" "([^ ]*)" "([^ ]*)" ?([^ ]*)?';

/** The partition Athena projects over the log files' `yyyy/MM/dd` key part. */
export const ALB_LOG_DAY_FORMAT = "yyyy/MM/dd";

/** One API path the shared ALB serves: a tenant service's route (host + path prefix). */
export interface ApiPath {
  readonly tenant: string;
  readonly service: string;
  readonly host: string;
  readonly path: string;
  /** `host` + `path`, the row's name in the query's result. */
  readonly apiPath: string;
}

/** Every route of the spec, in the order the query tests them: exact hosts first, longest path first. */
export function apiPaths(platform: Platform): ApiPath[] {
  const paths = platform.spec.tenants.flatMap((t) =>
    t.services.flatMap((s) => {
      if (!s.route) return [];
      const path = normalizePath(s.route.path);
      return [
        { tenant: t.name, service: s.name, host: s.route.host, path, apiPath: `${s.route.host}${path}` },
      ];
    }),
  );
  const wildcard = (p: ApiPath) => (p.host.startsWith("*.") ? 1 : 0);
  return paths.sort(
    (a, b) =>
      wildcard(a) - wildcard(b) || b.path.length - a.path.length || a.apiPath.localeCompare(b.apiPath),
  );
}

/** A SQL string literal (spec values cannot hold a quote; doubled anyway). */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The CASE arm that claims a request for a route, as the ALB's Prefix rule matches it. */
function routeCondition(p: ApiPath): string {
  const host = p.host.startsWith("*.") ? `host LIKE ${lit(`%${p.host.slice(1)}`)}` : `host = ${lit(p.host)}`;
  if (p.path === "/") return host;
  return `${host} AND (path = ${lit(p.path)} OR starts_with(path, ${lit(`${p.path}/`)}))`;
}

/** The row of requests that no route of the spec claims (the ALB's default action answered them). */
export const NO_ROUTE = "(no route)";

/**
 * The saved query: per API path of the spec, request count, 4xx and 5xx counts (the load
 * balancer's status, so a target that never answered counts too), and p50/p95/p99 of
 * target_processing_time in seconds (-1, "the target did not answer", left out). Every path is a
 * row, with zero requests too. Two execution parameters: the first day (`yyyy/MM/dd`, the
 * projected partition, so Athena reads only those days' files) and the first request time (ISO
 * 8601 UTC, compared with the log's `time` field).
 */
export function latencyByApiPathQuery(platform: Platform): string {
  const paths = apiPaths(platform);
  const values = [
    ...paths.map((p) => `    (${lit(p.tenant)}, ${lit(p.service)}, ${lit(p.apiPath)})`),
    `    (CAST(NULL AS varchar), CAST(NULL AS varchar), ${lit(NO_ROUTE)})`,
  ].join(",\n");
  const arms = paths.map((p) => `      WHEN ${routeCondition(p)} THEN ${lit(p.apiPath)}`).join("\n");
  const table = `"${albLogNames.database(platform)}"."${albLogNames.table}"`;
  return `-- ${albLogNames.latencyQuery}: one row per route of platform ${platform.metadata.name} (generated by tenkai from the spec)
-- parameters: 1) first day 'yyyy/MM/dd'  2) first request time, ISO 8601 UTC ('2026-12-01T10:00:00')
WITH routes (tenant, service, api_path) AS (
  VALUES
${values}
),
requests AS (
  SELECT
    CASE
${arms}
      ELSE ${lit(NO_ROUTE)}
    END AS api_path,
    target_processing_time,
    elb_status_code
  FROM (
    SELECT
      lower(url_extract_host(request_url)) AS host,
      url_extract_path(request_url) AS path,
      target_processing_time,
      elb_status_code
    FROM ${table}
    WHERE day >= ? AND time >= ?
  )
),
per_path AS (
  SELECT
    api_path,
    count(*) AS requests,
    count_if(elb_status_code BETWEEN 400 AND 499) AS errors_4xx,
    count_if(elb_status_code >= 500) AS errors_5xx,
    approx_percentile(target_processing_time, 0.50) FILTER (WHERE target_processing_time >= 0) AS p50_seconds,
    approx_percentile(target_processing_time, 0.95) FILTER (WHERE target_processing_time >= 0) AS p95_seconds,
    approx_percentile(target_processing_time, 0.99) FILTER (WHERE target_processing_time >= 0) AS p99_seconds
  FROM requests
  GROUP BY api_path
)
SELECT
  r.tenant,
  r.service,
  r.api_path,
  coalesce(p.requests, 0) AS requests,
  coalesce(p.errors_4xx, 0) AS errors_4xx,
  coalesce(p.errors_5xx, 0) AS errors_5xx,
  round(p.p50_seconds, 3) AS p50_seconds,
  round(p.p95_seconds, 3) AS p95_seconds,
  round(p.p99_seconds, 3) AS p99_seconds
FROM routes r
LEFT JOIN per_path p ON p.api_path = r.api_path
ORDER BY r.tenant NULLS LAST, r.api_path
`;
}

/** The two execution parameters of that query for a window starting at `since` (epoch ms). */
export function latencyQueryParameters(since: number): [string, string] {
  const iso = new Date(since).toISOString();
  const day = iso.slice(0, 10).replace(/-/g, "/");
  // The log's time field has microseconds and a Z; an ISO prefix compares correctly as a string.
  return [lit(day), lit(iso.slice(0, 19))];
}
