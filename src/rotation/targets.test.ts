import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { movedPods, openTargetGates } from "./targets.js";

const GATE = "target-health.elbv2.k8s.aws/k8s-web-api-0123456789";

function pod(over: {
  name?: string;
  node?: string;
  created?: string;
  gates?: string[];
  conditions?: { type: string; status: string }[];
  deleting?: boolean;
}): V1Pod {
  return {
    metadata: {
      name: over.name ?? "p",
      namespace: "ns",
      creationTimestamp: new Date(over.created ?? "2026-01-01T00:00:10Z"),
      ...(over.deleting ? { deletionTimestamp: new Date("2026-01-01T00:01:00Z") } : {}),
    },
    spec: {
      nodeName: over.node ?? "g-green-0",
      containers: [{ name: "c" }],
      readinessGates: (over.gates ?? []).map((conditionType) => ({ conditionType })),
    },
    status: { conditions: over.conditions ?? [] },
  };
}

describe("openTargetGates", () => {
  const cases: [string, V1Pod, string[]][] = [
    ["no gates", pod({}), []],
    ["an ALB gate without its condition", pod({ gates: [GATE] }), [GATE]],
    ["an ALB gate False", pod({ gates: [GATE], conditions: [{ type: GATE, status: "False" }] }), [GATE]],
    ["an ALB gate True", pod({ gates: [GATE], conditions: [{ type: GATE, status: "True" }] }), []],
    ["another gate is not the load balancer's", pod({ gates: ["example.com/feature"] }), []],
  ];
  for (const [name, p, want] of cases) it(name, () => assert.deepEqual(openTargetGates(p), want));
});

describe("movedPods", () => {
  const since = Date.parse("2026-01-01T00:00:10.700Z");
  it("keeps pods made since the rotation started (to the second), alive, off the leaving slot", () => {
    const pods = [
      pod({ name: "new", created: "2026-01-01T00:00:11Z" }),
      pod({ name: "same-second", created: "2026-01-01T00:00:10Z" }),
      pod({ name: "old", created: "2026-01-01T00:00:09Z" }),
      pod({ name: "on-blue", created: "2026-01-01T00:00:12Z", node: "g-blue-0" }),
      pod({ name: "going", created: "2026-01-01T00:00:12Z", deleting: true }),
    ];
    assert.deepEqual(
      movedPods(pods, since, new Set(["g-blue-0"])).map((p) => p.metadata?.name),
      ["new", "same-second"],
    );
  });
});
