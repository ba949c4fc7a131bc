import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  APPLYSET_GKS_ANNOTATION,
  applySetId,
  applySetParent,
  groupKind,
  objectKey,
  parentObject,
} from "./applyset.js";
import { diffObjects, formatChanges } from "./object-diff.js";

describe("ApplySet (KEP-3659)", () => {
  it("derives the id from the parent's name, namespace, kind and group", () => {
    const parent = applySetParent("web");
    assert.deepEqual(parent, { name: "tenkai-applyset-web", namespace: "tenkai-system" });
    const hash = createHash("sha256")
      .update("tenkai-applyset-web.tenkai-system.ConfigMap.")
      .digest("base64url");
    assert.equal(applySetId(parent), `applyset-${hash}-v1`);
    assert.match(applySetId(parent), /^applyset-[A-Za-z0-9_-]{43}-v1$/);
  });

  it("records group-kinds sorted, core kinds without a group", () => {
    assert.equal(groupKind({ apiVersion: "v1", kind: "Namespace" }), "Namespace");
    assert.equal(groupKind({ apiVersion: "apps/v1", kind: "Deployment" }), "Deployment.apps");
    const p = parentObject(
      applySetParent("web"),
      ["Deployment.apps", "Namespace", "Deployment.apps"],
      ["shop", "tenkai-system"],
    );
    assert.equal(p.metadata.annotations?.[APPLYSET_GKS_ANNOTATION], "Deployment.apps,Namespace");
    assert.equal(p.metadata.annotations?.["applyset.kubernetes.io/additional-namespaces"], "shop");
    assert.equal(
      objectKey({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a", namespace: "shop" } }),
      "Deployment.apps shop/a",
    );
  });
});

describe("object diff", () => {
  it("lists added, removed and changed fields by path", () => {
    const changes = diffObjects(
      { spec: { a: 1, b: [1, 2], c: "x" } },
      { spec: { a: 2, b: [1, 3], d: true } },
    );
    assert.deepEqual(formatChanges(changes), [
      "~ spec.a: 1 → 2",
      "~ spec.b[1]: 2 → 3",
      '- spec.c: "x"',
      "+ spec.d: true",
    ]);
  });
});
