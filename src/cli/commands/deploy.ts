/**
 * `tenkai deploy FILE` and `tenkai destroy FILE`: synthesize the AWS plane and drive the CDK
 * toolkit over it. The engines live in src/aws (loaded lazily: aws-cdk-lib and toolkit-lib are
 * heavy); `tenkai diff FILE --plane aws` calls `diffAwsPlane` from the diff command.
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { checkStackRegion, clientConfig, imageGateStep, report, withImageGate } from "../aws-steps.js";
import { type CommandIO, runAction, withOutput } from "../output.js";

interface AwsCommandOptions {
  readonly output?: string;
  readonly env?: string;
  readonly out: string;
  readonly stack?: string[];
  readonly profile?: string;
  readonly region?: string;
  readonly yes?: boolean;
  readonly bootstrap?: boolean;
  readonly rotating?: string[];
  readonly imageGate?: boolean;
  readonly allowImage?: string[];
  readonly databases?: boolean;
}

/**
 * After the stacks: Inspector scanning merged into the registry configuration (when
 * registry.enhancedScanning), then every tenant's database and login role through the RDS Data
 * API. Passwords never leave memory except as SCRAM verifiers inside the Data API request.
 */
async function afterStacks(
  platform: import("../../spec/schema.js").Platform,
  opts: AwsCommandOptions,
  io: CommandIO,
) {
  const { awsCallError } = await import("../../aws/sdk-errors.js");
  const config = clientConfig(platform, opts);
  let registry: unknown;
  if (platform.spec.registry.enhancedScanning) {
    const { ECRClient } = await import("@aws-sdk/client-ecr");
    const { ensureEnhancedScanning } = await import("../../aws/registry-scanning.js");
    const ecr = new ECRClient(config);
    try {
      registry = await ensureEnhancedScanning(ecr, platform, io.sink);
    } catch (err) {
      throw awsCallError(err, "merge enhanced scanning into the registry scanning configuration");
    } finally {
      ecr.destroy();
    }
  }
  const only = opts.stack ?? [];
  const touchesData = only.length === 0 || only.some((s) => s.endsWith("-data") || s.includes("-tenants-"));
  const { tenantUsesDatabase } = await import("../../spec/tenant-needs.js");
  if (!platform.spec.database || !platform.spec.tenants.some(tenantUsesDatabase) || !touchesData)
    return { registry };
  if (opts.databases === false) {
    report(io, "warn", "aws.database.skipped", "tenant databases skipped (--no-databases)");
    return { registry };
  }
  const [{ RDSClient }, { RDSDataClient }, { SecretsManagerClient }, { syncTenantDatabases }] =
    await Promise.all([
      import("@aws-sdk/client-rds"),
      import("@aws-sdk/client-rds-data"),
      import("@aws-sdk/client-secrets-manager"),
      import("../../aws/database-sync.js"),
    ]);
  const clients = {
    rds: new RDSClient(config),
    rdsData: new RDSDataClient(config),
    secrets: new SecretsManagerClient(config),
  };
  try {
    const databases = await syncTenantDatabases(platform, clients, io.sink);
    return { registry, databases };
  } catch (err) {
    throw awsCallError(err, "create the tenant databases through the RDS Data API");
  } finally {
    for (const c of Object.values(clients)) c.destroy();
  }
}

async function synthesize(file: string, opts: AwsCommandOptions) {
  const { loadPlatform } = await import("../../spec/load.js");
  const { synthesizeAwsPlane } = await import("../../aws/synth.js");
  const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
  // Before anything is synthesized or called: the stacks go to the spec's region only.
  checkStackRegion(platform, opts);
  const synth = await synthesizeAwsPlane(platform, { outdir: opts.out, rotating: opts.rotating });
  return { platform, synth };
}

function common(cmd: Command): Command {
  return withOutput(
    cmd
      .argument("<file>", "platform.yaml")
      .option("-e, --env <name>", "use this environment's overlay")
      .option("--out <dir>", "where to write the cloud assembly", "out/cdk.out")
      .option("--stack <name...>", "only these stacks (default: all)")
      .option("--rotating <group...>", "node groups being rotated: keep both their blue and green slots"),
  );
}

export function register(program: Command): void {
  withImageGate(
    common(
      program
        .command("deploy")
        .description(
          "deploy the AWS plane (CloudFormation stacks through the CDK toolkit), then the tenant databases",
        ),
    ),
  )
    .option("--bootstrap", "bootstrap the account and region for the CDK first (once per account and region)")
    .option("--no-databases", "do not create or update the tenant databases after the stacks")
    .action((file: string, opts: AwsCommandOptions) =>
      runAction(opts, async (io) => {
        const { platform, synth } = await synthesize(file, opts);
        io.info(`synthesized ${synth.stacks.length} stacks into ${synth.assemblyDir}`);
        const images = await imageGateStep(platform, opts, io);
        const { deployAwsPlane } = await import("../../aws/toolkit.js");
        const result = await deployAwsPlane({
          assemblyDir: synth.assemblyDir,
          stacks: opts.stack,
          profile: opts.profile,
          bootstrap: opts.bootstrap,
          sink: io.sink,
        });
        const after = await afterStacks(platform, opts, io);
        io.result(
          { ...result, images: images?.images, ...after },
          (r) =>
            `deployed ${r.stacks.length} stacks: ${r.stacks.map((s) => s.stackName).join(", ")}${
              r.databases
                ? `\ntenant databases: ${r.databases.created.length} created, ${r.databases.statements} statements${
                    r.databases.kept.length > 0
                      ? `; kept (no tenant uses them): ${r.databases.kept.join(", ")}`
                      : ""
                  }`
                : ""
            }`,
        );
      }),
    );

  common(program.command("destroy").description("destroy the AWS plane's stacks (asks first unless --yes)"))
    .option("-y, --yes", "do not ask for confirmation")
    .action((file: string, opts: AwsCommandOptions) =>
      runAction(opts, async (io) => {
        const { platform, synth } = await synthesize(file, opts);
        const { deployOrder, destroyAwsPlane } = await import("../../aws/toolkit.js");
        const stacks = (opts.stack && opts.stack.length > 0 ? opts.stack : deployOrder(synth.assemblyDir))
          .slice()
          .reverse();
        if (!opts.yes) {
          const { account, region } = platform.spec.aws;
          if (!process.stdin.isTTY) {
            throw new TenkaiError(
              "CLI_CONFIRM_REQUIRED",
              `destroy needs confirmation: it deletes ${stacks.join(", ")} in ${account}/${region}`,
              "run it in a terminal to answer the prompt, or pass --yes",
            );
          }
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          const answer = await rl.question(
            `destroy ${stacks.length} stacks of platform ${platform.metadata.name} in ${account}/${region} (${stacks.join(", ")})? type the platform name to confirm: `,
          );
          rl.close();
          if (answer.trim() !== platform.metadata.name) {
            io.info("not confirmed; nothing destroyed");
            return 1;
          }
        }
        const result = await destroyAwsPlane({
          assemblyDir: synth.assemblyDir,
          stacks: opts.stack,
          profile: opts.profile,
          sink: io.sink,
        });
        io.result(result, (r) => `destroyed ${r.stacks.length} stacks: ${r.stacks.join(", ")}`);
        return 0;
      }),
    );
}
