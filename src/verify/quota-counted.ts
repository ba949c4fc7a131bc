/**
 * Before the admission probes that rely on a quota's count (a tenant's second Ingress for its own
 * route), the quota must count what exists. Right after an apply the resource quota controller
 * may not have counted a namespace's Ingresses yet (used 0 of 1): a dry-run create is then
 * admitted and would read as a breach that is not one. Waits, bounded, until `status.used` of each
 * tenant's `tenkai-quota` equals the Ingresses listed; returns the namespaces that never caught up.
 */
import type { KubeClient } from "../kube/api/client.js";
import { isKubeApiError } from "../kube/api/client.js";
import { type Clock, systemClock } from "../shared/clock.js";

const INGRESS_COUNT = "count/ingresses.networking.k8s.io";

export async function waitQuotasCounted(
  client: KubeClient,
  namespaces: readonly string[],
  options: { readonly clock?: Clock; readonly timeoutMs?: number } = {},
): Promise<string[]> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + (options.timeoutMs ?? 60_000);
  const counted = async (ns: string): Promise<boolean> => {
    let quota: { status?: { hard?: Record<string, string>; used?: Record<string, string> } };
    try {
      quota = (
        await client.request<typeof quota>({
          method: "GET",
          path: `/api/v1/namespaces/${ns}/resourcequotas/tenkai-quota`,
        })
      ).body;
    } catch (err) {
      if (isKubeApiError(err, 404)) return true; // no quota: the guard check reports it
      throw err;
    }
    if (quota.status?.hard?.[INGRESS_COUNT] === undefined) return true;
    const used = quota.status.used?.[INGRESS_COUNT];
    if (used === undefined) return false;
    const list = await client.request<{ items: unknown[] }>({
      method: "GET",
      path: `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
    });
    return Number(used) === list.body.items.length;
  };
  let waiting = [...namespaces];
  for (;;) {
    const results = await Promise.all(waiting.map(async (ns) => [ns, await counted(ns)] as const));
    waiting = results.filter(([, ok]) => !ok).map(([ns]) => ns);
    if (waiting.length === 0 || clock.now() > deadline) return waiting;
    await clock.sleep(500);
  }
}
