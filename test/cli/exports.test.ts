/**
 * The package exports what its index promises: every subpath the index names is in package.json
 * `exports`, each points at a module the build emits (src/X.ts → dist/X.js), and that module loads
 * and exports functions. Run from source (tsx) so it needs no build.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = new URL("../../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | { types: string; default: string }>;
};
const index = readFileSync(join(ROOT, "src/index.ts"), "utf8");

describe("package exports", () => {
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== "./package.json");

  it("lists every subpath the index promises", () => {
    const promised = [...index.matchAll(/`tenkai\/([a-z/]+)`/g)].map((m) => `./${m[1]}`);
    assert.ok(promised.length >= 4, "the index names its subpaths");
    for (const p of promised)
      assert.ok(p in pkg.exports, `src/index.ts promises ${p}; package.json exports lacks it`);
  });

  for (const [subpath, target] of entries) {
    it(`${subpath} resolves to a module the build emits, with its types`, async () => {
      assert.equal(typeof target, "object");
      const { default: js, types } = target as { types: string; default: string };
      assert.match(js, /^\.\/dist\/.*\.js$/);
      assert.equal(types, js.replace(/\.js$/, ".d.ts"));
      const source = join(ROOT, js.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
      assert.ok(existsSync(source), `${subpath}: ${source} does not exist`);
      const mod = (await import(source)) as Record<string, unknown>;
      const functions = Object.values(mod).filter((v) => typeof v === "function");
      assert.ok(functions.length > 0, `${subpath} exports no functions`);
    });
  }
});
