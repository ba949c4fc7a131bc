import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { renderKubernetesPlane } from "../kube/render/render.js";
import { definePlatform } from "../spec/define.js";
import { toYaml, toYamlStream } from "./manifest-yaml.js";

const example = definePlatform(
  parse(readFileSync(new URL("../../examples/platform.yaml", import.meta.url), "utf8")),
);

/** What kubectl's YAML 1.1 reader would take differently from a string: must come back as a string. */
const TRICKY = [
  "",
  " ",
  "yes",
  "No",
  "on",
  "OFF",
  "y",
  "n",
  "null",
  "~",
  "true",
  "1.35",
  "3000",
  "0x1f",
  "0o17",
  "1e3",
  ".inf",
  "-.nan",
  "2026-12-01",
  "12:30",
  "a: b",
  "a #b",
  "#x",
  "- x",
  "? x",
  "[x]",
  "{x}",
  "*alias",
  "&anchor",
  "!tag",
  "%dir",
  "@at",
  "`tick",
  "'single'",
  '"double"',
  "trailing ",
  "two  spaces",
  "tab\there",
  "line\nbreak",
  "line\nbreak\n",
  "two\n\nblank\n",
  "ends\n\n",
  " lead\nspace",
  "cr\r\nlf",
  "\u0085next-line",
  "\u2028ls",
  "\u007fdel",
  "\ufeffbom",
  "日本語",
  "emoji 🎉",
  "<<",
  "=",
  "/healthz",
  "arn:aws:iam::123456789012:role/x",
  "alb.ingress.kubernetes.io/group.name",
  "${VAR}",
  "a,b",
  "x|y",
  "x>y",
];

describe("manifest YAML writer", () => {
  it("round-trips every rendered object of the example exactly", () => {
    const plane = renderKubernetesPlane(example);
    const objects = [...plane.platform, ...plane.tenants.flatMap((t) => t.objects)];
    assert.ok(objects.length > 50);
    const docs = parseAllDocuments(toYamlStream(objects));
    assert.equal(docs.length, objects.length);
    docs.forEach((d, i) => {
      assert.deepEqual(d.errors, []);
      assert.deepEqual(d.toJS(), JSON.parse(JSON.stringify(objects[i])));
    });
  });

  it("keeps every tricky string a string, as a value, a key and a list item, in YAML 1.1 and 1.2", () => {
    for (const s of TRICKY) {
      const data = { [s]: s, list: [s, { k: s }], nested: { deeper: s } };
      const text = toYaml(data);
      for (const version of ["1.1", "1.2"] as const) {
        assert.deepEqual(parse(text, { version }), data, `${JSON.stringify(s)} in YAML ${version}:\n${text}`);
      }
    }
  });

  it("writes numbers, booleans, null, empty collections and nested lists", () => {
    const data = {
      a: 1,
      b: -2.5,
      c: true,
      d: null,
      e: {},
      f: [],
      g: [[1, 2], [], [{}]],
      h: [{ x: [{ y: 1 }] }],
    };
    assert.deepEqual(parse(toYaml(data)), data);
  });

  it("writes configuration files as readable literal blocks", () => {
    const text = toYaml({ data: { "fluent-bit.conf": "[SERVICE]\n    Flush 1\n" } });
    assert.match(text, /fluent-bit\.conf: \|\n {4}\[SERVICE\]\n {8}Flush 1\n/);
  });
});
