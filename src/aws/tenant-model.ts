/** Tenant-plane data shared by the placement plan and the tenant stacks (no CDK imports). */

/** One access entry: a principal and the Kubernetes groups it gets (merged across tenants). */
export interface TenantAccessEntry {
  readonly principalArn: string;
  readonly groups: readonly string[];
}

/** The saved Logs Insights queries each tenant gets (Fluent Bit writes JSON access logs). */
export const TENANT_QUERIES = [
  {
    name: "errors",
    query: [
      "fields @timestamp, kubernetes.pod_name, @message",
      "| filter @message like /(?i)(error|exception|panic)/ or status >= 500",
      "| sort @timestamp desc",
      "| limit 200",
    ].join("\n"),
  },
  {
    name: "slow-requests-by-path",
    query: [
      "fields @timestamp, path, duration_ms",
      "| filter ispresent(duration_ms) and duration_ms > 1000",
      "| stats count(*) as slow, avg(duration_ms) as avg_ms, pct(duration_ms, 95) as p95_ms by path",
      "| sort slow desc",
    ].join("\n"),
  },
] as const;
