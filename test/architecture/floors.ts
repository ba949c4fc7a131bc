/**
 * The floors of tenkai and the rule between them: a module imports only from its own module or
 * from a lower floor. Two modules on the same floor stay independent of each other. The list is
 * the one in docs/architecture.md; floors.test.ts holds the tree to it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export interface Floor {
  readonly name: string;
  /** Modules on this floor: a folder under src/ (`kube/render`) or a file (`index.ts`). */
  readonly modules: readonly string[];
}

/** Lowest first. */
export const FLOORS: readonly Floor[] = [
  { name: "shared", modules: ["shared"] },
  { name: "spec", modules: ["spec"] },
  { name: "planes", modules: ["aws", "kube/render"] },
  { name: "cluster access and composition", modules: ["kube/api", "providers", "plan"] },
  { name: "engines", modules: ["rotation", "verify"] },
  // The upgrade drives the other engines (its plan reuses the rotation's decisions; its run will
  // rotate node groups and verify), so it sits one floor above them rather than beside them.
  { name: "engines that drive engines", modules: ["upgrade"] },
  {
    name: "entry points",
    modules: [
      "cli",
      "index.ts",
      "aws/index.ts",
      "kube/index.ts",
      "rotation/index.ts",
      "verify/index.ts",
      "upgrade/index.ts",
    ],
  },
];

export interface Edge {
  readonly from: string;
  readonly to: string;
  /** Whether the import is `import type` (erased at run time, still a dependency of the design). */
  readonly typeOnly: boolean;
}

export interface Placed {
  readonly module: string;
  readonly floor: number;
}

/** The module and floor of a file under src/ (longest module prefix wins; `x/index.ts` entries first). */
export function place(file: string, floors: readonly Floor[] = FLOORS): Placed | undefined {
  let best: Placed | undefined;
  floors.forEach((floor, i) => {
    for (const m of floor.modules) {
      const hit = m.endsWith(".ts") ? file === m : file === m || file.startsWith(`${m}/`);
      if (hit && (!best || m.length > best.module.length)) best = { module: m, floor: i };
    }
  });
  return best;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") ? [p] : [];
  });
}

const IMPORT =
  /(import|export)\s+(type\s+)?[^;]*?from\s+"(\.{1,2}\/[^"]+)"|import\(\s*"(\.{1,2}\/[^"]+)"\s*\)/gs;

/** Every relative import between shipped modules under `srcDir` (paths relative to it). */
export function importEdges(srcDir: string): Edge[] {
  const edges: Edge[] = [];
  for (const file of walk(srcDir)) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[3] ?? m[4];
      if (!spec) continue;
      const target = normalize(join(dirname(file), spec.replace(/\.js$/, ".ts")));
      edges.push({ from: relative(srcDir, file), to: relative(srcDir, target), typeOnly: !!m[2] });
    }
  }
  return edges;
}

export interface Violation extends Edge {
  readonly reason: "upward" | "sideways" | "unplaced";
  readonly message: string;
}

/**
 * Imports that point up a floor, or sideways into another module on the same floor (except on the
 * top floor, whose entry points re-export and call whatever they front).
 */
export function violations(edges: readonly Edge[], floors: readonly Floor[] = FLOORS): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    const a = place(e.from, floors);
    const b = place(e.to, floors);
    if (!a || !b) {
      out.push({
        ...e,
        reason: "unplaced",
        message: `${!a ? e.from : e.to} is on no floor: add its module to FLOORS`,
      });
    } else if (b.floor > a.floor) {
      out.push({
        ...e,
        reason: "upward",
        message: `${e.from} (${floors[a.floor]?.name}) imports ${e.to} (${floors[b.floor]?.name}), a floor above`,
      });
    } else if (b.floor === a.floor && a.module !== b.module && a.floor < floors.length - 1) {
      out.push({
        ...e,
        reason: "sideways",
        message: `${e.from} (${a.module}) imports ${e.to} (${b.module}), another module on the same floor`,
      });
    }
  }
  return out;
}

/** Import cycles between files (each listed once, as the files in the cycle). */
export function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const found = new Map<string, string[]>();
  const stack: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      if (state.get(m) === "open") {
        const cycle = stack.slice(stack.indexOf(m));
        found.set([...cycle].sort().join(" "), cycle);
      } else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const n of next.keys()) if (!state.has(n)) visit(n);
  return [...found.values()];
}

// `node --import tsx test/architecture/floors.ts [srcDir]` prints the violations and cycles.
if (import.meta.url === `file://${process.argv[1]}`) {
  const edges = importEdges(process.argv[2] ?? "src");
  const v = violations(edges);
  for (const x of v) console.log(`${x.reason}${x.typeOnly ? " (type)" : ""}: ${x.message}`);
  for (const c of cycles(edges)) console.log(`cycle: ${c.join(" → ")}`);
  console.log(`${edges.length} imports, ${v.length} against the floors, ${cycles(edges).length} cycles`);
}
