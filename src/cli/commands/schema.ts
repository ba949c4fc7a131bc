import type { Command } from "commander";
import { runAction, withOutput } from "../output.js";

export function register(program: Command): void {
  withOutput(
    program
      .command("schema")
      .description("print the JSON Schema of platform.yaml (for editor completion and checks)"),
  ).action((opts: { output?: string }) =>
    runAction(opts, async (io) => {
      const { platformJsonSchema } = await import("../../spec/json-schema.js");
      // The schema is JSON already; both formats print the same document.
      io.result(platformJsonSchema(), (s) => JSON.stringify(s, null, 2));
    }),
  );
}
