/**
 * Ingress through one shared ALB per IngressGroup (AWS Load Balancer Controller). Each tenant has
 * its own IngressClass whose IngressClassParams pin the group name and the tenant's namespace:
 * the controller ignores group annotations when the params set a group, and refuses Ingresses of
 * the class from other namespaces. Admission policies (admission-policies.ts) enforce the rest.
 */

import { ALB_ACCESS_LOGS_PREFIX, albAccessLogsBucket } from "../../shared/aws-names.js";
import { baseLabels, ingressClassName, WORKLOAD_LABEL } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import { normalizePath } from "../../spec/checks.js";
import type { Platform, Service, Tenant } from "../../spec/schema.js";
import { shutdownTiming } from "../../spec/shutdown.js";

export const ALB_CONTROLLER = "ingress.k8s.aws/alb";
const ALB = "alb.ingress.kubernetes.io";

export function tenantIngressClass(platform: Platform, tenant: Tenant, groupName: string): KubeObject[] {
  const name = ingressClassName(tenant.name);
  const labels = baseLabels(platform, tenant.name);
  const ingress = platform.spec.ingress;
  return [
    {
      apiVersion: "elbv2.k8s.aws/v1beta1",
      kind: "IngressClassParams",
      metadata: { name, labels },
      spec: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": tenant.name } },
        group: { name: groupName },
        scheme: ingress.scheme,
        ...(ingress.certificateArn
          ? { certificateArn: [ingress.certificateArn], sslRedirectPort: "443" }
          : {}),
        // The shared ALB writes access logs to the AWS plane's bucket (stacks/alb-access-logs.ts).
        // Every tenant's params carry the same attributes: the controller merges the params of
        // one IngressGroup and refuses conflicting values.
        loadBalancerAttributes: [
          { key: "access_logs.s3.enabled", value: "true" },
          { key: "access_logs.s3.bucket", value: albAccessLogsBucket(platform) },
          { key: "access_logs.s3.prefix", value: ALB_ACCESS_LOGS_PREFIX },
        ],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name, labels },
      spec: {
        controller: ALB_CONTROLLER,
        parameters: { apiGroup: "elbv2.k8s.aws", kind: "IngressClassParams", name },
      },
    },
  ];
}

export function serviceIngress(platform: Platform, tenant: Tenant, s: Service): KubeObject | undefined {
  if (!s.route) return undefined;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: s.name,
      namespace: tenant.name,
      labels: { ...baseLabels(platform, tenant.name), [WORKLOAD_LABEL]: s.name },
      annotations: {
        [`${ALB}/target-type`]: "ip",
        [`${ALB}/healthcheck-path`]: s.healthPath,
        // Pods keep serving longer than this (spec/shutdown.ts), so draining loses no request.
        [`${ALB}/target-group-attributes`]: `deregistration_delay.timeout_seconds=${shutdownTiming(platform, s).deregistrationDelaySeconds}`,
        [`${ALB}/listen-ports`]: listenPorts(platform),
      },
    },
    spec: {
      ingressClassName: ingressClassName(tenant.name),
      rules: [
        {
          host: s.route.host,
          http: {
            paths: [
              {
                path: normalizePath(s.route.path),
                pathType: "Prefix",
                backend: { service: { name: s.name, port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  };
}

/**
 * Listeners of the shared ALB: with a certificate, HTTPS on 443 and HTTP on 80, which only
 * redirects to HTTPS (the IngressClassParams' sslRedirectPort); without one, HTTP on 80. Every
 * Ingress of the group carries the same value, as the controller requires of group-wide
 * annotations, and the admission policy admits no other.
 */
export function listenPorts(platform: Platform): string {
  return platform.spec.ingress.certificateArn ? '[{"HTTP":80},{"HTTPS":443}]' : '[{"HTTP":80}]';
}

/**
 * Every route on the shared ALBs and the tenant that owns it, as the admission params' data: one
 * key per host (a wildcard host's `*` written `_`, as ConfigMap keys allow), each value the host's
 * `path=tenant` pairs, space-separated and sorted. A tenant's Ingress is checked against the hosts
 * it names only, so a check reads one host's routes, never the whole table.
 */
export function routeTable(platform: Platform): Record<string, string> {
  const byHost = new Map<string, string[]>();
  for (const t of platform.spec.tenants)
    for (const s of t.services) {
      if (!s.route) continue;
      const key = routeTableKey(s.route.host);
      const entries = byHost.get(key) ?? [];
      entries.push(`${normalizePath(s.route.path)}=${t.name}`);
      byHost.set(key, entries);
    }
  const table: Record<string, string> = {};
  for (const key of [...byHost.keys()].sort()) table[key] = (byHost.get(key) ?? []).sort().join(" ");
  return table;
}

/** The route table's key of a host: ConfigMap keys take no `*`, and no host has a `_`. */
export function routeTableKey(host: string): string {
  return host.replace("*", "_");
}
