// The CommonJS entry of tenkai (`require("tenkai")`), so that a TypeScript spec in a CommonJS
// package, which tsx compiles to require(), can `import { definePlatform } from "tenkai"`.
// tenkai itself is ESM and Node 20 before 20.19 cannot require() ESM, so this entry holds only
// definePlatform, and it does not check here: `tenkai validate` / `plan` check the module's
// default export with the same rules as platform.yaml when they load it.
"use strict";

/** Marks a platform spec; tenkai validates it when it loads the module. */
function definePlatform(input) {
  return input;
}

module.exports = { definePlatform };
