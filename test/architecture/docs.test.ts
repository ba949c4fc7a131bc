import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ERROR_CODES, exitCodeOf } from "../../src/shared/errors.js";

const doc = readFileSync(new URL("../../docs/architecture.md", import.meta.url), "utf8");

describe("docs/architecture.md", () => {
  it("lists exactly the error codes of ERROR_CODES, each with its exit code and meaning", () => {
    const rows = [...doc.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| (\d) \| (.+) \|$/gm)].map((m) => ({
      code: m[1] as string,
      exit: Number(m[2]),
      meaning: (m[3] as string).replace(/\\\|/g, "|"),
    }));
    assert.deepEqual(
      rows.map((r) => r.code),
      Object.keys(ERROR_CODES),
    );
    for (const r of rows) {
      assert.equal(r.exit, exitCodeOf(r.code), r.code);
      assert.equal(r.meaning, ERROR_CODES[r.code as keyof typeof ERROR_CODES], r.code);
    }
  });

  it("the README points at it", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    assert.match(readme, /docs\/architecture\.md/);
    assert.doesNotMatch(readme, /\.\.\/shared\/DESIGN\.md/);
  });
});
