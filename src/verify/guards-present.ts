/**
 * Guards no single dry-run can prove: the object counts and local disk in each tenant's quotas and
 * LimitRange (a count is only refused once it is used up). Each live object is read and compared
 * with what tenkai renders for the spec: every limit tenkai sets must be there, and no looser.
 */
import { isKubeApiError, type KubeClient } from "../kube/api/client.js";
import {
  limitRange,
  priorityQuota,
  resourceQuota,
  SYSTEM_PRIORITY_CLASSES,
} from "../kube/render/tenant-namespace.js";
import { parseQuantity } from "../spec/quantity.js";
import type { Platform, Tenant } from "../spec/schema.js";
import type { IsolationCheck } from "./checks.js";

type Limits = Record<string, string>;
interface LiveQuota {
  spec?: {
    hard?: Limits;
    scopeSelector?: { matchExpressions?: { scopeName: string; operator: string; values?: string[] }[] };
  };
}
interface LiveLimitRange {
  spec?: { limits?: { type: string; max?: Limits; default?: Limits; defaultRequest?: Limits }[] };
}

/** Each limit tenkai sets that the live object lacks or holds looser, as a sentence. */
export function looser(want: Limits, live: Limits | undefined, what: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    const have = live?.[k];
    if (have === undefined) out.push(`${what} has no ${k} (tenkai sets ${v})`);
    else if (parseQuantity(have) > parseQuantity(v))
      out.push(`${what} allows ${k} ${have} (tenkai sets ${v})`);
  }
  return out;
}

export async function guardsPresent(
  client: KubeClient,
  platform: Platform,
  tenant: Tenant,
): Promise<IsolationCheck[]> {
  const ns = tenant.name;
  const get = async <T>(path: string): Promise<T | undefined> => {
    try {
      return (await client.request<T>({ method: "GET", path })).body;
    } catch (err) {
      if (isKubeApiError(err, 404)) return undefined;
      throw err;
    }
  };
  const check = (action: string, problems: string[]): IsolationCheck => ({
    kind: "guard-present",
    identity: "(platform)",
    tenant: ns,
    target: ns,
    action,
    ...(problems.length === 0
      ? { verdict: "pass", reason: "PRESENT", message: `${action} in namespace ${ns}: as tenkai sets it` }
      : {
          verdict: "breach",
          reason: "LOOSENED",
          message: `${action} in namespace ${ns}: ${problems.join("; ")}; run tenkai apply`,
        }),
  });

  const quota = resourceQuota(platform, tenant);
  const liveQuota = await get<LiveQuota>(`/api/v1/namespaces/${ns}/resourcequotas/${quota.metadata.name}`);
  const counts = (quota.spec as { hard: Limits }).hard;
  const what = `ResourceQuota ${ns}/${quota.metadata.name}`;
  const countProblems = liveQuota ? looser(counts, liveQuota.spec?.hard, what) : [`${what} is missing`];

  const prio = priorityQuota(platform, tenant);
  const livePrio = await get<LiveQuota>(`/api/v1/namespaces/${ns}/resourcequotas/${prio.metadata.name}`);
  const prioWhat = `ResourceQuota ${ns}/${prio.metadata.name}`;
  const scoped = livePrio?.spec?.scopeSelector?.matchExpressions?.find(
    (e) => e.scopeName === "PriorityClass" && e.operator === "In",
  );
  const prioProblems = !livePrio
    ? [`${prioWhat} is missing`]
    : [
        ...looser({ pods: "0" }, livePrio.spec?.hard, prioWhat),
        ...SYSTEM_PRIORITY_CLASSES.filter((c) => !scoped?.values?.includes(c)).map(
          (c) => `${prioWhat} does not cover priority class ${c}`,
        ),
      ];

  const limits = limitRange(platform, tenant);
  const liveLimits = await get<LiveLimitRange>(
    `/api/v1/namespaces/${ns}/limitranges/${limits.metadata.name}`,
  );
  const limWhat = `LimitRange ${ns}/${limits.metadata.name}`;
  const wantContainer = (limits.spec as LiveLimitRange["spec"])?.limits?.find((l) => l.type === "Container");
  const liveContainer = liveLimits?.spec?.limits?.find((l) => l.type === "Container");
  const limProblems = !liveLimits
    ? [`${limWhat} is missing`]
    : [
        ...looser(wantContainer?.max ?? {}, liveContainer?.max, `${limWhat} max`),
        ...looser(wantContainer?.default ?? {}, liveContainer?.default, `${limWhat} default`),
      ];

  return [
    check("object counts, compute and local disk in the quota", countProblems),
    check("no pods at the system priority classes (quota)", prioProblems),
    check("per-container ceilings and local-disk defaults (LimitRange)", limProblems),
  ];
}
