/**
 * The contract of a load balancer's view of pods, for the rotation's last check before it deletes
 * the old slot: are the pods that moved healthy targets in their new place? On EKS the answer is
 * elbv2 DescribeTargetHealth over the AWS Load Balancer Controller's TargetGroupBindings
 * (`eks/target-health.ts`); locally there is no load balancer, and the readiness gates the
 * controller injects are the whole check (src/rotation/targets.ts).
 */

/** A pod the rotation moved, as the load balancer sees it: by IP. */
export interface TargetPod {
  /** `namespace/name`. */
  readonly pod: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A pod that is not a healthy target yet, with the load balancer's own words. */
export interface UnhealthyTarget {
  readonly pod: string;
  readonly ip: string;
  readonly targetGroupArn: string;
  /** elbv2 TargetHealth.State (`initial`, `unhealthy`, `draining`, ...), or `unregistered`. */
  readonly state: string;
  readonly reason?: string | undefined;
}

export interface TargetHealthSource {
  /** `elbv2` on EKS. */
  readonly name: string;
  /**
   * Of `pods`, those that a target group serves (through a Service the load balancer targets) and
   * that are not `healthy` there; pods no target group serves are not reported.
   * @throws Error when the load balancer or the cluster cannot be read (the rotation waits it
   *   out as a transient failure until its deadline, then stops with ROTATION_TARGETS_UNHEALTHY).
   */
  unhealthy(pods: readonly TargetPod[]): Promise<readonly UnhealthyTarget[]>;
}
