import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { KubeObject } from "../../shared/planes.js";
import { addonTable } from "../../spec/addons.js";
import { planAlbGroups } from "../../spec/alb-groups.js";
import { definePlatform } from "../../spec/define.js";
import { loadPlatform } from "../../spec/load.js";
import { SpecError } from "../../spec/problems.js";
import { type PlatformInput, PlatformSchema } from "../../spec/schema.js";
import { albController, LATE_VPC_ID } from "./alb-controller.js";
import { networkPolicies, POD_IDENTITY_AGENT } from "./network-policies.js";
import { allObjects, renderKubernetesPlane } from "./render.js";

const example = await loadPlatform(new URL("../../../examples/platform.yaml", import.meta.url).pathname, {
  now: new Date("2026-01-01"),
});
const plane = renderKubernetesPlane(example);
const find = (objects: readonly KubeObject[], kind: string, name: string, namespace?: string) => {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      x.metadata.name === name &&
      (namespace === undefined || x.metadata.namespace === namespace),
  );
  assert.ok(o, `${kind} ${namespace ? `${namespace}/` : ""}${name} rendered`);
  // biome-ignore lint/suspicious/noExplicitAny: the test reads deep fields of rendered objects
  return o as KubeObject & Record<string, any>;
};
const tenant = (name: string) => plane.tenants.find((t) => t.tenant === name)!.objects;

