/**
 * The ALB access-log table and the saved per-path query, checked without AWS: the SerDe pattern
 * parses the ELB user guide's example entries into the table's columns (RegexSerDe needs the whole
 * line to match and one group per column), and the query has one row per route of the spec.
 * Whether Athena runs the SQL is only known on AWS: the README says so.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadPlatform } from "../spec/load.js";
import {
  ALB_ACCESS_LOG_COLUMNS,
  ALB_ACCESS_LOG_REGEX,
  apiPaths,
  latencyByApiPathQuery,
  latencyQueryParameters,
  NO_ROUTE,
} from "./alb-access-log-sql.js";

const example = () => loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);

// RegexSerDe uses Matcher.matches(): the whole line. Java and JavaScript read this pattern alike.
const serde = new RegExp(`^(?:${ALB_ACCESS_LOG_REGEX})$`);
const parse = (line: string) => {
  const m = serde.exec(line);
  assert.ok(m, `the pattern does not match:\n${line}`);
  return Object.fromEntries(ALB_ACCESS_LOG_COLUMNS.map((c, i) => [c.name, m[i + 1]]));
};

// The ELB user guide's example entries ("Access log entries", examples), with a traceability ID.
const HTTPS_ENTRY =
  'https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://api.example.com:443/users/42?x=1 HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "api.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90';
const UNANSWERED_ENTRY =
  'http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 503 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - - "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-" TID_1234abcd5678ef90';

describe("the ALB access-log table (Athena user guide's alb_access_logs)", () => {
  it("has one capture group per column", () => {
    const groups = new RegExp(`${ALB_ACCESS_LOG_REGEX}|`).exec("")?.length ?? 0;
    assert.equal(groups - 1, ALB_ACCESS_LOG_COLUMNS.length);
    assert.equal(ALB_ACCESS_LOG_COLUMNS.length, 34);
  });

  it("parses an HTTPS entry into the columns the query reads", () => {
    const row = parse(HTTPS_ENTRY);
    assert.equal(row.time, "2018-07-02T22:23:00.186641Z");
    assert.equal(row.target_processing_time, "0.048");
    assert.equal(row.elb_status_code, "200");
    assert.equal(row.request_verb, "GET");
    assert.equal(row.request_url, "https://api.example.com:443/users/42?x=1");
    assert.equal(row.request_proto, "HTTP/1.1");
    assert.equal(row.domain_name, "api.example.com");
    assert.equal(row.conn_trace_id, "TID_1234abcd5678ef90");
  });

  it("parses an entry whose target never answered (-1 times, 503, no target)", () => {
    const row = parse(UNANSWERED_ENTRY);
    assert.equal(row.target_processing_time, "-1");
    assert.equal(row.elb_status_code, "503");
    assert.equal(row.target_status_code, "-");
    assert.equal(row.request_url, "http://www.example.com:80/");
  });
});

describe('the saved query "latency and errors per API path"', () => {
  it("has every route of the spec as its own row, longest path first within a host", async () => {
    const platform = await example();
    const routes = platform.spec.tenants.flatMap((t) => t.services.filter((s) => s.route));
    const paths = apiPaths(platform);
    assert.equal(paths.length, routes.length);
    const sql = latencyByApiPathQuery(platform);
    for (const p of paths) {
      assert.ok(sql.includes(`('${p.tenant}', '${p.service}', '${p.apiPath}')`), `no row for ${p.apiPath}`);
      assert.ok(sql.includes(`THEN '${p.apiPath}'`), `no CASE arm for ${p.apiPath}`);
    }
    assert.ok(sql.includes(`'${NO_ROUTE}'`));
    // A host's catch-all `/` comes after its longer prefixes, or it would claim their requests.
    const arms = [...sql.matchAll(/THEN '([^']+)'/g)].map((m) => m[1] as string);
    const root = arms.indexOf("www.example.com/");
    assert.ok(root >= 0);
    assert.ok(arms.slice(root + 1).every((a) => !a.startsWith("www.example.com/")));
    assert.match(sql, /FROM "web_alb_logs"\."alb_access_logs"/);
    assert.match(sql, /WHERE day >= \? AND time >= \?/);
    for (const col of ["requests", "errors_4xx", "errors_5xx", "p50_seconds", "p95_seconds", "p99_seconds"])
      assert.match(sql, new RegExp(`AS ${col}\\b`));
  });

  it("matches a route's path as the ALB's Prefix rule does: the path itself or below it, not a longer name", async () => {
    const sql = latencyByApiPathQuery(await example());
    assert.ok(
      sql.includes("host = 'api.example.com' AND (path = '/users' OR starts_with(path, '/users/'))"),
      sql,
    );
    assert.ok(sql.includes("WHEN host = 'www.example.com' THEN 'www.example.com/'"));
  });

  it("passes the window as the first day's partition and the first request time", () => {
    const since = Date.parse("2026-12-01T23:30:05.123Z");
    assert.deepEqual(latencyQueryParameters(since), ["'2026/12/01'", "'2026-12-01T23:30:05'"]);
  });
});
