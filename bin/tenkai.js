#!/usr/bin/env node
// The `tenkai` executable: runs the compiled CLI (`npm run build` writes dist/).
let main;
try {
  main = await import("../dist/cli/main.js");
} catch (err) {
  if (err && err.code === "ERR_MODULE_NOT_FOUND" && String(err.message).includes("dist/cli/main.js")) {
    process.stderr.write(
      "error CLI_NOT_BUILT: tenkai is not built\n  fix: run `npm run build` in the tenkai checkout\n",
    );
    process.exitCode = 2;
  } else {
    throw err;
  }
}
if (main) await main.runCli(process.argv);
