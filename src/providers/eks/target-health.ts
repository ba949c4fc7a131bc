/**
 * The load balancer's own view of moved pods on EKS: elbv2 DescribeTargetHealth over the target
 * groups the AWS Load Balancer Controller binds to Services (TargetGroupBinding,
 * `elbv2.k8s.aws/v1beta1`, `spec.targetGroupARN` and `spec.serviceRef`). A pod a bound Service
 * selects must be registered by its IP and `healthy` (elbv2 TargetHealth.State) in that group.
 * Only target type ip is checked: with type instance the targets are nodes, not pods.
 */
import {
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetHealthDescription,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { isNotFound } from "../../shared/kube-errors.js";
import type { TargetHealthSource, TargetPod, UnhealthyTarget } from "../target-health.js";

interface TargetGroupBinding {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: {
    readonly targetGroupARN?: string;
    readonly targetType?: string;
    readonly serviceRef?: { readonly name?: string };
  };
}

export interface Elbv2TargetHealthOptions {
  /** Injected, so tests mock it (aws-sdk-client-mock). */
  readonly client: ElasticLoadBalancingV2Client;
  /** The cluster whose TargetGroupBindings and Services name the target groups. */
  readonly kubeConfig: KubeConfig;
}

export class Elbv2TargetHealth implements TargetHealthSource {
  readonly name = "elbv2";
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(private readonly o: Elbv2TargetHealthOptions) {
    this.core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async unhealthy(pods: readonly TargetPod[]): Promise<readonly UnhealthyTarget[]> {
    const out: UnhealthyTarget[] = [];
    for (const namespace of [...new Set(pods.map((p) => p.namespace))]) {
      const inNamespace = pods.filter((p) => p.namespace === namespace);
      for (const tgb of await this.bindings(namespace)) {
        const arn = tgb.spec?.targetGroupARN;
        const service = tgb.spec?.serviceRef?.name;
        if (!arn || !service || (tgb.spec?.targetType ?? "ip") !== "ip") continue;
        const selector = await this.selectorOf(namespace, service);
        const served = inNamespace.filter(
          (p) =>
            Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
        );
        if (served.length === 0) continue;
        const health = await this.describe(arn);
        for (const p of served) {
          const mine = health.filter((d) => d.Target?.Id === p.ip);
          if (mine.length === 0) {
            out.push({ pod: p.pod, ip: p.ip, targetGroupArn: arn, state: "unregistered" });
            continue;
          }
          const bad = mine.find((d) => d.TargetHealth?.State !== "healthy");
          if (bad)
            out.push({
              pod: p.pod,
              ip: p.ip,
              targetGroupArn: arn,
              state: bad.TargetHealth?.State ?? "unknown",
              reason: bad.TargetHealth?.Reason,
            });
        }
      }
    }
    return out;
  }

  private async bindings(namespace: string): Promise<TargetGroupBinding[]> {
    try {
      const list = (await this.custom.listNamespacedCustomObject({
        group: "elbv2.k8s.aws",
        version: "v1beta1",
        namespace,
        plural: "targetgroupbindings",
      })) as { items?: TargetGroupBinding[] };
      return list.items ?? [];
    } catch (err) {
      // No controller CRDs in this cluster: no target group binds any pod.
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  private async selectorOf(namespace: string, name: string): Promise<Record<string, string>> {
    try {
      return (await this.core.readNamespacedService({ name, namespace })).spec?.selector ?? {};
    } catch (err) {
      if (isNotFound(err)) return {};
      throw err;
    }
  }

  private async describe(arn: string): Promise<TargetHealthDescription[]> {
    const out = await this.o.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    return out.TargetHealthDescriptions ?? [];
  }
}
