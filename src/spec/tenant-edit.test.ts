import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { isTenkaiError } from "../shared/errors.js";
import { addTenant, removeTenant } from "./tenant-edit.js";

const file = new URL("../../examples/platform.yaml", import.meta.url).pathname;
const text = readFileSync(file, "utf8");
const now = { now: new Date("2026-01-01") };

describe("tenant add/remove", () => {
  it("adds a tenant with an access role, keeping every comment and existing line", () => {
    const edit = addTenant(
      text,
      file,
      { name: "billing", role: "arn:aws:iam::123456789012:role/billing-devs", level: "view" },
      now,
    );
    assert.ok(edit.platform.spec.tenants.some((t) => t.name === "billing" && t.access[0]?.level === "view"));
    for (const line of text.split("\n").filter((l) => l.trim().startsWith("#")))
      assert.ok(edit.text.includes(line), `kept comment: ${line}`);
    assert.match(
      edit.text,
      /- name: billing\n\s+access:\n\s+- \{ role: "arn:aws:iam::123456789012:role\/billing-devs", level: view \}/,
    );
    // Everything before the new entry is byte-identical.
    assert.ok(edit.text.startsWith(text.slice(0, text.indexOf("environments:"))));
  });

  it("refuses a tenant that exists, by code", () => {
    assert.throws(
      () => addTenant(text, file, { name: "shop" }, now),
      (e) => isTenkaiError(e, "TENANT_EXISTS"),
    );
  });

  it("refuses an invalid name with the spec's own error", () => {
    assert.throws(
      () => addTenant(text, file, { name: "Bad_Name" }, now),
      (e) => isTenkaiError(e) && e.code === "SPEC_INVALID",
    );
  });

  it("removes a tenant, and refuses one a Fargate profile still selects", () => {
    const edit = removeTenant(text, file, "users", now);
    assert.deepEqual(
      edit.platform.spec.tenants.map((t) => t.name),
      ["shop", "orders"],
    );
    assert.ok(!edit.text.includes("users-api"));
    // Only the tenant's own lines went: the rest is the original text, line for line.
    const kept = text.split("\n");
    const start = kept.findIndex((l) => l.trim() === "- name: users");
    const end = kept.findIndex((l, i) => i > start && l.trim() === "- name: orders");
    assert.equal(edit.text, [...kept.slice(0, start), ...kept.slice(end)].join("\n"));
    assert.throws(
      () => removeTenant(text, file, "orders", now),
      (e) => isTenkaiError(e) && /SPEC/.test(e.code),
    );
    assert.throws(
      () => removeTenant(text, file, "nope", now),
      (e) => isTenkaiError(e, "TENANT_NOT_FOUND"),
    );
  });
});
