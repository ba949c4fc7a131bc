/**
 * `tenkai deploy FILE` and `tenkai destroy FILE`: synthesize the AWS plane and drive the CDK
 * toolkit over it. The engines live in src/aws (loaded lazily: aws-cdk-lib and toolkit-lib are
 * heavy); `tenkai diff FILE --plane aws` calls `diffAwsPlane` from the diff command.
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { TenkaiError } from "../../shared/errors.js";
import { runAction, withOutput } from "../output.js";

interface AwsCommandOptions {
  readonly output?: string;
  readonly env?: string;
  readonly out: string;
  readonly stack?: string[];
  readonly profile?: string;
  readonly yes?: boolean;
  readonly bootstrap?: boolean;
  readonly rotating?: string[];
}

async function synthesize(file: string, opts: AwsCommandOptions) {
  const { loadPlatform } = await import("../../spec/load.js");
  const { synthesizeAwsPlane } = await import("../../aws/synth.js");
  const platform = await loadPlatform(file, opts.env ? { environment: opts.env } : {});
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
      .option("--profile <name>", "AWS profile for credentials (default: the SDK's default chain)")
      .option("--rotating <group...>", "node groups being rotated: keep both their blue and green slots"),
  );
}

export function register(program: Command): void {
  common(
    program
      .command("deploy")
      .description("deploy the AWS plane (CloudFormation stacks through the CDK toolkit)"),
  )
    .option("--bootstrap", "bootstrap the account and region for the CDK first (once per account and region)")
    .action((file: string, opts: AwsCommandOptions) =>
      runAction(opts, async (io) => {
        const { synth } = await synthesize(file, opts);
        io.info(`synthesized ${synth.stacks.length} stacks into ${synth.assemblyDir}`);
        const { deployAwsPlane } = await import("../../aws/toolkit.js");
        const result = await deployAwsPlane({
          assemblyDir: synth.assemblyDir,
          stacks: opts.stack,
          profile: opts.profile,
          bootstrap: opts.bootstrap,
          sink: io.sink,
        });
        io.result(
          result,
          (r) => `deployed ${r.stacks.length} stacks: ${r.stacks.map((s) => s.stackName).join(", ")}`,
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
