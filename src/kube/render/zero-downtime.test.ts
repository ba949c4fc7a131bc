/**
 * What zero downtime through the ALB (target type ip) needs in the rendered objects: the
 * readiness-gate label on every tenant namespace, a preStop sleep and grace period longer than the
 * target group's deregistration delay on every service pod, that delay on every Ingress, and an
 * HTTP listener that only redirects to HTTPS when there is a certificate.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { KubeObject } from "../../shared/planes.js";
import { definePlatform } from "../../spec/define.js";
import { loadPlatform } from "../../spec/load.js";
import type { PlatformInput } from "../../spec/schema.js";
import { renderKubernetesPlane } from "./render.js";

const NOW = new Date("2026-11-28T00:00:00Z");
const example = await loadPlatform(new URL("../../../examples/platform.yaml", import.meta.url).pathname, {
  now: NOW,
});
// biome-ignore lint/suspicious/noExplicitAny: the test reads deep fields of rendered objects
type Obj = KubeObject & Record<string, any>;
const all = (p = example): Obj[] => renderKubernetesPlane(p).tenants.flatMap((t) => t.objects) as Obj[];

function platform(over: { ingress?: PlatformInput["spec"]["ingress"]; shutdown?: object } = {}) {
  return definePlatform(
    {
      apiVersion: "tenkai.dev/v1alpha1",
      kind: "Platform",
      metadata: { name: "zd" },
      spec: {
        aws: { account: "123456789012", region: "us-east-1" },
        cluster: { version: "1.35", creatorAdmin: true },
        nodeGroups: [{ name: "g", instanceTypes: ["m6i.large"], min: 2, max: 4 }],
        ...(over.ingress ? { ingress: over.ingress } : {}),
        tenants: [
          {
            name: "shop",
            services: [
              {
                name: "api",
                image: "api",
                tag: "1.0.0",
                port: 8080,
                route: { host: "api.example.com", path: "/api" },
                ...(over.shutdown ? { shutdown: over.shutdown } : {}),
              },
            ],
          },
        ],
      },
    },
    { now: NOW },
  );
}

const deploymentOf = (objects: Obj[]) => objects.find((o) => o.kind === "Deployment") as Obj;
const ingressOf = (objects: Obj[]) => objects.find((o) => o.kind === "Ingress") as Obj;

describe("zero downtime through the ALB", () => {
  it("labels every tenant namespace for readiness gate injection", () => {
    const namespaces = all().filter((o) => o.kind === "Namespace");
    assert.equal(namespaces.length, example.spec.tenants.length);
    for (const ns of namespaces)
      assert.equal(
        ns.metadata.labels?.["elbv2.k8s.aws/pod-readiness-gate-inject"],
        "enabled",
        ns.metadata.name,
      );
  });

  it("gives every service pod a preStop sleep and a grace period longer than the deregistration delay", () => {
    const delay = example.spec.ingress.deregistrationDelaySeconds;
    const deployments = all().filter((o) => o.kind === "Deployment");
    assert.ok(deployments.length > 0);
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const sleep = pod.containers[0].lifecycle?.preStop?.sleep?.seconds;
      assert.ok(sleep > delay, `${d.metadata.name}: preStop ${sleep} s > deregistration delay ${delay} s`);
      assert.ok(pod.terminationGracePeriodSeconds > sleep, `${d.metadata.name}: grace outlasts preStop`);
    }
    const ingresses = all().filter((o) => o.kind === "Ingress");
    assert.ok(ingresses.length > 0);
    for (const i of ingresses) {
      assert.equal(
        i.metadata.annotations?.["alb.ingress.kubernetes.io/target-group-attributes"],
        `deregistration_delay.timeout_seconds=${delay}`,
      );
    }
  });

  it("defaults to 30 s drain, 35 s preStop, 50 s grace, and follows the spec", () => {
    const d = deploymentOf(all(platform())).spec.template.spec;
    assert.deepEqual(
      [d.containers[0].lifecycle.preStop.sleep.seconds, d.terminationGracePeriodSeconds],
      [35, 50],
    );
    const custom = all(
      platform({
        ingress: { deregistrationDelaySeconds: 60 },
        shutdown: { preStopSeconds: 70, gracePeriodSeconds: 100 },
      }),
    );
    const c = deploymentOf(custom).spec.template.spec;
    assert.deepEqual(
      [c.containers[0].lifecycle.preStop.sleep.seconds, c.terminationGracePeriodSeconds],
      [70, 100],
    );
    assert.equal(
      ingressOf(custom).metadata.annotations?.["alb.ingress.kubernetes.io/target-group-attributes"],
      "deregistration_delay.timeout_seconds=60",
    );
    const cron = renderKubernetesPlane(example)
      .tenants.flatMap((t) => t.objects)
      .find((o) => o.kind === "CronJob") as Obj | undefined;
    if (cron) assert.equal(cron.spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds, undefined);
  });

  it("redirects HTTP to HTTPS when the ALB has a certificate, and serves HTTP only without one", () => {
    const cert = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123";
    const withCert = all(platform({ ingress: { certificateArn: cert } }));
    assert.equal(
      ingressOf(withCert).metadata.annotations?.["alb.ingress.kubernetes.io/listen-ports"],
      '[{"HTTP":80},{"HTTPS":443}]',
    );
    const params = withCert.find((o) => o.kind === "IngressClassParams") as Obj;
    assert.equal(params.spec.sslRedirectPort, "443");
    assert.deepEqual(params.spec.certificateArn, [cert]);
    const without = all(platform());
    assert.equal(
      ingressOf(without).metadata.annotations?.["alb.ingress.kubernetes.io/listen-ports"],
      '[{"HTTP":80}]',
    );
    assert.equal(
      (without.find((o) => o.kind === "IngressClassParams") as Obj).spec.sslRedirectPort,
      undefined,
    );
  });

  it("validate refuses a preStop that does not outlast the drain, or a grace that ends first", () => {
    assert.throws(
      () => platform({ ingress: { deregistrationDelaySeconds: 60 }, shutdown: { preStopSeconds: 30 } }),
      (e: Error & { problems?: { code: string }[] }) => {
        assert.deepEqual(
          e.problems?.map((p) => p.code),
          ["SPEC_PRESTOP_TOO_SHORT"],
        );
        return true;
      },
    );
    assert.throws(
      () => platform({ shutdown: { preStopSeconds: 40, gracePeriodSeconds: 40 } }),
      (e: Error & { problems?: { code: string }[] }) => {
        assert.deepEqual(
          e.problems?.map((p) => p.code),
          ["SPEC_GRACE_TOO_SHORT"],
        );
        return true;
      },
    );
  });
});
