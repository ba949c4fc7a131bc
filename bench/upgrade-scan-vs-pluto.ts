/**
 * Removed-API scan at scale, side by side with Fairwinds pluto: one local control plane (kwok-less:
 * no nodes needed), 20,000 objects written, then `pluto detect-api-resources` and
 * `pluto detect-helm` and tenkai's `upgrade plan` live scan against the same cluster. Findings are
 * compared object by object; wall time, CPU time and peak RSS of each process (/usr/bin/time -v),
 * and the load average around each.
 *
 *   node --import tsx bench/upgrade-scan-vs-pluto.ts [--objects 20000] [--concurrency 32] [--to 1.37]
 *
 * pluto comes from bench/pluto/build.sh (the version bench/pluto/go.mod pins: the module proxy
 * refuses it, so it is built from the upstream source at the tag with PLUTO_SRC; see build.sh and
 * the README, "pluto for the removed-API bench"), or PLUTO_BIN.
 *
 * The objects with old apiVersions are planted as test/integration/upgrade-plan.test.ts plants
 * them (test/support/removed-apis.ts).
 *
 * The objects (shares of --objects):
 * - current:        ConfigMaps (75%) and apps/v1 Deployments (5%) with nothing old about them;
 * - last-applied:   apps/v1 Deployments (7.5%) whose kubectl last-applied annotation names
 *                   extensions/v1beta1, and networking.k8s.io/v1 Ingresses (2.5%) whose annotation
 *                   names networking.k8s.io/v1beta1: what pluto reads;
 * - managed-fields: Roles (7.5%) whose only managedFields entry was written through
 *                   rbac.authorization.k8s.io/v1beta1 and that carry no annotation (put into etcd
 *                   as an older API server left them: today's refuses to record such an entry);
 * - helm:           Helm 3 release Secrets (2.5%) whose manifest holds an autoscaling/v2beta2
 *                   HorizontalPodAutoscaler.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { KubeClient } from "../src/kube/api/client.js";
import { startTestCluster, testClusterUnavailableReason, waitFor } from "../test/support/cluster.js";
import {
  deployment,
  etcdPortOf,
  helmReleaseSecret,
  lastAppliedDeployment,
  lastAppliedIngress,
  managedFieldsRole,
  putStoredObject,
} from "../test/support/removed-apis.js";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "20000" },
    concurrency: { type: "string", default: "32" },
    to: { type: "string", default: "1.37" },
  },
});
const total = Number(values.objects);
const concurrency = Number(values.concurrency);
const root = new URL("../", import.meta.url).pathname;
const NAMESPACES = 20;

type Category = "current" | "last-applied" | "managed-fields" | "helm";
const share = (f: number) => Math.round(total * f);
const counts = {
  configMaps: 0,
  cleanDeployments: share(0.05),
  oldDeployments: share(0.075),
  oldIngresses: share(0.025),
  oldRoles: share(0.075),
  helmReleases: share(0.025),
};
counts.configMaps =
  total -
  counts.cleanDeployments -
  counts.oldDeployments -
  counts.oldIngresses -
  counts.oldRoles -
  counts.helmReleases;

/** What was planted, by the key both sides' findings are compared on. */
const planted = new Map<string, Category>();

function plutoBinary(): { path?: string; error?: string } {
  const given = process.env.PLUTO_BIN;
  if (given) return existsSync(given) ? { path: given } : { error: `PLUTO_BIN=${given} does not exist` };
  const r = spawnSync("bash", [join(root, "bench/pluto/build.sh")], { encoding: "utf8" });
  if (r.status === 0) return { path: r.stdout.trim().split("\n").at(-1) };
  return { error: (r.stderr || r.stdout).trim() };
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

interface Measured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallS: number;
  /** User + system CPU seconds: steadier than wall time on a shared machine. */
  readonly cpuS: number;
  readonly maxRssMiB: number;
  /** The machine's 1-minute load average before and after the run. */
  readonly load: readonly [number, number];
}

/** Runs a command under /usr/bin/time -v: its exit code, output, wall time and peak RSS. */
function measured(cmd: string, args: string[], env: NodeJS.ProcessEnv): Measured {
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const r = spawnSync("/usr/bin/time", ["-v", cmd, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 1 << 30,
  });
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const wallS = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN;
  const secs = (what: string) =>
    Number(new RegExp(`${what} time \\(seconds\\): ([\\d.]+)`).exec(r.stderr)?.[1]);
  return {
    code: r.status ?? 1,
    stdout: r.stdout,
    stderr: r.stderr,
    wallS,
    cpuS: secs("User") + secs("System"),
    maxRssMiB: rss / 1024,
    load: [loadBefore, loadavg()[0] ?? Number.NaN],
  };
}

/** pluto's exit codes (docs/advanced.md upstream): findings are not errors. */
const plutoExit: Record<number, string> = {
  0: "nothing found",
  1: "error",
  2: "deprecated apiVersions found",
  3: "removed apiVersions found",
  4: "a replacement is unavailable in the target",
};