describe("renderKubernetesPlane", () => {
  it("is deterministic", () => {
    assert.deepEqual(renderKubernetesPlane(example), plane);
  });

  it("pins Pod Security restricted for enforce, audit and warn on each tenant namespace", () => {
    const ns = find(tenant("shop"), "Namespace", "shop");
    for (const mode of ["enforce", "audit", "warn"]) {
      assert.equal(ns.metadata.labels?.[`pod-security.kubernetes.io/${mode}`], "restricted");
      assert.equal(ns.metadata.labels?.[`pod-security.kubernetes.io/${mode}-version`], "latest");
    }
  });

  it("renders quota, default-deny and the allow policies the tenant needs", () => {
    const shop = tenant("shop");
    assert.equal(find(shop, "ResourceQuota", "tenkai-quota").spec.hard["requests.cpu"], "12");
    assert.deepEqual(find(shop, "NetworkPolicy", "default-deny").spec.policyTypes, ["Ingress", "Egress"]);
    const alb = find(shop, "NetworkPolicy", "allow-from-alb").spec;
    assert.deepEqual(
      alb.ingress[0].from.map((f: { ipBlock: { cidr: string } }) => f.ipBlock.cidr),
      ["10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21"],
    );
    assert.deepEqual(alb.ingress[0].ports, [
      { protocol: "TCP", port: 3000 },
      { protocol: "TCP", port: 8080 },
    ]);
    const db = find(shop, "NetworkPolicy", "allow-database").spec;
    assert.equal(db.egress[0].ports[0].port, 5432);
    assert.deepEqual(db.podSelector.matchExpressions[0].values, [
      "catalog-api",
      "cart-api",
      "nightly-report",
    ]);
    assert.equal(find(shop, "ServiceAccount", "default").automountServiceAccountToken, false);
  });

  it("narrows egress: database port to the database subnets, HTTPS to public addresses for AWS and database users", () => {
    const shop = tenant("shop");
    const db = find(shop, "NetworkPolicy", "allow-database").spec;
    assert.deepEqual(
      db.egress[0].to.map((t: { ipBlock: { cidr: string } }) => t.ipBlock.cidr),
      ["10.0.216.0/21", "10.0.224.0/21", "10.0.232.0/21"],
    );
    const aws = find(shop, "NetworkPolicy", "allow-aws-apis").spec;
    assert.deepEqual(aws.podSelector.matchExpressions[0].values, [
      "catalog-api",
      "cart-api",
      "nightly-report",
    ]);
    assert.deepEqual(aws.egress[0].to, [
      {
        ipBlock: {
          cidr: "0.0.0.0/0",
          except: ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"],
        },
      },
    ]);
    assert.deepEqual(aws.egress[0].ports, [{ protocol: "TCP", port: 443 }]);
  });

  it("lets Pod Identity workloads reach the node-local agent, and fences no platform component", () => {
    const shop = example.spec.tenants.find((t) => t.name === "shop");
    assert.ok(shop);
    const withAgent = {
      ...shop,
      services: shop.services.map((s) =>
        s.name === "catalog-api" && s.aws ? { ...s, aws: { ...s.aws, podIdentity: true } } : s,
      ),
    };
    const agent = find(networkPolicies(example, withAgent), "NetworkPolicy", "allow-pod-identity-agent").spec;
    assert.deepEqual(agent.podSelector.matchExpressions[0].values, ["catalog-api"]);
    assert.deepEqual(agent.egress, [
      { to: [{ ipBlock: { cidr: "169.254.170.23/32" } }], ports: [{ protocol: "TCP", port: 80 }] },
    ]);
    assert.equal(POD_IDENTITY_AGENT.cidr, "169.254.170.23/32");
    // The controller, Cluster Autoscaler, Fluent Bit and CoreDNS reach the AWS APIs and the cluster
    // API unhindered: NetworkPolicies are only ever in tenant namespaces.
    const tenants = new Set(example.spec.tenants.map((t) => t.name));
    const fenced = allObjects(plane)
      .filter((o) => o.kind === "NetworkPolicy" && !tenants.has(o.metadata.namespace ?? ""))
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.deepEqual(fenced, []);
  });

  it("quotas object counts from the spec, one Ingress per route, local disk, and no system priority", () => {
    const shop = tenant("shop");
    const hard = find(shop, "ResourceQuota", "tenkai-quota").spec.hard;
    assert.equal(hard["count/ingresses.networking.k8s.io"], "3");
    assert.equal(hard["count/services"], "8");
    assert.equal(hard["count/configmaps"], "20");
    assert.equal(hard["requests.ephemeral-storage"], "20Gi");
    const prio = find(shop, "ResourceQuota", "tenkai-system-priority").spec;
    assert.deepEqual(prio.hard, { pods: "0" });
    assert.deepEqual(prio.scopeSelector.matchExpressions[0].values, [
      "system-node-critical",
      "system-cluster-critical",
    ]);
    const limits = find(shop, "LimitRange", "tenkai-limits").spec.limits[0];
    assert.equal(limits.max["ephemeral-storage"], "20Gi");
    assert.equal(limits.default["ephemeral-storage"], "1Gi");
    const d = find(shop, "Deployment", "catalog-api", "shop");
    assert.equal(d.spec.template.spec.priorityClassName, "tenkai-tenant");
    assert.equal(find(plane.platform, "PriorityClass", "tenkai-tenant").preemptionPolicy, "Never");
    for (const name of [
      "tenkai-pods",
      "tenkai-services",
      "tenkai-budgets",
      "tenkai-service-accounts",
      "tenkai-secrets",
    ])
      find(plane.platform, "ValidatingAdmissionPolicyBinding", name);
    const fargate = find(tenant("orders"), "ConfigMap", "tenkai-fargate-orders", "tenkai-system");
    assert.equal(fargate.data.workloads, "invoice-batch");
  });

  it("never lets a tenant role write guard objects", () => {
    const guards = new Set([
      "namespaces",
      "resourcequotas",
      "limitranges",
      "networkpolicies",
      "roles",
      "rolebindings",
    ]);
    for (const role of tenant("users").filter((o) => o.kind === "Role")) {
      for (const rule of (role as unknown as { rules: { verbs: string[]; resources: string[] }[] }).rules) {
        const writes = rule.verbs.some((v: string) => !["get", "list", "watch"].includes(v));
        if (writes)
          for (const r of rule.resources) assert.ok(!guards.has(r), `${role.metadata.name} writes ${r}`);
      }
    }
    const binding = find(tenant("users"), "RoleBinding", "tenkai:admin");
    assert.equal(binding.subjects[0].name, "tenkai:users:admin");
  });

  it("renders a restricted-compliant Deployment from the tenant's registry, spread over zones", () => {
    const d = find(tenant("shop"), "Deployment", "catalog-api", "shop");
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    assert.equal(c.image, "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/web/shop/catalog-api:3.2.0");
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    assert.equal(c.readinessProbe.httpGet.path, "/healthz");
    assert.equal(pod.topologySpreadConstraints[0].nodeTaintsPolicy, "Honor");
    assert.equal(d.spec.replicas, undefined, "the HPA owns replicas");
    assert.equal(find(tenant("shop"), "HorizontalPodAutoscaler", "catalog-api").spec.minReplicas, 3);
    const sa = find(tenant("shop"), "ServiceAccount", "catalog-api");
    assert.equal(
      sa.metadata.annotations?.["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/web-shop-catalog-api",
    );
    // The database alone earns a role too (to read the tenant's secret); no AWS use, no role.
    assert.equal(
      find(tenant("shop"), "ServiceAccount", "cart-api").metadata.annotations?.["eks.amazonaws.com/role-arn"],
      "arn:aws:iam::123456789012:role/web-shop-cart-api",
    );
    assert.equal(find(tenant("shop"), "ServiceAccount", "storefront").metadata.annotations, undefined);
    assert.ok(
      c.env.some(
        (e: { name: string; value: string }) =>
          e.name === "DATABASE_SECRET_NAME" && e.value === "tenkai/web/shop/database",
      ),
    );
  });

  it("labels Fargate-bound cron job pods for their profile and configures the Fargate log router", () => {
    const cj = find(tenant("orders"), "CronJob", "invoice-batch");
    assert.equal(cj.spec.jobTemplate.spec.template.metadata.labels["tenkai.dev/compute"], "fargate");
    assert.equal(cj.spec.concurrencyPolicy, "Forbid");
    const cm = find(plane.platform, "ConfigMap", "aws-logging", "aws-observability");
    assert.match(
      cm.data["output.conf"],
      /log_group_template\s+\/tenkai\/web\/\$kubernetes\['namespace_name'\]/,
    );
    const fb = find(plane.platform, "ConfigMap", "fluent-bit", "tenkai-system");
    assert.match(
      fb.data["fluent-bit.conf"],
      /log_group_name\s+\/tenkai\/web\/_platform\n\s+log_group_template\s+\/tenkai\/web\/\$kubernetes_namespace\['labels'\]\['tenkai\.dev\/tenant'\]/,
    );
  });

  it("pins each tenant's IngressClass to the group and its namespace, and routes host+path", () => {
    const params = find(tenant("users"), "IngressClassParams", "tenkai-users");
    assert.deepEqual(params.spec.group, { name: "tenkai" });
    assert.deepEqual(params.spec.loadBalancerAttributes, [
      { key: "access_logs.s3.enabled", value: "true" },
      { key: "access_logs.s3.bucket", value: "web-alb-logs-123456789012-ap-northeast-1" },
      { key: "access_logs.s3.prefix", value: "alb" },
    ]);
    assert.deepEqual(params.spec.namespaceSelector.matchLabels, { "kubernetes.io/metadata.name": "users" });
    assert.equal(
      find(tenant("users"), "IngressClass", "tenkai-users").spec.controller,
      "ingress.k8s.aws/alb",
    );
    const ing = find(tenant("users"), "Ingress", "users-api");
    assert.deepEqual(ing.spec.rules[0].http.paths[0].path, "/users");
    assert.equal(ing.metadata.annotations?.["alb.ingress.kubernetes.io/target-type"], "ip");
    // The route table the admission policy checks every tenant's Ingresses against.
    assert.deepEqual(find(plane.platform, "ConfigMap", "tenkai-routes", "tenkai-system").data, {
      "api.example.com": "/auth=users /cart=shop /catalog=shop /orders=orders /users=users",
      "www.example.com": "/=shop",
    });
  });

  it("includes the pinned ALB controller manifest set with its CRDs", () => {
    find(plane.platform, "CustomResourceDefinition", "ingressclassparams.elbv2.k8s.aws");
    const d = find(plane.platform, "Deployment", "aws-load-balancer-controller", "kube-system");
    assert.ok(d.spec.template.spec.containers[0].args.includes("--cluster-name=web"));
  });

  it("gives every object a unique identity", () => {
    const ids = allObjects(plane).map(
      (o) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`,
    );
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe("planAlbGroups", () => {
  const platformWith = (tenants: { name: string; hosts: string[] }[], maxRulesPerAlb: number, check = true) =>
    (check ? definePlatform : (input: PlatformInput) => PlatformSchema.parse(input))(
      {
        apiVersion: "tenkai.dev/v1alpha1",
        kind: "Platform",
        metadata: { name: "p" },
        spec: {
          aws: { account: "123456789012", region: "us-east-1" },
          cluster: { version: "1.35", creatorAdmin: true },
          nodeGroups: [{ name: "g", instanceTypes: ["m6i.large"], min: 1, max: 3 }],
          ingress: { maxRulesPerAlb },
          tenants: tenants.map((t) => ({
            name: t.name,
            quota: { cpu: "100", memory: "100Gi", pods: 1000 },
            services: t.hosts.map((h, i) => ({
              name: `s${i}`,
              image: "x",
              tag: "1",
              port: 80,
              route: { host: h, path: `/${t.name}${i}` },
            })),
          })),
        },
      },
      { now: new Date("2026-01-01") },
    );

  it("splits tenants over ALBs before the rule limit, keeping a shared host on one ALB", () => {
    const p = platformWith(
      [
        { name: "a", hosts: ["x.example.com", "x.example.com"] },
        { name: "b", hosts: ["y.example.com", "y.example.com"] },
        { name: "c", hosts: ["x.example.com"] },
        { name: "d", hosts: ["z.example.com"] },
      ],
      3,
    );
    const plan = planAlbGroups(p);
    assert.deepEqual(
      plan.groups.map((g) => [g.name, g.tenants, g.rules]),
      [
        ["tenkai", ["a", "c"], 3],
        ["tenkai-2", ["b", "d"], 3],
      ],
    );
    assert.equal(plan.problems.length, 0);
  });

  it("reports a host whose rules alone exceed one ALB, and validate refuses it before plan", () => {
    const tenants = [{ name: "a", hosts: ["x.example.com", "x.example.com", "x.example.com"] }];
    const plan = planAlbGroups(platformWith(tenants, 2, false));
    assert.equal(plan.problems[0]?.code, "KUBE_ALB_HOST_OVER_LIMIT");
    assert.throws(
      () => platformWith(tenants, 2),
      (e) => e instanceof SpecError && e.problems.some((p) => p.code === "SPEC_HOST_OVER_ALB_LIMIT"),
    );
  });
});

describe("AWS Load Balancer Controller", () => {
  const deploymentArgs = (objects: readonly KubeObject[]) =>
    (
      objects.find((o) => o.kind === "Deployment" && o.metadata.name === "aws-load-balancer-controller") as
        | { spec: { template: { spec: { containers: { args: string[] }[] } } } }
        | undefined
    )?.spec.template.spec.containers[0]?.args ?? [];

  it("is the chart render with tenkai's values: cluster, region and the AWS plane's VPC id (IMDS is out of reach at hop limit 1)", () => {
    const args = deploymentArgs(albController(example, { vpcId: "vpc-0abc" }));
    assert.ok(args.includes("--aws-vpc-id=vpc-0abc"), args.join(" "));
    assert.ok(args.includes("--cluster-name=web"), args.join(" "));
    assert.ok(args.includes("--aws-region=ap-northeast-1"), args.join(" "));
    assert.ok(!args.some((a) => a.startsWith("--aws-vpc-tags")), "no tag lookup");
    // Without the VPC id, the render leaves it for apply to fill (never a guess).
    assert.ok(
      deploymentArgs(renderKubernetesPlane(example).platform).includes(`--aws-vpc-id=${LATE_VPC_ID}`),
    );
  });

  it("renders only the controller's CRDs on the local target, where no AWS is behind the cluster", () => {
    const local = albController({ ...example, spec: { ...example.spec, target: "local" } });
    assert.ok(local.length > 0);
    assert.deepEqual([...new Set(local.map((o) => o.kind))], ["CustomResourceDefinition"]);
  });

  it("adds Cluster Autoscaler from its chart on target aws, discovering this cluster's node groups", () => {
    const ca = renderKubernetesPlane(example).platform.filter(
      (o) => o.metadata.name === "cluster-autoscaler",
    );
    const deploy = ca.find((o) => o.kind === "Deployment") as
      | { spec: { template: { spec: { containers: { image: string; command: string[] }[] } } } }
      | undefined;
    const c = deploy?.spec.template.spec.containers[0];
    assert.equal(
      c?.image,
      `registry.k8s.io/autoscaling/cluster-autoscaler:v${example.spec.cluster.version}.0`,
    );
    assert.ok(
      c?.command.includes(
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/web",
      ),
      c?.command.join(" "),
    );
  });
});

describe("the upstream chart renders", () => {
  const root = new URL("../../../", import.meta.url).pathname;
  for (const chart of ["aws-load-balancer-controller", "cluster-autoscaler"]) {
    it(`${chart}: the render is the one its provenance names (chart version, values, Helm), pinned by the add-on table`, () => {
      const dir = join(root, "data", "charts", chart);
      const p = JSON.parse(readFileSync(join(dir, "provenance.json"), "utf8")) as Record<string, string>;
      for (const key of ["repository", "tag", "commit", "chartVersion", "helm", "command"])
        assert.ok(p[key], `${chart}: provenance.json names its ${key}`);
      assert.match(p.commit ?? "", /^[0-9a-f]{40}$/);
      const values = readFileSync(join(root, p.values ?? ""), "utf8");
      const render = readFileSync(join(dir, "render.yaml"), "utf8");
      const sha = createHash("sha256").update(values).digest("hex");
      assert.ok(
        render.includes(`(sha256 ${sha})`),
        `${chart}: the render was made from values.yaml as committed`,
      );
      assert.ok(render.includes(`commit ${p.commit}`), `${chart}: the render names the commit`);
      assert.ok(render.includes(`helm: ${p.helm}`), `${chart}: the render names the Helm version`);
      assert.match(
        render,
        new RegExp(`helm\\.sh/chart: "?${chart}-${p.chartVersion?.replace(/\./g, "\\.")}"?\\n`),
      );
      const versions = Object.values(addonTable().addons[chart]?.versions ?? {});
      assert.ok(
        versions.length > 0 && versions.every((v) => v === p.chartVersion),
        `${chart}: the table pins ${p.chartVersion}`,
      );
      assert.ok(
        readFileSync(join(root, "scripts", "render-charts.sh"), "utf8").includes(`HELM_VERSION=${p.helm}`),
        "the re-render script builds the same Helm",
      );
    });
  }
});
