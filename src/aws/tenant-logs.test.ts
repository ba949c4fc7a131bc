/**
 * `tenkai logs` engine with the AWS SDK mocked (aws-sdk-client-mock): what is asked of CloudWatch
 * Logs (group, service filter, time range, saved query text) and what the user gets back.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AccessDeniedException,
  CloudWatchLogsClient,
  FilterLogEventsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { isTenkaiError } from "../shared/errors.js";
import { loadPlatform } from "../spec/load.js";
import { insightsQuery, type LogLine, logTarget, parseSince, runInsights, tailLogs } from "./tenant-logs.js";

const example = () => loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
const ev = (timestamp: number, message: string, eventId = `e${timestamp}-${message}`) => ({
  timestamp,
  message,
  eventId,
  logStreamName: "ec2-users-api-7f9.users-api",
});

describe("tenkai logs (SDK mocked)", () => {
  it("tails one service of a tenant: its log group, a container filter, every page, oldest first", async () => {
    const target = logTarget(await example(), "users", "users-api");
    const logs = new CloudWatchLogsClient({ region: "ap-northeast-1" });
    const m = mockClient(logs);
    m.on(FilterLogEventsCommand)
      .resolvesOnce({ events: [ev(2000, "b")], nextToken: "t2" })
      .resolvesOnce({ events: [ev(1000, "a")] });
    const got: LogLine[] = [];
    const r = await tailLogs(target, { logs, startTime: 500, onLines: (l) => got.push(...l) });
    assert.equal(r.lines, 2);
    assert.deepEqual(
      got.map((l) => l.message),
      ["a", "b"],
    );
    const input = m.commandCalls(FilterLogEventsCommand)[0]?.args[0].input;
    assert.equal(input?.logGroupName, "/tenkai/web/users");
    assert.equal(input?.startTime, 500);
    assert.equal(input?.filterPattern, '{ $.kubernetes.container_name = "users-api" }');
    assert.equal(m.commandCalls(FilterLogEventsCommand)[1]?.args[0].input.nextToken, "t2");
  });

  it("follows: polls from the newest timestamp and prints no event twice, until interrupted", async () => {
    const target = logTarget(await example(), "users");
    const logs = new CloudWatchLogsClient({ region: "ap-northeast-1" });
    const m = mockClient(logs);
    m.on(FilterLogEventsCommand)
      .resolvesOnce({ events: [ev(1000, "a"), ev(3000, "c")] })
      .resolvesOnce({ events: [ev(3000, "c"), ev(3000, "c2"), ev(4000, "d")] })
      .resolves({ events: [ev(4000, "d")] });
    const controller = new AbortController();
    let polls = 0;
    const got: string[] = [];
    await tailLogs(target, {
      logs,
      startTime: 0,
      follow: true,
      signal: controller.signal,
      sleep: async () => {
        if (++polls === 3) controller.abort();
      },
      onLines: (l) => got.push(...l.map((x) => x.message)),
    });
    assert.deepEqual(got, ["a", "c", "c2", "d"]);
    assert.deepEqual(
      m.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input.startTime),
      [0, 3000, 4000],
    );
    assert.equal(m.commandCalls(FilterLogEventsCommand)[0]?.args[0].input.filterPattern, undefined);
  });

  it("reports AccessDenied on another tenant's group as LOGS_ACCESS_DENIED naming the group", async () => {
    const target = logTarget(await example(), "shop");
    const logs = new CloudWatchLogsClient({ region: "ap-northeast-1" });
    mockClient(logs)
      .on(FilterLogEventsCommand)
      .rejects(
        new AccessDeniedException({
          message:
            "User: arn:aws:sts::123456789012:assumed-role/users-developers/me is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:ap-northeast-1:123456789012:log-group:/tenkai/web/shop",
          $metadata: {},
        }),
      );
    await assert.rejects(tailLogs(target, { logs, startTime: 0, onLines: () => {} }), (e: unknown) => {
      assert.ok(isTenkaiError(e, "LOGS_ACCESS_DENIED"));
      assert.match(e.message, /may not read log group \/tenkai\/web\/shop \(tenant shop\)/);
      assert.match(e.fix ?? "", /role mapped to this tenant/);
      return true;
    });
  });

  it("runs a saved Logs Insights query filtered to the service and returns its rows", async () => {
    const target = logTarget(await example(), "users", "users-api");
    const logs = new CloudWatchLogsClient({ region: "ap-northeast-1" });
    const m = mockClient(logs);
    m.on(StartQueryCommand).resolves({ queryId: "q-1" });
    m.on(GetQueryResultsCommand)
      .resolvesOnce({ status: "Running" })
      .resolves({
        status: "Complete",
        statistics: { recordsScanned: 42 },
        results: [
          [
            { field: "path", value: "/users" },
            { field: "slow", value: "3" },
            { field: "@ptr", value: "x" },
          ],
        ],
      });
    const query = insightsQuery(target, { name: "slow-requests-by-path" });
    const r = await runInsights(target, {
      logs,
      startTime: 3_600_000,
      endTime: 7_200_500,
      query,
      sleep: async () => {},
    });
    assert.deepEqual(r.rows, [{ path: "/users", slow: "3" }]);
    assert.deepEqual(r.columns, ["path", "slow"]);
    assert.equal(r.recordsScanned, 42);
    const input = m.commandCalls(StartQueryCommand)[0]?.args[0].input;
    assert.equal(input?.logGroupName, "/tenkai/web/users");
    assert.equal(input?.startTime, 3600);
    assert.equal(input?.endTime, 7201);
    assert.match(
      input?.queryString ?? "",
      /^filter kubernetes\.container_name = "users-api"\n\| fields @timestamp, path, duration_ms/,
    );
  });

  it("says which tenants, services and saved queries exist when one is wrong", async () => {
    const platform = await example();
    assert.throws(
      () => logTarget(platform, "nobody"),
      (e: unknown) => isTenkaiError(e, "CLI_UNKNOWN_TENANT"),
    );
    assert.throws(
      () => logTarget(platform, "users", "nope"),
      (e: unknown) => isTenkaiError(e, "CLI_UNKNOWN_SERVICE"),
    );
    assert.throws(
      () => insightsQuery(logTarget(platform, "users"), { name: "nope" }),
      (e: unknown) =>
        isTenkaiError(e, "CLI_UNKNOWN_QUERY") && /errors, slow-requests-by-path/.test(e.fix ?? ""),
    );
    assert.equal(parseSince("1h", 10_000_000), 10_000_000 - 3_600_000);
    assert.equal(parseSince("2026-12-01T00:00:00Z", 0), Date.parse("2026-12-01T00:00:00Z"));
    assert.throws(
      () => parseSince("soon", 0),
      (e: unknown) => isTenkaiError(e, "CLI_BAD_SINCE"),
    );
  });
});
