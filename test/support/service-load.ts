/**
 * Continuous `probe load` through Services for as long as something runs (an upgrade, a
 * rotation), counted request by request. The load runs on this machine in the network namespace
 * of a real node (its kube-proxy rules route the Service addresses, as for a hostNetwork client
 * on that node), so it needs no API server while it runs: it holds through a control-plane swap.
 * Back-to-back windows per Service (`probe load` prints one JSON result per window, a fresh
 * connection per request). The client sits on a Ready, schedulable real node and moves to another
 * when its node is cordoned for a drain (before it is deleted); it moves only to a node whose
 * kube-proxy already routes every target (one successful request each), as a load balancer's
 * health check would. Windows that do not report (their process killed) are counted apart.
 * Test support only.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, type KubeConfig, type V1Node } from "@kubernetes/client-node";
import { PROVIDER_LABEL } from "../../src/providers/node-placement.js";
import { probeBinary } from "./cluster.js";

export interface LoadTarget {
  /** `namespace/name` of the Service. */
  readonly service: string;
  readonly url: string;
}

export interface LoadTotals {
  sent: number;
  failed: number;
  errors: Record<string, number>;
  windows: number;
  /** Windows whose `probe load` printed no result (killed, could not start). */
  lostWindows: string[];
  /** Per Service. */
  perService: Record<string, { sent: number; failed: number }>;
  /** The nodes the client ran on, in order. */
  clientNodes: string[];
  /** Windows with a failed request: when they ended (ISO 8601), where, how many. */
  failedWindows: string[];
}

interface ProbeLoadResult {
  sent: number;
  failed: number;
  errors: Record<string, number>;
}

function netnsOf(clusterDir: string, node: string): string | undefined {
  const env = join(clusterDir, "nodes", node, "node.env");
  if (!existsSync(env)) return undefined;
  const m = /^NETNS=(\S+)$/m.exec(readFileSync(env, "utf8"));
  return m?.[1];
}

function run(
  argv: string[],
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    p.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    p.on("error", (e) => resolve({ code: null, signal: null, stdout, stderr: String(e) }));
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const usable = (n: V1Node) =>
  n.metadata?.labels?.[PROVIDER_LABEL] === "local" &&
  !n.spec?.unschedulable &&
  !!n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");

export class ServiceLoad {
  private readonly totals: LoadTotals = {
    sent: 0,
    failed: 0,
    errors: {},
    windows: 0,
    lostWindows: [],
    perService: {},
    clientNodes: [],
    failedWindows: [],
  };
  private stopping = false;
  private node: { name: string; netns: string } | undefined;
  private readonly loops: Promise<void>[] = [];
  private readonly watcher: Promise<void>;
  private readonly probe = probeBinary();

  private constructor(
    private readonly o: {
      kubeConfig: KubeConfig;
      clusterDir: string;
      targets: readonly LoadTarget[];
      rps: number;
      windowSeconds: number;
    },
  ) {
    this.watcher = this.watchNodes();
  }

  /** Starts once a client node routes every target; then one window loop per target. */
  static async start(o: {
    kubeConfig: KubeConfig;
    clusterDir: string;
    targets: readonly LoadTarget[];
    rps?: number;
    windowSeconds?: number;
    timeoutMs?: number;
  }): Promise<ServiceLoad> {
    const load = new ServiceLoad({ ...o, rps: o.rps ?? 10, windowSeconds: o.windowSeconds ?? 5 });
    const deadline = Date.now() + (o.timeoutMs ?? 120_000);
    while (!load.node) {
      if (Date.now() > deadline) {
        load.stopping = true;
        throw new Error("no real node routes every load target (is kube-proxy running?)");
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const t of o.targets) load.loops.push(load.loop(t));
    return load;
  }

  /** Where the client runs now. */
  get clientNode(): string | undefined {
    return this.node?.name;
  }

  private async routes(netns: string): Promise<boolean> {
    for (const t of this.o.targets) {
      const r = await run([
        "nsenter",
        `--net=/run/netns/${netns}`,
        this.probe,
        "http",
        t.url,
        "--timeout",
        "2s",
      ]);
      if (r.code !== 0) return false;
    }
    return true;
  }

  /** Keeps the client on a usable node; the API may be away (a control-plane swap): keep the last. */
  private async watchNodes(): Promise<void> {
    const core = this.o.kubeConfig.makeApiClient(CoreV1Api);
    while (!this.stopping) {
      try {
        const nodes = (await core.listNode()).items;
        const current = nodes.find((n) => n.metadata?.name === this.node?.name);
        if (!current || !usable(current)) {
          for (const n of nodes.filter(usable)) {
            const name = n.metadata?.name ?? "";
            const netns = netnsOf(this.o.clusterDir, name);
            if (netns && (await this.routes(netns))) {
              this.node = { name, netns };
              this.totals.clientNodes.push(name);
              break;
            }
          }
        }
      } catch {
        // The API server is away; the client stays where it is.
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  private async loop(t: LoadTarget): Promise<void> {
    const mine = { sent: 0, failed: 0 };
    this.totals.perService[t.service] = mine;
    while (!this.stopping) {
      const node = this.node as { name: string; netns: string };
      const r = await run([
        "nsenter",
        `--net=/run/netns/${node.netns}`,
        this.probe,
        "load",
        "--url",
        t.url,
        "--rps",
        String(this.o.rps),
        "--duration",
        `${this.o.windowSeconds}s`,
        "--timeout",
        "2s",
      ]);
      this.totals.windows++;
      let res: ProbeLoadResult | undefined;
      try {
        res = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as ProbeLoadResult;
      } catch {
        res = undefined;
      }
      if (!res || typeof res.sent !== "number") {
        this.totals.lostWindows.push(
          `${t.service} on ${node.name}: exit ${r.code ?? r.signal}: ${r.stderr.trim().slice(-200)}`,
        );
        continue;
      }
      if (res.failed > 0)
        this.totals.failedWindows.push(
          `${new Date().toISOString()} ${t.service} from ${node.name}: ${res.failed}/${res.sent} failed`,
        );
      this.totals.sent += res.sent;
      this.totals.failed += res.failed;
      mine.sent += res.sent;
      mine.failed += res.failed;
      for (const [k, v] of Object.entries(res.errors ?? {}))
        this.totals.errors[`${k} (${t.service} from ${node.name})`] =
          (this.totals.errors[`${k} (${t.service} from ${node.name})`] ?? 0) + v;
    }
  }

  /** Lets the windows under way finish, then returns the totals. */
  async stop(): Promise<LoadTotals> {
    this.stopping = true;
    await Promise.all([...this.loops, this.watcher]);
    return this.totals;
  }
}
