/**
 * `tenkai logs --alb`: runs the saved Athena query "latency and errors per API path" (the AWS
 * plane's named query in the platform's workgroup) over the shared ALB's access logs, with the
 * caller's own credentials, and returns its rows.
 *
 * The query is looked up by name in the workgroup (ListNamedQueries, BatchGetNamedQuery), so what
 * runs is what `tenkai deploy` saved; StartQueryExecution passes the window as the query's two
 * execution parameters; GetQueryExecution is polled until the query ends; GetQueryResults is read
 * page by page (its first row is the header).
 */
import {
  type AthenaClient,
  BatchGetNamedQueryCommand,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  ListNamedQueriesCommand,
  type NamedQuery,
  StartQueryExecutionCommand,
} from "@aws-sdk/client-athena";
import { albLogNames } from "../shared/aws-names.js";
import { TenkaiError } from "../shared/errors.js";
import type { Platform } from "../spec/schema.js";
import { latencyQueryParameters } from "./alb-access-log-sql.js";
import { isAccessDenied } from "./sdk-errors.js";

export interface AlbQueryOptions {
  readonly athena: AthenaClient;
  /** Start of the window, epoch ms. */
  readonly since: number;
  /** Only the rows of this tenant (the query itself has every path). */
  readonly tenant?: string;
  /** Between GetQueryExecution polls. Default 1000 ms. */
  readonly pollMs?: number;
  /** Give up after. Default 5 minutes. */
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AlbQueryResult {
  readonly query: string;
  readonly workGroup: string;
  readonly queryExecutionId: string;
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string>>[];
  readonly bytesScanned?: number;
}

/** Finds the saved query by name in the workgroup. */
async function findNamedQuery(athena: AthenaClient, workGroup: string, name: string): Promise<NamedQuery> {
  let nextToken: string | undefined;
  do {
    const page = await athena.send(
      new ListNamedQueriesCommand({ WorkGroup: workGroup, NextToken: nextToken }),
    );
    const ids = page.NamedQueryIds ?? [];
    // BatchGetNamedQuery takes at most 50 ids.
    for (let i = 0; i < ids.length; i += 50) {
      const got = await athena.send(new BatchGetNamedQueryCommand({ NamedQueryIds: ids.slice(i, i + 50) }));
      const found = got.NamedQueries?.find((q) => q.Name === name);
      if (found) return found;
    }
    nextToken = page.NextToken;
  } while (nextToken);
  throw new TenkaiError(
    "LOGS_ALB_QUERY_NOT_FOUND",
    `workgroup ${workGroup} has no saved query "${name}"`,
    "run `tenkai deploy` (the cluster stack saves it), or check --profile/--region",
  );
}

/** Runs "latency and errors per API path" over the window and returns its rows. */
export async function runAlbLatencyQuery(
  platform: Platform,
  options: AlbQueryOptions,
): Promise<AlbQueryResult> {
  const workGroup = albLogNames.workGroup(platform);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  if (options.tenant !== undefined && !platform.spec.tenants.some((t) => t.name === options.tenant))
    throw new TenkaiError(
      "CLI_UNKNOWN_TENANT",
      `no tenant ${options.tenant} in the spec`,
      `use one of: ${platform.spec.tenants.map((t) => t.name).join(", ")}`,
    );
  try {
    const saved = await findNamedQuery(options.athena, workGroup, albLogNames.latencyQuery);
    const { QueryExecutionId: id } = await options.athena.send(
      new StartQueryExecutionCommand({
        QueryString: saved.QueryString,
        WorkGroup: workGroup,
        QueryExecutionContext: { Catalog: "AwsDataCatalog", Database: saved.Database },
        ExecutionParameters: latencyQueryParameters(options.since),
      }),
    );
    if (!id) throw new Error("StartQueryExecution returned no QueryExecutionId");
    const polls = (options.timeoutMs ?? 300_000) / (options.pollMs ?? 1000);
    let bytesScanned: number | undefined;
    for (let i = 0; ; i++) {
      const { QueryExecution: q } = await options.athena.send(
        new GetQueryExecutionCommand({ QueryExecutionId: id }),
      );
      const state = q?.Status?.State ?? "UNKNOWN";
      if (state === "SUCCEEDED") {
        bytesScanned = q?.Statistics?.DataScannedInBytes;
        break;
      }
      if (state === "FAILED" || state === "CANCELLED")
        throw new TenkaiError(
          "LOGS_ALB_QUERY_FAILED",
          `the Athena query "${albLogNames.latencyQuery}" (${id}) ended ${state}: ${q?.Status?.StateChangeReason ?? "no reason given"}`,
          "read the reason above; a changed spec needs `tenkai deploy` to save the query again",
        );
      if (i >= polls)
        throw new TenkaiError(
          "LOGS_ALB_QUERY_TIMEOUT",
          `the Athena query "${albLogNames.latencyQuery}" (${id}) did not finish in time`,
          "narrow --since and run again",
        );
      await sleep(options.pollMs ?? 1000);
    }
    let columns: string[] = [];
    const rows: Record<string, string>[] = [];
    let nextToken: string | undefined;
    let first = true;
    do {
      const page = await options.athena.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: nextToken }),
      );
      if (first) columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Name ?? "");
      const data = page.ResultSet?.Rows ?? [];
      // The first row of the first page repeats the column names.
      for (const row of first ? data.slice(1) : data)
        rows.push(Object.fromEntries(columns.map((c, i) => [c, row.Data?.[i]?.VarCharValue ?? ""])));
      first = false;
      nextToken = page.NextToken;
    } while (nextToken);
    return {
      query: albLogNames.latencyQuery,
      workGroup,
      queryExecutionId: id,
      columns,
      rows: options.tenant === undefined ? rows : rows.filter((r) => r.tenant === options.tenant),
      ...(bytesScanned !== undefined ? { bytesScanned } : {}),
    };
  } catch (err) {
    if (isAccessDenied(err))
      throw new TenkaiError(
        "LOGS_ACCESS_DENIED",
        `your AWS credentials may not run Athena queries in workgroup ${workGroup}`,
        "use a role with athena:StartQueryExecution on the workgroup, glue:GetTable on the ALB log table and s3:GetObject on the access-log bucket",
        { cause: err },
      );
    throw err;
  }
}
