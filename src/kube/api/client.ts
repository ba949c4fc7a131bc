/**
 * A small Kubernetes API client over a KubeConfig that callers inject (tests pass the local
 * cluster's). It speaks raw HTTP with a keep-alive agent of bounded sockets because tenkai needs
 * what the generated clients make awkward: server-side apply patches on any kind, dry runs,
 * impersonation headers per request, and aggregated discovery.
 */

import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { TenkaiError } from "../../shared/errors.js";
import { type KubeReason, kubeReason } from "../../shared/kube-errors.js";

export interface KubeRequest {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** API path, e.g. `/api/v1/namespaces/x/pods`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  /** Default `application/json`. */
  readonly contentType?: string;
  readonly accept?: string;
  /** Impersonate this user with these groups (needs the `impersonate` verb). */
  readonly impersonate?: { readonly user: string; readonly groups?: readonly string[] };
  /**
   * A POST that may be sent again when its keep-alive socket turns out stale (it failed before
   * reaching the server): one that cannot act twice, such as an eviction with a UID precondition.
   */
  readonly resendable?: boolean;
}

export interface KubeResponse<T> {
  readonly status: number;
  readonly body: T;
  /** The server's `Warning` headers (e.g. Pod Security warnings on a pod template), text only. */
  readonly warnings?: readonly string[];
}

/**
 * An API error as the server reported it (metav1.Status), with the request it answered. Its code
 * is `KUBE_API_<reason>` from the one table in shared/kube-errors.ts.
 */
export class KubeApiError extends TenkaiError {
  override name = "KubeApiError";
  /** metav1.Status reason, e.g. `NotFound`, `Conflict`, `Forbidden`, `Invalid`. */
  readonly reason: KubeReason;
  constructor(
    readonly status: number,
    reason: string,
    message: string,
    readonly request: { readonly method: string; readonly path: string },
    /** The Status body's `details` (name, kind, causes). */
    readonly statusDetails?: unknown,
  ) {
    const k = kubeReason(status, reason);
    super(k.code, message, fixFor(status, k.reason), {
      details: { status, reason: k.reason, method: request.method, path: request.path },
    });
    this.reason = k.reason;
  }
}

function fixFor(status: number, reason: string): string | undefined {
  if (status === 401) return "refresh your credentials for this context (e.g. aws eks update-kubeconfig)";
  if (status === 403) return "use a context whose identity may do this (tenkai apply needs cluster-admin)";
  if (reason === "Conflict")
    return "another field manager owns these fields; re-run with --force-conflicts to take them over";
  return undefined;
}

/** `Warning: 299 - "text"` headers (RFC 7234 form the apiserver uses) as their texts. */
function warningTexts(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const all = (Array.isArray(header) ? header : [header]).flatMap((h) => h.split(/,(?=\s*\d{3} )/));
  return all.map(
    (h) => /^\s*\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(h)?.[1]?.replace(/\\(.)/g, "$1") ?? h.trim(),
  );
}

export function isKubeApiError(err: unknown, status?: number): err is KubeApiError {
  return err instanceof KubeApiError && (status === undefined || err.status === status);
}

export interface KubeClientOptions {
  /** Most requests in flight at once (sockets per host). Default 32. */
  readonly maxSockets?: number;
  /** Per-request timeout in ms. Default 60 000. */
  readonly timeoutMs?: number;
}

/** A request that failed on a reused keep-alive socket before reaching the server. */
class StaleSocket extends Error {
  constructor(override readonly cause: NodeJS.ErrnoException) {
    super(cause.message);
  }
}

export class KubeClient {
  private readonly server: URL;
  private readonly timeoutMs: number;
  private auth: { headers: Record<string, string>; at: number } | undefined;

