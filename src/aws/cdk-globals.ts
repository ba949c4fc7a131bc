/**
 * aws-cdk-lib keeps two process-wide tables that never forget: the token map (every token string
 * or number ever made, `global.__cdkTokenMap`) and `CfnReference.referenceTable` (every construct
 * a reference was made to). Each entry reaches its construct, and through it the whole App, so an
 * App that has been synthesized is never collected. Synthesizing the tenant stacks in batches
 * (synth.ts) only bounds memory if each batch's entries are let go once it is written.
 *
 * `markCdkGlobals()` notes what the tables hold; the function it returns deletes what was added
 * since. Only for an App that is synthesized and dropped: a token of that App no longer resolves
 * after the release. These are internals of the pinned aws-cdk-lib; if their shape changes the
 * release does nothing (memory grows as before, output stays right) and
 * src/aws/cdk-globals.test.ts fails, so an upgrade notices.
 */

interface TokenMapInternals {
  readonly stringTokenMap: Map<string, unknown>;
  readonly numberTokenMap: Map<number, unknown>;
}

/** The tables as this version of aws-cdk-lib keeps them, or undefined if they look different. */
function tokenMap(): TokenMapInternals | undefined {
  const map = (globalThis as { __cdkTokenMap?: Partial<TokenMapInternals> }).__cdkTokenMap;
  return map?.stringTokenMap instanceof Map && map.numberTokenMap instanceof Map
    ? (map as TokenMapInternals)
    : undefined;
}

/** `CfnReference.referenceTable`, found through a reference in the token map (the class is not exported). */
function referenceTables(values: Iterable<unknown>): Set<Map<unknown, unknown>> {
  const tables = new Set<Map<unknown, unknown>>();
  for (const v of values) {
    const table = (v as { constructor?: { referenceTable?: unknown } } | undefined)?.constructor
      ?.referenceTable;
    if (table instanceof Map) tables.add(table);
  }
  return tables;
}

/** Whether the release can work with this aws-cdk-lib (asserted by the test). */
export function cdkGlobalsReleasable(): boolean {
  return tokenMap() !== undefined;
}

/** Notes the tables' entries; the returned function deletes every entry added since. */
export function markCdkGlobals(): () => void {
  const map = tokenMap();
  if (!map) return () => {};
  const strings = new Set(map.stringTokenMap.keys());
  const numbers = new Set(map.numberTokenMap.keys());
  const known = referenceTables(map.stringTokenMap.values());
  const targets = new Map([...known].map((t) => [t, new Set(t.keys())]));
  return () => {
    const added: unknown[] = [];
    for (const [k, v] of map.stringTokenMap) {
      if (strings.has(k)) continue;
      added.push(v);
      map.stringTokenMap.delete(k);
    }
    for (const k of map.numberTokenMap.keys()) if (!numbers.has(k)) map.numberTokenMap.delete(k);
    for (const table of new Set([...known, ...referenceTables(added)])) {
      const before = targets.get(table) ?? new Set();
      for (const k of table.keys()) if (!before.has(k)) table.delete(k);
    }
  };
}
