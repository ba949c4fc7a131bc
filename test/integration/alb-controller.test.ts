/**
 * The AWS Load Balancer Controller chart render applies cleanly to a real kube-apiserver: every
 * CRD Established, the webhook configurations present with a CA that signs the serving
 * certificate for the webhook Service's names (made at apply, reused on the next), the
 * controller's RBAC exactly the chart's, and the VPC id from the AWS plane on its command line.
 * The controller itself is not run (no AWS here): its pods stay unscheduled.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { parseAllDocuments } from "yaml";
import { applyObjects } from "../../src/kube/api/apply.js";
import { KubeClient } from "../../src/kube/api/client.js";
import { albController } from "../../src/kube/render/alb-controller.js";
import { chartRender } from "../../src/shared/data.js";
import type { KubeObject } from "../../src/shared/planes.js";
import { loadPlatform } from "../../src/spec/load.js";
import { startTestCluster, type TestCluster, testClusterUnavailableReason } from "../support/cluster.js";

const platform = await loadPlatform(new URL("../../examples/platform.yaml", import.meta.url).pathname);
const VPC = "vpc-0123456789abcdef0";
let cluster: TestCluster | undefined;
let client: KubeClient;

before(async () => {
  cluster = await startTestCluster();
  if (cluster) client = new KubeClient(cluster.kubeConfig);
});
after(async () => {
  client?.close();
  await cluster?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep fields of live objects
type Live = Record<string, any>;
const get = async (path: string): Promise<Live> =>
  (await client.request({ method: "GET", path })).body as Live;
const chart = parseAllDocuments(chartRender("aws-load-balancer-controller"))
  .map((d) => d.toJS() as KubeObject | null)
  .filter((o): o is KubeObject => o !== null);
const fromChart = (kind: string, name: string) => {
  const o = chart.find((x) => x.kind === kind && x.metadata.name === name) as Live | undefined;
  assert.ok(o, `${kind} ${name} in the chart render`);
  return o;
};

describe("AWS Load Balancer Controller chart on a real API server", () => {
  it("applies cleanly, with Established CRDs, working webhook TLS and the chart's RBAC", async (t) => {
    if (!cluster) return t.skip(`no local cluster: ${testClusterUnavailableReason()}`);
    // The ApplySet's parent lives in tenkai-system, which the full platform render creates.
    const objects: KubeObject[] = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "tenkai-system" } },
      ...albController(platform),
    ];
    const first = await applyObjects(objects, { client, applySetName: "alb-test", wait: false, vpcId: VPC });
    assert.equal(first.summary.created, objects.length, "every object created");

    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
    assert.ok(crds.length >= 2);
    for (const crd of crds) {
      const live = await get(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
      const established = live.status.conditions.find((c: Live) => c.type === "Established");
      assert.equal(established?.status, "True", `${crd.metadata.name} Established`);
    }

    const mutating = await get(
      "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/aws-load-balancer-webhook",
    );
    const validating = await get(
      "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/aws-load-balancer-webhook",
    );
    const webhooks = [...mutating.webhooks, ...validating.webhooks];
    assert.ok(
      webhooks.some((w: Live) => w.name === "mpod.elbv2.k8s.aws"),
      "pod readiness gate webhook",
    );
    const secret = await get("/api/v1/namespaces/kube-system/secrets/aws-load-balancer-tls");
    const pem = (b64: string) => Buffer.from(b64, "base64").toString();
    const ca = new X509Certificate(pem(secret.data["ca.crt"]));
    const serving = new X509Certificate(pem(secret.data["tls.crt"]));
    assert.ok(serving.verify(ca.publicKey), "the CA signs the serving certificate");
    assert.equal(
      serving.checkHost("aws-load-balancer-webhook-service.kube-system.svc"),
      "aws-load-balancer-webhook-service.kube-system.svc",
    );
    for (const w of webhooks)
      assert.equal(w.clientConfig.caBundle, secret.data["ca.crt"], `${w.name} trusts the CA`);

    const role = await get(
      "/apis/rbac.authorization.k8s.io/v1/clusterroles/aws-load-balancer-controller-role",
    );
    assert.deepEqual(role.rules, fromChart("ClusterRole", "aws-load-balancer-controller-role").rules);
    const leader = await get(
      "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles/aws-load-balancer-controller-leader-election-role",
    );
    assert.deepEqual(
      leader.rules,
      fromChart("Role", "aws-load-balancer-controller-leader-election-role").rules,
    );
    const binding = await get(
      "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/aws-load-balancer-controller-rolebinding",
    );
    assert.deepEqual(binding.subjects, [
      { kind: "ServiceAccount", name: "aws-load-balancer-controller", namespace: "kube-system" },
    ]);

    const deployment = await get(
      "/apis/apps/v1/namespaces/kube-system/deployments/aws-load-balancer-controller",
    );
    const args: string[] = deployment.spec.template.spec.containers[0].args;
    assert.ok(args.includes(`--aws-vpc-id=${VPC}`), args.join(" "));
    assert.ok(args.includes(`--cluster-name=${platform.metadata.name}`));
    assert.ok(args.includes(`--aws-region=${platform.spec.aws.region}`));
    const sa = await get("/api/v1/namespaces/kube-system/serviceaccounts/aws-load-balancer-controller");
    assert.match(
      sa.metadata.annotations["eks.amazonaws.com/role-arn"],
      /role\/web-aws-load-balancer-controller$/,
    );

    // A second apply keeps the certificate the cluster holds (the chart's keepTLSSecret).
    const second = await applyObjects(objects, { client, applySetName: "alb-test", wait: false, vpcId: VPC });
    assert.equal(second.summary.created, 0);
    const again = await get("/api/v1/namespaces/kube-system/secrets/aws-load-balancer-tls");
    assert.equal(again.data["ca.crt"], secret.data["ca.crt"]);
    assert.equal(again.data["tls.key"], secret.data["tls.key"]);
  });
});