  constructor(
    private readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new TenkaiError(
        "KUBE_NO_CLUSTER",
        `kubeconfig context "${kubeConfig.getCurrentContext()}" names no cluster`,
        "pick a context with --context",
      );
    }
    this.server = new URL(cluster.server);
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxSockets = options.maxSockets ?? 32;
  }

  private readonly maxSockets: number;
  private agentReady: Promise<http.Agent> | undefined;

  /** The context this client talks to. */
  get context(): string {
    return this.kubeConfig.getCurrentContext();
  }

  private async ready(): Promise<{ agent: http.Agent; headers: Record<string, string> }> {
    this.agentReady ??= (async () => {
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      const common = { keepAlive: true, maxSockets: this.maxSockets };
      return this.server.protocol === "http:"
        ? new http.Agent(common)
        : new https.Agent({
            ...common,
            ca: opts.ca,
            cert: opts.cert,
            key: opts.key,
            ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
            ...(opts.servername ? { servername: opts.servername } : {}),
          });
    })();
    const agent = await this.agentReady;
    // Exec/token credentials expire: re-read them every few minutes (the plugin caches them).
    if (!this.auth || Date.now() - this.auth.at > 120_000) {
      const opts: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString("base64")}`;
      this.auth = { headers, at: Date.now() };
    }
    return { agent, headers: this.auth.headers };
  }

  async request<T = Record<string, unknown>>(req: KubeRequest): Promise<KubeResponse<T>> {
    const { agent, headers } = await this.ready();
    const url = new URL(req.path, this.server);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const body =
      req.body === undefined ? undefined : typeof req.body === "string" ? req.body : JSON.stringify(req.body);
    const h: Record<string, string | string[]> = { ...headers, Accept: req.accept ?? "application/json" };
    if (body !== undefined) {
      h["Content-Type"] = req.contentType ?? "application/json";
      h["Content-Length"] = String(Buffer.byteLength(body));
    }
    if (req.impersonate) {
      h["Impersonate-User"] = req.impersonate.user;
      if (req.impersonate.groups?.length) h["Impersonate-Group"] = [...req.impersonate.groups];
    }
    const mod = url.protocol === "http:" ? http : https;
    const send = () =>
      new Promise<{ status: number; text: string; warnings: string[] }>((resolve, reject) => {
        const r = mod.request(
          url,
          { method: req.method, headers: h, agent, timeout: this.timeoutMs },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({
                status: res.statusCode ?? 0,
                text: Buffer.concat(chunks).toString("utf8"),
                warnings: warningTexts(res.headers.warning),
              }),
            );
            res.on("error", reject);
          },
        );
        r.on("timeout", () => r.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
        r.on("error", (cause: NodeJS.ErrnoException) => {
          // A keep-alive socket the server closed while idle fails at once with ECONNRESET or
          // EPIPE; the request never reached the server, so an idempotent one is sent again
          // (the pattern Node's http docs give for `request.reusedSocket`).
          if (r.reusedSocket && (cause.code === "ECONNRESET" || cause.code === "EPIPE")) {
            reject(new StaleSocket(cause));
            return;
          }
          reject(
            new TenkaiError(
              "KUBE_UNREACHABLE",
              `${req.method} ${url.pathname}: cannot reach ${this.server.host}: ${cause.message}`,
              "check that the cluster is up and the context is right",
              { cause },
            ),
          );
        });
        if (body !== undefined) r.write(body);
        r.end();
      });
    const unreachable = (err: unknown) => {
      if (!(err instanceof StaleSocket)) throw err;
      throw new TenkaiError(
        "KUBE_UNREACHABLE",
        `${req.method} ${url.pathname}: cannot reach ${this.server.host}: ${err.cause.message}`,
        "check that the cluster is up and the context is right, then run the command again",
        { cause: err.cause },
      );
    };
    // Every idle socket in the pool may have gone stale at once (a process that blocked its event
    // loop for a while finds all of them closed), so a stale one is replaced until a fresh socket
    // answers; each stale attempt fails at once, before reaching the server.
    const sendFresh = async (staleLeft: number): Promise<Awaited<ReturnType<typeof send>>> => {
      try {
        return await send();
      } catch (err) {
        if (err instanceof StaleSocket && (req.method !== "POST" || req.resendable) && staleLeft > 0)
          return sendFresh(staleLeft - 1);
        return unreachable(err);
      }
    };
    const { status, text, warnings } = await sendFresh(this.maxSockets);
    let parsed: unknown = text;
    if (text?.startsWith("{")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // leave it as text
      }
    }
    if (status >= 400) {
      const s = (typeof parsed === "object" && parsed ? parsed : {}) as {
        reason?: string;
        message?: string;
        details?: unknown;
      };
      throw new KubeApiError(
        status,
        s.reason ?? "",
        `${req.method} ${url.pathname}: ${s.message ?? (text.slice(0, 300) || `HTTP ${status}`)}`,
        { method: req.method, path: url.pathname },
        s.details,
      );
    }
    return { status, body: parsed as T, ...(warnings.length > 0 ? { warnings } : {}) };
  }

  /** Closes idle keep-alive sockets so the process can exit. */
  close(): void {
    void this.agentReady?.then((a) => a.destroy());
  }
}
