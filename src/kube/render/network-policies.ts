/**
 * A tenant's NetworkPolicies: deny everything in and out, then allow DNS to CoreDNS, traffic
 * within the tenant, the shared ALB to routed service ports (target type ip: the ALB's nodes sit
 * in the public subnets), the database port to the database subnets only for workloads that use
 * it, and HTTPS to the AWS APIs for workloads with AWS access or the database (they read its
 * secret from Secrets Manager with their IRSA role, which needs STS).
 *
 * The HTTPS allow is to public addresses only: every private, shared and link-local range is cut
 * out (RFC 1918, RFC 6598, RFC 3927; that holds the VPC with its nodes and pods, the cluster API's
 * private endpoint ENIs and other tenants' pods), and the Service range too. The AWS APIs are
 * reached through the NAT gateways at public addresses. (A public-only API endpoint has public
 * addresses NetworkPolicy cannot tell apart from AWS's: keep the endpoint private, the default.)
 */
import { baseLabels, WORKLOAD_LABEL } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import { parseCidr } from "../../spec/cidr.js";
import { subnetPlan } from "../../spec/network.js";
import type { Platform, Tenant } from "../../spec/schema.js";

/** Aurora PostgreSQL's port. */
export const DATABASE_PORT = 5432;

/** Address ranges that are never the AWS public APIs: private (RFC 1918), shared (RFC 6598), link-local. */
export const NON_PUBLIC_RANGES = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.168.0.0/16",
] as const;

/** The EKS Pod Identity Agent's link-local address and port on every node (Pod Identity only). */
export const POD_IDENTITY_AGENT = { cidr: "169.254.170.23/32", port: 80 } as const;

/** What HTTPS egress to the AWS APIs excludes: non-public ranges, the VPC and the Service range. */
export function awsApiExcept(platform: Platform): string[] {
  const { vpcCidr, serviceCidr } = platform.spec.network;
  return [...new Set([...NON_PUBLIC_RANGES, vpcCidr, serviceCidr])].filter(
    (c, _, all) => !all.some((o) => o !== c && contains(o, c)),
  );
}

function contains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || o.prefix > i.prefix) return false;
  const size = 2 ** (32 - o.prefix);
  return Math.floor(i.base / size) === Math.floor(o.base / size);
}

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
            to: plan.database.map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ protocol: "TCP", port: DATABASE_PORT }],
          },
        ],
      }),
    );
  }
  // The database's credentials are in Secrets Manager, read with the workload's own role.
  const aws = workloads.filter((w) => w.aws || w.database);
  if (aws.length > 0) {
    out.push(
      policy("allow-aws-apis", {
        podSelector: selectWorkloads(aws.map((w) => w.name)),
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: "0.0.0.0/0", except: awsApiExcept(platform) } }],
            ports: [{ protocol: "TCP", port: 443 }],
          },
        ],
      }),
    );
  }
  const podIdentity = aws.filter((w) => w.aws?.podIdentity).map((w) => w.name);
  if (podIdentity.length > 0) {
    // Pod Identity hands out credentials from a node-local agent, not STS.
    out.push(
      policy("allow-pod-identity-agent", {
        podSelector: selectWorkloads(podIdentity),
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ipBlock: { cidr: POD_IDENTITY_AGENT.cidr } }],
            ports: [{ protocol: "TCP", port: POD_IDENTITY_AGENT.port }],
          },
        ],
      }),
    );
  }
  return out;
}