const plutoItems = (
  out: string,
): { name: string; namespace?: string; api?: { kind?: string; version?: string } }[] => {
  const start = out.indexOf("{");
  if (start < 0) return [];
  return (JSON.parse(out.slice(start)) as { items?: [] }).items ?? [];
};

async function main(): Promise<void> {
  const cluster = await startTestCluster();
  if (!cluster) {
    console.log(`no local cluster: ${testClusterUnavailableReason()}`);
    process.exitCode = 1;
    return;
  }
  const client = new KubeClient(cluster.kubeConfig, { maxSockets: concurrency });
  try {
    const etcdPort = etcdPortOf(cluster.dir ?? "");
    const ns = (i: number) => `bench-${String(i % NAMESPACES).padStart(2, "0")}`;
    for (let i = 0; i < NAMESPACES; i++)
      await client.request({
        method: "POST",
        path: "/api/v1/namespaces",
        body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns(i) } },
      });

    const writes: (() => Promise<void>)[] = [];
    const post = (path: string, body: object) => async () => {
      await client.request({ method: "POST", path, body });
    };
    for (let i = 0; i < counts.configMaps; i++) {
      const n = ns(i);
      planted.set(`ConfigMap ${n}/cm-${i}`, "current");
      writes.push(
        post(`/api/v1/namespaces/${n}/configmaps`, {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: `cm-${i}`, namespace: n },
          data: { key: `value-${i}` },
        }),
      );
    }
    for (let i = 0; i < counts.cleanDeployments; i++) {
      const n = ns(i);
      planted.set(`Deployment ${n}/app-${i}`, "current");
      writes.push(post(`/apis/apps/v1/namespaces/${n}/deployments`, deployment(`app-${i}`, n)));
    }
    for (let i = 0; i < counts.oldDeployments; i++) {
      const n = ns(i);
      planted.set(`Deployment ${n}/old-${i}`, "last-applied");
      writes.push(post(`/apis/apps/v1/namespaces/${n}/deployments`, lastAppliedDeployment(`old-${i}`, n)));
    }
    for (let i = 0; i < counts.oldIngresses; i++) {
      const n = ns(i);
      planted.set(`Ingress ${n}/ing-${i}`, "last-applied");
      writes.push(
        post(`/apis/networking.k8s.io/v1/namespaces/${n}/ingresses`, lastAppliedIngress(`ing-${i}`, n)),
      );
    }
    for (let i = 0; i < counts.oldRoles; i++) {
      const n = ns(i);
      const name = `old-reader-${i}`;
      planted.set(`Role ${n}/${name}`, "managed-fields");
      const role = managedFieldsRole(name, n, i);
      writes.push(() => putStoredObject(etcdPort, role.key, role.object));
    }
    for (let i = 0; i < counts.helmReleases; i++) {
      const n = ns(i);
      const release = `legacy-${i}`;
      planted.set(`helm ${n}/${release}`, "helm");
      writes.push(post(`/api/v1/namespaces/${n}/secrets`, helmReleaseSecret(release, n)));
    }
    const t0 = performance.now();
    await pool(writes, concurrency, (w) => w());
    console.log(
      `wrote ${writes.length} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s (concurrency ${concurrency})`,
    );
    await waitFor("the Roles put into etcd are served", 300_000, async () => {
      const list = await client.request<{ items: unknown[] }>({
        method: "GET",
        path: "/apis/rbac.authorization.k8s.io/v1/roles",
        query: { labelSelector: "" },
      });
      return (
        list.body.items.filter((r) =>
          (r as { metadata: { name: string } }).metadata.name.startsWith("old-reader-"),
        ).length === counts.oldRoles
      );
    });

    // Read now: the client's kept-alive sockets idle through the measurements below.
    const server = (await client.request<{ gitVersion: string }>({ method: "GET", path: "/version" })).body;
    const dir = mkdtempSync(join(tmpdir(), "tenkai-pluto-bench-"));
    const platformFile = join(dir, "platform.yaml");
    writeFileSync(
      platformFile,
      readFileSync(join(root, "examples/platform.yaml"), "utf8").replace(
        /^spec:\n/m,
        "spec:\n  target: local\n",
      ),
    );
    const target = `k8s=v${values.to}.0`;
    const env = { KUBECONFIG: cluster.kubeconfigPath };

    // tenkai
    const t = measured(
      process.execPath,
      [
        "--import",
        "tsx",
        join(root, "bench/upgrade-scan-child.ts"),
        cluster.kubeconfigPath,
        platformFile,
        values.to ?? "1.37",
      ],
      env,
    );
    if (t.code !== 0) throw new Error(`tenkai's scan failed:\n${t.stderr}`);
    const tenkai = JSON.parse(t.stdout.trim().split("\n").at(-1) ?? "{}") as {
      planMs: number;
      maxRssKb: number;
      findings: { object?: string; source?: string; location?: string; apiVersion?: string }[];
    };
    const tenkaiKeys = new Set(
      tenkai.findings.map((f) =>
        f.source === "helm"
          ? `helm ${/helm release (\S+)/.exec(f.location ?? "")?.[1] ?? f.location}`
          : (f.object ?? ""),
      ),
    );

    // pluto (looked up only now: its build may finish while the objects are written)
    const pluto = plutoBinary();
    let plutoKeys: Set<string> | undefined;
    const plutoRuns: { what: string; m: Measured }[] = [];
    if (pluto.path) {
      for (const what of ["detect-api-resources", "detect-helm"]) {
        const m = measured(pluto.path, [what, "-o", "json", "-t", target], env);
        plutoRuns.push({ what, m });
      }
      plutoKeys = new Set<string>();
      for (const { what, m } of plutoRuns)
        for (const item of plutoItems(m.stdout))
          plutoKeys.add(
            what === "detect-helm"
              ? `helm ${item.namespace}/${item.name.split("/")[0]}`
              : `${item.api?.kind} ${item.namespace ? `${item.namespace}/` : ""}${item.name}`,
          );
    }

    // Report
    const byCategory = (keys: Set<string> | undefined, c: Category) =>
      keys ? [...planted].filter(([k, cat]) => cat === c && keys.has(k)).length : "-";
    console.log(
      `\nobjects written: ${writes.length} (${JSON.stringify(counts)}); cluster ${server.gitVersion}, target ${values.to}; machine: ${cpus().length} cores`,
    );
    console.log("category         planted  pluto  tenkai");
    for (const c of ["current", "last-applied", "managed-fields", "helm"] as Category[]) {
      const n = [...planted.values()].filter((x) => x === c).length;
      console.log(
        `${c.padEnd(15)}  ${String(n).padStart(7)}  ${String(byCategory(plutoKeys, c)).padStart(5)}  ${String(byCategory(tenkaiKeys, c)).padStart(6)}`,
      );
    }
    const outside = (keys: Set<string>) => [...keys].filter((k) => !planted.has(k));
    console.log(`\nfindings tenkai: ${tenkaiKeys.size} objects (${tenkai.findings.length} findings)`);
    console.log(`  not planted by this bench: ${outside(tenkaiKeys).join(", ") || "none"}`);
    if (plutoKeys) {
      const both = [...plutoKeys].filter((k) => tenkaiKeys.has(k));
      const onlyTenkai = [...tenkaiKeys].filter((k) => !plutoKeys.has(k));
      const onlyPluto = [...plutoKeys].filter((k) => !tenkaiKeys.has(k));
      console.log(`findings pluto: ${plutoKeys.size} objects`);
      console.log(`  not planted by this bench: ${outside(plutoKeys).join(", ") || "none"}`);
      console.log(
        `in both: ${both.length}; only tenkai: ${onlyTenkai.length}; only pluto: ${onlyPluto.length}`,
      );
      if (onlyPluto.length > 0) console.log(`  only pluto: ${onlyPluto.slice(0, 20).join(", ")}`);
      const pw = plutoRuns.reduce((s, r) => s + r.m.wallS, 0);
      const pr = Math.max(...plutoRuns.map((r) => r.m.maxRssMiB));
      const pc = plutoRuns.reduce((s, r) => s + r.m.cpuS, 0);
      const load = (m: Measured) => `load ${m.load[0].toFixed(1)} → ${m.load[1].toFixed(1)}`;
      const version = spawnSync(pluto.path ?? "", ["version"], { encoding: "utf8" }).stdout.trim();
      console.log(`pluto: ${pluto.path} (${version}); target ${target}`);
      for (const r of plutoRuns)
        console.log(
          `pluto ${r.what}: wall ${r.m.wallS.toFixed(2)} s, CPU ${r.m.cpuS.toFixed(2)} s, peak RSS ${r.m.maxRssMiB.toFixed(0)} MiB, ${load(r.m)}, exit ${r.m.code} (${plutoExit[r.m.code] ?? "?"}), ${plutoItems(r.m.stdout).length} items`,
        );
      console.log(
        `tenkai upgrade plan (live scan): wall ${t.wallS.toFixed(2)} s (plan ${(tenkai.planMs / 1000).toFixed(2)} s without node/tsx start-up), CPU ${t.cpuS.toFixed(2)} s, peak RSS ${t.maxRssMiB.toFixed(0)} MiB (resourceUsage maxRSS ${(tenkai.maxRssKb / 1024).toFixed(0)} MiB), ${load(t)}`,
      );
      console.log(
        `ratio tenkai/pluto (pluto's two commands summed for time, larger peak for memory): wall ${(t.wallS / pw).toFixed(2)}x (plan alone ${(tenkai.planMs / 1000 / pw).toFixed(2)}x), CPU ${(t.cpuS / pc).toFixed(2)}x, peak RSS ${(t.maxRssMiB / pr).toFixed(2)}x`,
      );
    } else {
      console.log(`pluto: not run: ${pluto.error}`);
      console.log(
        `tenkai upgrade plan (live scan): wall ${t.wallS.toFixed(2)} s (plan ${(tenkai.planMs / 1000).toFixed(2)} s), peak RSS ${t.maxRssMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    client.close();
    await cluster.stop();
  }
}

await main();
