/** Runs the CLI from source (tests and `tsx src/cli/run.ts ...`); the published bin runs dist/. */
import { buildProgram } from "./main.js";

await buildProgram().parseAsync(process.argv);
