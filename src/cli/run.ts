/** Runs the CLI from source (tests and `tsx src/cli/run.ts ...`); the published bin runs dist/. */
import { runCli } from "./main.js";

await runCli(process.argv);
