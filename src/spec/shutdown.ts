/**
 * How a service's pods stop without dropping a request through the ALB (target type ip), with
 * the defaults resolved in one place.
 *
 * When a pod starts terminating, the AWS Load Balancer Controller deregisters its IP and the
 * target group drains it for the deregistration delay: the ALB sends no new requests after the
 * deregistration propagates, and lets in-flight ones finish until the delay ends. The container
 * must keep serving all that time, so its preStop sleep outlasts the delay, and the grace period
 * outlasts the preStop sleep plus the application's own shutdown (SIGTERM to exit).
 * (AWS Load Balancer Controller docs, "Pod readiness gate" and "deregistration delay"; EKS best
 * practices guide, "Load balancing: graceful shutdown".)
 */
import type { Platform, Service } from "./schema.js";

/** Seconds the preStop sleep outlasts the deregistration delay by default. */
export const PRE_STOP_MARGIN_SECONDS = 5;
/** Seconds the grace period leaves the application after the preStop sleep by default. */
export const SHUTDOWN_SECONDS = 15;

export interface ShutdownTiming {
  readonly deregistrationDelaySeconds: number;
  readonly preStopSeconds: number;
  readonly gracePeriodSeconds: number;
}

export function shutdownTiming(platform: Platform, service: Service): ShutdownTiming {
  const deregistrationDelaySeconds = platform.spec.ingress.deregistrationDelaySeconds;
  const preStopSeconds =
    service.shutdown?.preStopSeconds ?? deregistrationDelaySeconds + PRE_STOP_MARGIN_SECONDS;
  const gracePeriodSeconds = service.shutdown?.gracePeriodSeconds ?? preStopSeconds + SHUTDOWN_SECONDS;
  return { deregistrationDelaySeconds, preStopSeconds, gracePeriodSeconds };
}
