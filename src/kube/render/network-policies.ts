/**
 * A tenant's NetworkPolicies: deny everything in and out, then allow DNS to CoreDNS, traffic
 * within the tenant, the shared ALB to routed service ports (target type ip: the ALB's nodes sit
 * in the public subnets), the database port for workloads that use it, and HTTPS out for
 * workloads with AWS access (IRSA needs STS and the service endpoints).
 */

import { baseLabels, WORKLOAD_LABEL } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import { subnetPlan } from "../../spec/network.js";
import type { Platform, Tenant } from "../../spec/schema.js";

/** Aurora PostgreSQL's port. */
export const DATABASE_PORT = 5432;

export function networkPolicies(platform: Platform, tenant: Tenant): KubeObject[] {
  const labels = baseLabels(platform, tenant.name);
  const ns = tenant.name;
  const plan = subnetPlan(platform.spec.network);
  const policy = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: ns, labels },
    spec,
  });
  const selectWorkloads = (names: string[]) => ({
    matchExpressions: [{ key: WORKLOAD_LABEL, operator: "In", values: names }],
  });
  const out: KubeObject[] = [
    policy("default-deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
    policy("allow-dns", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    }),
    policy("allow-same-tenant", {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ podSelector: {} }] }],
      egress: [{ to: [{ podSelector: {} }] }],
    }),
  ];
  const routed = tenant.services.filter((s) => s.route);
  if (routed.length > 0) {
    const ports = [...new Set(routed.map((s) => s.port))].sort((a, b) => a - b);
    out.push(
      policy("allow-from-alb", {
        podSelector: selectWorkloads(routed.map((s) => s.name)),
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: plan.public.map((cidr) => ({ ipBlock: { cidr } })),
            ports: ports.map((port) => ({ protocol: "TCP", port })),
          },
        ],
      }),
    );
  }
  const workloads = [...tenant.services, ...tenant.cronJobs];
  const database = workloads.filter((w) => w.database).map((w) => w.name);
  if (database.length > 0) {
    out.push(
      policy("allow-database", {
        podSelector: selectWorkloads(database),
        policyTypes: ["Egress"],
        egress: [
          {
            to: plan.private.map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ protocol: "TCP", port: DATABASE_PORT }],
          },
        ],
      }),
    );
  }
  const aws = workloads.filter((w) => w.aws).map((w) => w.name);
  if (aws.length > 0) {
    out.push(
      policy("allow-aws-apis", {
        podSelector: selectWorkloads(aws),
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] }],
      }),
    );
  }
  return out;
}
