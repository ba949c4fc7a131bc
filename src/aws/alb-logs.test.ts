/**
 * `tenkai logs --alb` engine with Athena mocked (aws-sdk-client-mock): it runs the saved query of
 * the platform's workgroup (found by name), passes the window as execution parameters, waits for
 * the query, reads every page of results, and turns Athena's failures into coded errors.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AthenaClient,
  BatchGetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  ListNamedQueriesCommand,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { mockClient } from "aws-sdk-client-mock";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { latencyByApiPathQuery } from "./alb-access-log-sql.js";
import { runAlbLatencyQuery } from "./alb-logs.js";

const example = () => loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
const COLUMNS = [
  "tenant",
  "service",
  "api_path",
  "requests",
  "errors_4xx",
  "errors_5xx",
  "p50_seconds",
  "p95_seconds",
  "p99_seconds",
];
const row = (cells: string[]) => ({ Data: cells.map((v) => ({ VarCharValue: v })) });
const noSleep = async () => {};

async function mocked() {
  const platform = await example();
  const athena = new AthenaClient({ region: "ap-northeast-1" });
  const m = mockClient(athena);
  m.on(ListNamedQueriesCommand)
    .resolvesOnce({ NamedQueryIds: ["other"], NextToken: "p2" })
    .resolvesOnce({ NamedQueryIds: ["q1"] });
  m.on(BatchGetNamedQueryCommand, { NamedQueryIds: ["other"] }).resolves({
    NamedQueries: [{ Name: "someone else's", Database: "x", QueryString: "SELECT 1", NamedQueryId: "other" }],
  });
  m.on(BatchGetNamedQueryCommand, { NamedQueryIds: ["q1"] }).resolves({
    NamedQueries: [
      {
        Name: "latency and errors per API path",
        Database: "web_alb_logs",
        QueryString: latencyByApiPathQuery(platform),
        NamedQueryId: "q1",
      },
    ],
  });
  m.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: "run-1" });
  return { platform, athena, m };
}

describe("tenkai logs --alb (Athena mocked)", () => {
  it("runs the saved query in the platform's workgroup over the window and returns every page's rows", async () => {
    const { platform, athena, m } = await mocked();
    m.on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: "QUEUED" } } })
      .resolvesOnce({ QueryExecution: { Status: { State: "RUNNING" } } })
      .resolves({
        QueryExecution: { Status: { State: "SUCCEEDED" }, Statistics: { DataScannedInBytes: 4096 } },
      });
    m.on(GetQueryResultsCommand, { QueryExecutionId: "run-1", NextToken: undefined }).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: COLUMNS.map((Name) => ({ Name, Type: "varchar" })) },
        Rows: [
          row(COLUMNS),
          row(["users", "users-api", "api.example.com/users", "120", "3", "1", "0.012", "0.08", "0.2"]),
        ],
      },
      NextToken: "r2",
    });
    m.on(GetQueryResultsCommand, { QueryExecutionId: "run-1", NextToken: "r2" }).resolves({
      ResultSet: { Rows: [row(["shop", "cart-api", "api.example.com/cart", "0", "0", "0", "", "", ""])] },
    });
    const since = Date.parse("2026-12-01T10:00:00Z");
    const r = await runAlbLatencyQuery(platform, { athena, since, sleep: noSleep });
    assert.equal(r.workGroup, "web-alb-logs");
    assert.equal(r.bytesScanned, 4096);
    assert.deepEqual(r.columns, COLUMNS);
    assert.deepEqual(
      r.rows.map((x) => [x.api_path, x.requests, x.errors_5xx, x.p99_seconds]),
      [
        ["api.example.com/users", "120", "1", "0.2"],
        ["api.example.com/cart", "0", "0", ""],
      ],
    );
    const start = m.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    assert.equal(start?.WorkGroup, "web-alb-logs");
    assert.equal(start?.QueryExecutionContext?.Database, "web_alb_logs");
    assert.deepEqual(start?.ExecutionParameters, ["'2026/12/01'", "'2026-12-01T10:00:00'"]);
    assert.equal(start?.QueryString, latencyByApiPathQuery(platform));
    assert.equal(m.commandCalls(ListNamedQueriesCommand)[0]?.args[0].input.WorkGroup, "web-alb-logs");
    assert.equal(m.commandCalls(GetQueryExecutionCommand).length, 3);
  });

  it("keeps only one tenant's paths when asked, and refuses a tenant the spec does not have", async () => {
    const { platform, athena, m } = await mocked();
    m.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "SUCCEEDED" } } });
    m.on(GetQueryResultsCommand).resolves({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: COLUMNS.map((Name) => ({ Name, Type: "varchar" })) },
        Rows: [
          row(COLUMNS),
          row(["users", "users-api", "api.example.com/users", "1", "0", "0", "", "", ""]),
          row(["shop", "cart-api", "api.example.com/cart", "2", "0", "0", "", "", ""]),
        ],
      },
    });
    const r = await runAlbLatencyQuery(platform, { athena, since: 0, tenant: "shop", sleep: noSleep });
    assert.deepEqual(
      r.rows.map((x) => x.api_path),
      ["api.example.com/cart"],
    );
    await assert.rejects(
      runAlbLatencyQuery(platform, { athena, since: 0, tenant: "nope", sleep: noSleep }),
      (e: unknown) => isTenkaiError(e, "CLI_UNKNOWN_TENANT"),
    );
  });

  it("says to deploy when the workgroup has no such saved query", async () => {
    const platform = await example();
    const athena = new AthenaClient({ region: "ap-northeast-1" });
    mockClient(athena).on(ListNamedQueriesCommand).resolves({ NamedQueryIds: [] });
    await assert.rejects(runAlbLatencyQuery(platform, { athena, since: 0, sleep: noSleep }), (e: unknown) => {
      assert.ok(isTenkaiError(e, "LOGS_ALB_QUERY_NOT_FOUND"), String(e));
      assert.match(e.fix ?? "", /tenkai deploy/);
      return true;
    });
  });

  it("reports a failed query with Athena's reason, and gives up on one that never ends", async () => {
    const a = await mocked();
    a.m.on(GetQueryExecutionCommand).resolves({
      QueryExecution: { Status: { State: "FAILED", StateChangeReason: "TABLE_NOT_FOUND: line 30:10" } },
    });
    await assert.rejects(
      runAlbLatencyQuery(a.platform, { athena: a.athena, since: 0, sleep: noSleep }),
      (e: unknown) => {
        assert.ok(isTenkaiError(e, "LOGS_ALB_QUERY_FAILED"), String(e));
        assert.match(e.message, /TABLE_NOT_FOUND/);
        return true;
      },
    );
    const b = await mocked();
    b.m.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: "RUNNING" } } });
    await assert.rejects(
      runAlbLatencyQuery(b.platform, {
        athena: b.athena,
        since: 0,
        pollMs: 10,
        timeoutMs: 50,
        sleep: noSleep,
      }),
      (e: unknown) => isTenkaiError(e, "LOGS_ALB_QUERY_TIMEOUT"),
    );
  });

  it("names the workgroup and the rights needed when the caller may not query", async () => {
    const platform = await example();
    const athena = new AthenaClient({ region: "ap-northeast-1" });
    mockClient(athena)
      .on(ListNamedQueriesCommand)
      .rejects(Object.assign(new Error("not authorized"), { name: "AccessDeniedException" }));
    await assert.rejects(runAlbLatencyQuery(platform, { athena, since: 0, sleep: noSleep }), (e: unknown) => {
      assert.ok(isTenkaiError(e, "LOGS_ACCESS_DENIED"), String(e));
      assert.match(e.message, /web-alb-logs/);
      return true;
    });
  });
});
