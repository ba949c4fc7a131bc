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

  it("continues when run again (the tenant is there as asked), refuses a different one by code", () => {
    const again = addTenant(
      text,
      file,
      { name: "shop", role: "arn:aws:iam::123456789012:role/shop-developers", level: "edit" },
      now,
    );
    assert.equal(again.unchanged, true);
    assert.equal(again.text, text);
    assert.throws(
      () =>
        addTenant(
          text,
          file,
          { name: "shop", role: "arn:aws:iam::123456789012:role/other", level: "view" },
          now,
        ),
      (e) => isTenkaiError(e, "TENANT_EXISTS"),
    );
  });

  it("keeps each tenant's comments with it, and the file's CRLF line endings", () => {
    const commented = text
      .replace("    - name: users\n", "    # users: the identity team (owner: ana)\n    - name: users\n")
      .replace(
        "    - name: orders\n",
        "    # orders: the fulfilment team\n    # pager: #orders-oncall\n    - name: orders\n",
      );
    const removed = removeTenant(commented, file, "users", now);
    assert.ok(!removed.text.includes("identity team"), "the removed tenant's comment went with it");
    assert.match(
      removed.text,
      /# orders: the fulfilment team\n {4}# pager: #orders-oncall\n {4}- name: orders\n/,
    );
    const crlf = commented.replace(/\n/g, "\r\n");
    const removedCrlf = removeTenant(crlf, file, "users", now);
    assert.equal(removedCrlf.text, removed.text.replace(/\n/g, "\r\n"));
    const added = addTenant(
      crlf,
      file,
      { name: "billing", role: "arn:aws:iam::123456789012:role/billing" },
      now,
    );
    assert.ok(!/[^\r]\n/.test(added.text), "every line ends in CRLF");
    assert.match(added.text, /- name: billing\r\n/);
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
