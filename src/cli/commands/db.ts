/**
 * `tenkai db status FILE`: per tenant that uses the database, whether its database and login role
 * exist on the Aurora cluster and match the spec (owner, no CONNECT for PUBLIC, role can log in
 * and holds no admin attributes), and tenant databases the spec no longer has (kept, reported).
 * Read-only, through the RDS Data API with the caller's credentials.
 */
import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { type AwsFlags, clientConfig } from "../aws-steps.js";
import { runAction, withOutput } from "../output.js";

interface DbFlags extends AwsFlags {
  readonly output?: string;
  readonly env?: string;
}

export function register(program: Command): void {
  const db = program.command("db").description("tenant databases on the platform's Aurora cluster");
  withOutput(
    db
      .command("status")
      .description("per tenant: do its database and login role exist and match the spec")
      .argument("<file>", "platform.yaml")
      .option("-e, --env <name>", "use this environment's overlay"),
  ).action((file: string, opts: DbFlags) =>
    runAction(opts, async (io) => {
      const { loadPlatform } = await import("../../spec/load.js");
      const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
      if (!platform.spec.database)
        throw new TenkaiError(
          "CLI_NO_DATABASE",
          `${file} declares no spec.database`,
          "add spec.database (engine aurora-postgresql) to give tenants databases",
        );
      const [{ RDSClient }, { RDSDataClient }, { databaseStatus }, { awsCallError }] = await Promise.all([
        import("@aws-sdk/client-rds"),
        import("@aws-sdk/client-rds-data"),
        import("../../aws/database-sync.js"),
        import("../../aws/sdk-errors.js"),
      ]);
      const config = clientConfig(platform, opts);
      const rds = new RDSClient(config);
      const rdsData = new RDSDataClient(config);
      try {
        const tenants = await databaseStatus(platform, { rds, rdsData });
        io.result({ tenants }, (r) => {
          const rows = r.tenants.map((t) => [
            t.tenant,
            t.database,
            t.databaseExists ? "yes" : "no",
            t.roleExists ? "yes" : "no",
            t.state,
            t.problems.join("; "),
          ]);
          const head = ["TENANT", "DATABASE", "DB", "ROLE", "STATE", "PROBLEMS"];
          const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] ?? "").length)));
          return [head, ...rows]
            .map((x) =>
              x
                .map((c, i) => c.padEnd(w[i] ?? 0))
                .join("  ")
                .trimEnd(),
            )
            .join("\n");
        });
        // Missing or drifted tenants fail the command (run tenkai deploy); kept ones do not.
        return tenants.some((t) => t.state === "missing" || t.state === "drifted") ? 1 : 0;
      } catch (err) {
        throw awsCallError(err, "read the tenant databases through the RDS Data API");
      } finally {
        rds.destroy();
        rdsData.destroy();
      }
    }),
  );
}
