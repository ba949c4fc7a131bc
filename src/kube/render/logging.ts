/**
 * Container logs to CloudWatch Logs, one log group per tenant (`tenantLogGroupName`, created by
 * the AWS plane): Fluent Bit as a DaemonSet on EC2 nodes, and on Fargate the built-in log router
 * configured through `aws-observability/aws-logging`
 * (docs.aws.amazon.com/eks/latest/userguide/fargate-logging.html).
 *
 * On EC2 there is ONE output for every tenant: the kubernetes filter adds the namespace's labels
 * (`Namespace_Labels`, Fluent Bit 3.0+), and `log_group_template` names the group from the
 * tenant label tenkai puts on tenant namespaces only (tenants cannot edit their namespace). A
 * record whose template does not resolve (no such label: kube-system, tenkai-system and every
 * other platform namespace) goes to `log_group_name`, the platform log group (cloudwatch_logs
 * output docs: "log_group_name ... used as a fallback if the template fails"). So the
 * configuration does not grow with tenants: 1,000 tenants and one tenant render the same file.
 */
import { logGroupNames, platformRoleArn } from "../../shared/aws-names.js";
import { baseLabels, SYSTEM_NAMESPACE, TENANT_LABEL, tenantLogGroupName } from "../../shared/kube-names.js";
import type { KubeObject } from "../../shared/planes.js";
import type { Platform } from "../../spec/schema.js";

/**
 * aws-for-fluent-bit, pinned: 3.4.16 (Fluent Bit 4.x on Amazon Linux 2023; the 2.x line, still
 * Fluent Bit 1.9, reached end of life on 2026-06-30 and has no namespace labels). Release list:
 * github.com/aws/aws-for-fluent-bit/releases (v3.4.16, the newest 3.x in September 2026).
 */
export const FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:3.4.16";
const FLUENT_BIT = "fluent-bit";

/** IAM role the Fluent Bit ServiceAccount assumes (IRSA); the AWS plane grants it logs:PutLogEvents. */
export function fluentBitRoleArn(platform: Platform): string {
  return platformRoleArn(platform, "fluentBit");
}

export function usesFargate(platform: Platform): boolean {
  return platform.spec.fargate.profiles.length > 0;
}

const KUBE_FILTER = `[FILTER]
    Name                kubernetes
    Match               kube.*
    Merge_Log           On
    Keep_Log            Off
    Buffer_Size         0
    Kube_Meta_Cache_TTL 300s
`;

export function fargateLogging(platform: Platform): KubeObject[] {
  if (!usesFargate(platform)) return [];
  const fallback = logGroupNames.platform(platform);
  const template = tenantLogGroupName(platform, "$kubernetes['namespace_name']");
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "aws-observability",
        labels: { ...baseLabels(platform), "aws-observability": "enabled" },
      },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "aws-logging", namespace: "aws-observability", labels: baseLabels(platform) },
      data: {
        flb_log_cw: "false",
        "filters.conf": KUBE_FILTER,
        "output.conf": `[OUTPUT]
    Name                cloudwatch_logs
    Match               kube.*
    region              ${platform.spec.aws.region}
    log_group_name      ${fallback}
    log_group_template  ${template}
    log_stream_prefix   fargate-
    log_stream_template $kubernetes['pod_name'].$kubernetes['container_name']
    auto_create_group   false
`,
      },
    },
  ];
}

/** fluent-bit.conf for EC2 nodes: tail container logs, add pod and namespace metadata, one output. */
export function fluentBitConfig(platform: Platform): string {
  const template = tenantLogGroupName(platform, `$kubernetes_namespace['labels']['${TENANT_LABEL}']`);
  return `[SERVICE]
    Flush         5
    Log_Level     info
    Parsers_File  /fluent-bit/parsers/parsers.conf
    HTTP_Server   On
    HTTP_Port     2020

[INPUT]
    Name              tail
    Tag               kube.*
    Path              /var/log/containers/*.log
    multiline.parser  cri, docker
    DB                /var/fluent-bit/state/flb_container.db
    Mem_Buf_Limit     50MB
    Skip_Long_Lines   On
    Refresh_Interval  10

${KUBE_FILTER}    Namespace_Labels    On

[OUTPUT]
    Name                cloudwatch_logs
    Match               kube.*
    region              ${platform.spec.aws.region}
    log_group_name      ${logGroupNames.platform(platform)}
    log_group_template  ${template}
    log_stream_template $kubernetes['pod_name'].$kubernetes['container_name']
    log_stream_prefix   ec2-
    auto_create_group   false
`;
}

export function fluentBit(platform: Platform): KubeObject[] {
  const labels = { ...baseLabels(platform), "app.kubernetes.io/name": FLUENT_BIT };
  const meta = { name: FLUENT_BIT, namespace: SYSTEM_NAMESPACE, labels };
  return [
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { ...meta, annotations: { "eks.amazonaws.com/role-arn": fluentBitRoleArn(platform) } },
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "tenkai:fluent-bit", labels },
      rules: [{ apiGroups: [""], resources: ["namespaces", "pods"], verbs: ["get", "list", "watch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "tenkai:fluent-bit", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "tenkai:fluent-bit" },
      subjects: [{ kind: "ServiceAccount", name: FLUENT_BIT, namespace: SYSTEM_NAMESPACE }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta,
      data: { "fluent-bit.conf": fluentBitConfig(platform) },
    },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta,
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": FLUENT_BIT } },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": FLUENT_BIT } },
          spec: {
            serviceAccountName: FLUENT_BIT,
            priorityClassName: "system-node-critical",
            tolerations: [{ operator: "Exists" }],
            // Fargate nodes run their own log router.
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: "eks.amazonaws.com/compute-type", operator: "NotIn", values: ["fargate"] },
                      ],
                    },
                  ],
                },
              },
            },
            containers: [
              {
                name: FLUENT_BIT,
                image: FLUENT_BIT_IMAGE,
                command: ["/fluent-bit/bin/fluent-bit", "-c", "/fluent-bit/etc/tenkai/fluent-bit.conf"],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                volumeMounts: [
                  { name: "config", mountPath: "/fluent-bit/etc/tenkai", readOnly: true },
                  { name: "varlog", mountPath: "/var/log", readOnly: true },
                  { name: "state", mountPath: "/var/fluent-bit/state" },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: FLUENT_BIT } },
              { name: "varlog", hostPath: { path: "/var/log" } },
              { name: "state", hostPath: { path: "/var/fluent-bit/state", type: "DirectoryOrCreate" } },
            ],
          },
        },
      },
    },
  ];
}
