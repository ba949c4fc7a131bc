/**
 * Before the admission probes that rely on a quota's count (a tenant's second Ingress for its own
 * route), the quota must count what exists. Quota admission enforces `status.hard` against
 * `status.used`, both written by the resource quota controller: right after an apply, or while the
 * controller-manager is behind, `status` may not carry the Ingress limit yet or may count fewer
 * Ingresses than exist (used 0 of 1). A dry-run create is then admitted, and would read as a breach
 * that is the controller's lag, not the tenant's guard.
 */
import type { KubeClient } from "../kube/api/client.js";
import { isKubeApiError } from "../kube/api/client.js";
import { type Clock, systemClock } from "../shared/clock.js";

const INGRESS_COUNT = "count/ingresses.networking.k8s.io";

/** What a tenant's `tenkai-quota` says about Ingresses, beside the Ingresses that exist. */
export interface IngressQuotaState {
  readonly namespace: string;
  /** The limit written in the quota (undefined: no quota or no Ingress limit). */
  readonly specHard?: number;
  /** The limit the controller has taken up, which admission enforces. */
  readonly statusHard?: number;
  /** The Ingresses the controller has counted. */
  readonly used?: number;
  /** The Ingresses listed in the namespace. */
  readonly existing: number;
}

/** The quota counts what exists: admission can enforce the limit as written. */
export function quotaCounted(s: IngressQuotaState): boolean {
  if (s.specHard === undefined) return true; // no limit to enforce: the guard check reports a missing quota
  return s.statusHard === s.specHard && s.used === s.existing;
}

export function describeQuotaState(s: IngressQuotaState): string {
  if (s.specHard === undefined) return `namespace ${s.namespace} has no Ingress limit in tenkai-quota`;
  const taken =
    s.statusHard === undefined ? "not yet taken up by the controller" : `enforced ${s.statusHard}`;
  const used = s.used === undefined ? "none counted" : `${s.used} counted`;
  return `tenkai-quota in ${s.namespace}: Ingress limit ${s.specHard} (${taken}), ${used}, ${s.existing} exist`;
}

export async function ingressQuotaState(client: KubeClient, ns: string): Promise<IngressQuotaState> {
  let quota: {
    spec?: { hard?: Record<string, string> };
    status?: { hard?: Record<string, string>; used?: Record<string, string> };
  };
  try {
    quota = (
      await client.request<typeof quota>({
        method: "GET",
        path: `/api/v1/namespaces/${ns}/resourcequotas/tenkai-quota`,
      })
    ).body;
  } catch (err) {
    if (isKubeApiError(err, 404)) return { namespace: ns, existing: 0 };
    throw err;
  }
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const list = await client.request<{ items: unknown[] }>({
    method: "GET",
    path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
  });
  const specHard = num(quota.spec?.hard?.[INGRESS_COUNT]);
  const statusHard = num(quota.status?.hard?.[INGRESS_COUNT]);
  const used = num(quota.status?.used?.[INGRESS_COUNT]);
  return {
    namespace: ns,
    ...(specHard === undefined ? {} : { specHard }),
    ...(statusHard === undefined ? {} : { statusHard }),
    ...(used === undefined ? {} : { used }),
    existing: list.body.items.length,
  };
}

/**
 * Waits, bounded, until each namespace's quota counts its Ingresses (see `quotaCounted`); returns
 * the state of those that never caught up.
 */
export async function waitQuotasCounted(
  client: KubeClient,
  namespaces: readonly string[],
  options: { readonly clock?: Clock; readonly timeoutMs?: number } = {},
): Promise<IngressQuotaState[]> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + (options.timeoutMs ?? 60_000);
  let waiting = [...namespaces];
  for (;;) {
    const states = await Promise.all(waiting.map((ns) => ingressQuotaState(client, ns)));
    const behind = states.filter((s) => !quotaCounted(s));
    if (behind.length === 0 || clock.now() > deadline) return behind;
    waiting = behind.map((s) => s.namespace);
    await clock.sleep(500);
  }
}
