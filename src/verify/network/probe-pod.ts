/**
 * The probe pod the network check starts in a tenant namespace that has no workload pod running
 * the probe image. It passes Pod Security `restricted` like every tenant pod, gets exactly the
 * tenant's namespace-wide NetworkPolicies (it carries no workload label), runs on a real node, and
 * is deleted when the check ends.
 */
import type { CoreV1Api, V1Pod, V1SecurityContext } from "@kubernetes/client-node";
import { containerSecurityContext, podSecurityContext } from "../../kube/render/pod-spec.js";
import { PROVIDER_LABEL } from "../../providers/node-placement.js";
import { TenkaiError } from "../../shared/errors.js";

export const PROBE_POD_NAME = "tenkai-network-probe";
export const PROBE_POD_LABEL = "tenkai.dev/probe";

export function probePod(namespace: string, image: string): V1Pod {
  return {
    metadata: { name: PROBE_POD_NAME, namespace, labels: { [PROBE_POD_LABEL]: "network" } },
    spec: {
      automountServiceAccountToken: false,
      nodeSelector: { [PROVIDER_LABEL]: "local" },
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      securityContext: podSecurityContext(),
      containers: [
        {
          name: "probe",
          image,
          imagePullPolicy: "IfNotPresent",
          args: ["sleep", "1h"],
          resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "32Mi" } },
          securityContext: containerSecurityContext() as V1SecurityContext,
        },
      ],
    },
  };
}

/** Creates the probe pod (replacing a leftover one) and waits until it runs. */
export async function createProbePod(
  core: CoreV1Api,
  o: { namespace: string; image: string; timeoutMs: number },
): Promise<V1Pod> {
  await deleteProbePod(core, o.namespace);
  try {
    await core.createNamespacedPod({ namespace: o.namespace, body: probePod(o.namespace, o.image) });
  } catch (err) {
    throw new TenkaiError(
      "VERIFY_PROBE_POD_FAILED",
      `creating the network probe pod in ${o.namespace}: ${(err as Error).message}`,
      "check the tenant's quota and admission policies admit the probe image (tenkai local up sets this up)",
      { cause: err },
    );
  }
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const p = await core.readNamespacedPod({ name: PROBE_POD_NAME, namespace: o.namespace });
    if (p.status?.phase === "Running" && p.status.podIP) return p;
    if (Date.now() > deadline || p.status?.phase === "Failed")
      throw new TenkaiError(
        "VERIFY_PROBE_POD_FAILED",
        `the network probe pod in ${o.namespace} did not run within ${o.timeoutMs / 1000} s (phase ${p.status?.phase})`,
        `kubectl describe pod -n ${o.namespace} ${PROBE_POD_NAME}`,
      );
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Deletes the probe pod now and waits until it is gone (a leftover one is fine to delete). */
export async function deleteProbePod(core: CoreV1Api, namespace: string): Promise<void> {
  try {
    await core.deleteNamespacedPod({ name: PROBE_POD_NAME, namespace, gracePeriodSeconds: 0 });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return;
    throw err;
  }
  for (let i = 0; i < 300; i++) {
    try {
      await core.readNamespacedPod({ name: PROBE_POD_NAME, namespace });
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
