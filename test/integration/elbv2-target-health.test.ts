/**
 * The elbv2 target-health source: TargetGroupBindings and Services from the local control plane
 * (the TargetGroupBinding CRD from the pinned controller chart render), elbv2 DescribeTargetHealth
 * mocked at the SDK level (aws-sdk-client-mock; moto keeps no health for IP targets it never
 * probes).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { mockClient } from "aws-sdk-client-mock";
import { parseAllDocuments } from "yaml";
import { KubeClient } from "../../src/kube/api/client.js";
import { Elbv2TargetHealth } from "../../src/providers/eks/target-health.js";
import type { TargetPod } from "../../src/providers/target-health.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";

const RENDER = new URL("../../data/charts/aws-load-balancer-controller/render.yaml", import.meta.url);
const TG =
  "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/k8s-shop-api/0123456789abcdef";

let cluster: TestCluster | undefined;
before(async () => {
  cluster = await startTestCluster();
  if (!cluster) return;
  const kc = cluster.kubeConfig;
  const crd = parseAllDocuments(readFileSync(RENDER, "utf8"))
    .map((d) => d.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .find(
      (d) =>
        d?.kind === "CustomResourceDefinition" && d.metadata?.name === "targetgroupbindings.elbv2.k8s.aws",
    );
  if (!crd) throw new Error("the chart render has no TargetGroupBinding CRD");
  // Raw JSON: the typed client's serializer drops the schema's x-kubernetes-* fields.
  await new KubeClient(kc).request({
    method: "POST",
    path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    body: crd,
  });
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  for (let i = 0; ; i++) {
    const c = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? "" });
    if (c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")) break;
    if (i > 300) throw new Error("the TargetGroupBinding CRD is not Established");
    await new Promise((r) => setTimeout(r, 100));
  }
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: "shop" } } });
  await core.createNamespacedService({
    namespace: "shop",
    body: {
      metadata: { name: "api" },
      spec: { selector: { app: "api" }, ports: [{ port: 80, targetPort: 8080 }] },
    },
  });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: "elbv2.k8s.aws",
    version: "v1beta1",
    namespace: "shop",
    plural: "targetgroupbindings",
    body: {
      apiVersion: "elbv2.k8s.aws/v1beta1",
      kind: "TargetGroupBinding",
      metadata: { name: "k8s-shop-api-0123456789" },
      spec: { targetGroupARN: TG, targetType: "ip", serviceRef: { name: "api", port: 80 } },
    },
  });
});
after(async () => {
  await cluster?.stop();
});

const pod = (name: string, ip: string, app = "api"): TargetPod => ({
  pod: `shop/${name}`,
  namespace: "shop",
  ip,
  labels: { app },
});

describe("Elbv2TargetHealth", () => {
  it("reports the moved pods a bound Service selects that are not healthy, in the load balancer's words", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const client = new ElasticLoadBalancingV2Client({ region: "ap-northeast-1" });
    const mock = mockClient(client);
    mock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: "10.0.1.5", Port: 8080 }, TargetHealth: { State: "healthy" } },
        {
          Target: { Id: "10.0.2.6", Port: 8080 },
          TargetHealth: { State: "initial", Reason: "Elb.RegistrationInProgress" },
        },
      ],
    });
    const source = new Elbv2TargetHealth({ client, kubeConfig: cluster.kubeConfig });
    const unhealthy = await source.unhealthy([
      pod("api-1", "10.0.1.5"),
      pod("api-2", "10.0.2.6"),
      pod("api-3", "10.0.3.7"),
      pod("worker-1", "10.0.3.8", "worker"),
      { pod: "other/api-9", namespace: "other", ip: "10.0.4.9", labels: { app: "api" } },
    ]);
    assert.deepEqual(unhealthy, [
      {
        pod: "shop/api-2",
        ip: "10.0.2.6",
        targetGroupArn: TG,
        state: "initial",
        reason: "Elb.RegistrationInProgress",
      },
      { pod: "shop/api-3", ip: "10.0.3.7", targetGroupArn: TG, state: "unregistered" },
    ]);
    assert.equal(mock.commandCalls(DescribeTargetHealthCommand).length, 1, "one call per target group");
  });

  it("an elbv2 failure reaches the caller (the rotation waits it out, then names it)", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    const client = new ElasticLoadBalancingV2Client({ region: "ap-northeast-1" });
    mockClient(client)
      .on(DescribeTargetHealthCommand)
      .rejects(Object.assign(new Error("User is not authorized"), { name: "AccessDenied" }));
    const source = new Elbv2TargetHealth({ client, kubeConfig: cluster.kubeConfig });
    await assert.rejects(source.unhealthy([pod("api-1", "10.0.1.5")]), /not authorized/);
  });
});
