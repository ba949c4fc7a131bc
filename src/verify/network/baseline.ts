/**
 * The network baseline: what `--save-baseline` writes and `--baseline` reads, the difference of a
 * run from it, and the losses grouped by node for people. Pure; unit-tested.
 */
import { z } from "zod";
import { TenkaiError } from "../../shared/errors.js";
import type {
  BaselineDiff,
  DatapathChange,
  DatapathCheck,
  DatapathKind,
  DatapathLoss,
  NetworkBaseline,
} from "./datapath-types.js";

const baselineSchema = z.object({
  apiVersion: z.literal("tenkai.dev/v1alpha1"),
  kind: z.literal("NetworkBaseline"),
  takenAt: z.string(),
  nodes: z.array(z.string()),
  checks: z.record(z.string(), z.boolean()),
  tenants: z.record(z.string(), z.object({ ok: z.number(), total: z.number() })).optional(),
});

/**
 * Reads a baseline file's text.
 * @throws TenkaiError `CLI_BAD_BASELINE` (exit 2) naming the file and what is wrong.
 */
export function parseBaseline(text: string, file: string): NetworkBaseline {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TenkaiError(
      "CLI_BAD_BASELINE",
      `${file} is not JSON: ${(err as Error).message}`,
      "pass a file written by tenkai verify network --save-baseline",
    );
  }
  const r = baselineSchema.safeParse(raw);
  if (!r.success)
    throw new TenkaiError(
      "CLI_BAD_BASELINE",
      `${file} is not a network baseline: ${r.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ")}`,
      "pass a file written by tenkai verify network --save-baseline",
    );
  return r.data;
}

export function toBaseline(
  checks: readonly DatapathCheck[],
  nodes: readonly string[],
  takenAt: string,
  tenants?: NetworkBaseline["tenants"],
): NetworkBaseline {
  return {
    apiVersion: "tenkai.dev/v1alpha1",
    kind: "NetworkBaseline",
    takenAt,
    nodes: [...nodes].sort(),
    checks: Object.fromEntries(
      [...checks].sort((a, b) => a.key.localeCompare(b.key)).map((c) => [c.key, c.ok]),
    ),
    ...(tenants ? { tenants } : {}),
  };
}

function nodesOf(c: DatapathCheck): string[] {
  return [...new Set([c.from.node, c.to.node].filter((n): n is string => !!n))];
}

export function diffBaseline(
  baseline: NetworkBaseline,
  checks: readonly DatapathCheck[],
  nodes: readonly string[],
): BaselineDiff {
  const changes: DatapathChange[] = [];
  for (const c of checks) {
    const before = baseline.checks[c.key];
    if (before === undefined || before === c.ok) continue;
    changes.push({
      key: c.key,
      change: before ? "lost" : "regained",
      kind: c.kind,
      nodes: nodesOf(c),
      from: c.from,
      to: c.to,
      detail: c.detail,
    });
  }
  const kindOf = (key: string) => key.split(" ")[0] as DatapathKind;
  const kindsNow = new Set(checks.map((c) => c.kind));
  const kindsGone = [...new Set(Object.keys(baseline.checks).map(kindOf))]
    .filter((k) => !kindsNow.has(k))
    .sort();
  const now = new Set(nodes);
  const then = new Set(baseline.nodes);
  return {
    takenAt: baseline.takenAt,
    changes,
    nodesGone: baseline.nodes.filter((n) => !now.has(n)),
    nodesNew: [...now].filter((n) => !then.has(n)).sort(),
    kindsGone,
  };
}

function side(e: DatapathCheck["from"]): string {
  return `${e.pod} (${e.ip}${e.node ? ` on ${e.node}` : ""})`;
}

/**
 * The failing checks, one loss per check, under the node it belongs to: the source's node, or for
 * a same-node pair that node (a cross-node pair is listed under both its nodes).
 */
export function lossesOf(checks: readonly DatapathCheck[]): DatapathLoss[] {
  const out: DatapathLoss[] = [];
  for (const c of checks) {
    if (c.failures === 0 && c.ok) continue;
    for (const node of nodesOf(c))
      out.push({
        node,
        kind: c.kind,
        key: c.key,
        pair: `${side(c.from)} -> ${side(c.to)}`,
        detail: c.detail,
        failures: c.failures,
        rounds: c.rounds,
      });
  }
  return out.sort((a, b) => a.node.localeCompare(b.node) || a.key.localeCompare(b.key));
}
