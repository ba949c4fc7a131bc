import type { Command } from "commander";
import { runAction, withOutput } from "../output.js";

export function register(program: Command): void {
  withOutput(
    program
      .command("init")
      .description("write a commented starter platform.yaml")
      .argument("[file]", "where to write it", "platform.yaml")
      .option("--name <name>", "platform name", "web")
      .option("--account <id>", "AWS account id", "123456789012")
      .option("--region <region>", "AWS region", "us-east-1")
      .option("--force", "overwrite an existing file"),
  ).action(
    (
      file: string,
      opts: { output?: string; name: string; account: string; region: string; force?: boolean },
    ) =>
      runAction(opts, async (io) => {
        const { writeStarter } = await import("../../spec/starter.js");
        const written = await writeStarter(file, {
          name: opts.name,
          account: opts.account,
          region: opts.region,
          force: opts.force ?? false,
        });
        io.result(
          written,
          (w) => `wrote ${w.file}\nnext: tenkai validate ${w.file} && tenkai plan ${w.file}`,
        );
      }),
  );
}
