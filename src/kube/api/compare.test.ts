import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../../shared/planes.js";
import { alreadyApplied, applyChanged, withAppliedHash } from "./compare.js";

const desired = withAppliedHash({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "api", namespace: "shop", labels: { app: "api" } },
  spec: { template: { spec: { containers: [{ name: "api", image: "r/api:1" }] } } },
} as KubeObject);
const live = (
  over: { image?: string; replicas?: number; rv?: string; hash?: string; fields?: unknown } = {},
) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "api",
    namespace: "shop",
    resourceVersion: over.rv ?? "1",
    labels: { app: "api", "kubernetes.io/extra": "x" },
    annotations: {
      ...desired.metadata.annotations,
      ...(over.hash ? { "tenkai.dev/applied-hash": over.hash } : {}),
    },
    managedFields: [{ manager: "tenkai", operation: "Apply", fieldsV1: over.fields ?? { "f:spec": {} } }],
  },
  spec: {
    replicas: over.replicas ?? 2,
    template: {
      spec: {
        containers: [
          { name: "api", image: over.image ?? "r/api:1", terminationMessagePath: "/dev/termination-log" },
        ],
      },
    },
  },
  status: { replicas: 2 },
});

describe("compare", () => {
  it("skips an object whose tenkai fields hold the desired values, whatever the server added", () => {
    assert.equal(alreadyApplied(live(), desired), true);
  });
  it("re-applies on drift in a field tenkai sets, or when the spec behind it changed", () => {
    assert.equal(alreadyApplied(live({ image: "r/api:2" }), desired), false);
    assert.equal(alreadyApplied(live({ hash: "older" }), desired), false);
  });
  it("does not count a controller's write (HPA replicas) as tenkai's change", () => {
    assert.equal(applyChanged(live(), live({ replicas: 5, rv: "2" }), desired), false);
    assert.equal(applyChanged(live({ image: "r/api:0" }), live({ rv: "2" }), desired), true);
    assert.equal(
      applyChanged(live(), live({ rv: "2", fields: { "f:metadata": {} } }), desired),
      true,
      "a field tenkai stopped setting was removed",
    );
    assert.equal(
      applyChanged(live({ image: "r/api:0" }), live({ image: "r/api:0" }), desired),
      false,
      "same resourceVersion: no write",
    );
  });
});
