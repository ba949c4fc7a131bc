/**
 * Generated API clients (`CoreV1Api`, `AppsV1Api`, ...) whose requests share one keep-alive agent.
 *
 * `kc.makeApiClient` in @kubernetes/client-node 1.4 gives every request a new agent, so every
 * request opens a new connection and pays a TLS handshake (and the apiserver a client-certificate
 * check). An engine that sends hundreds of evictions and patches pays it hundreds of times; with
 * these clients the connections are reused, as KubeClient (client.ts) already does.
 */
import http from "node:http";
import https from "node:https";
import {
  type Configuration,
  createConfiguration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
  ServerConfiguration,
} from "@kubernetes/client-node";
import { TenkaiError } from "../../shared/errors.js";

export type ApiClientType<T> = new (config: Configuration) => T;

export interface KeepAliveOptions {
  /** Connections to the apiserver at most; more requests queue. Default 64. */
  readonly maxSockets?: number;
}

/**
 * Returns `make(ApiType)`: like `kc.makeApiClient(ApiType)`, but every client it makes sends its
 * requests over the same keep-alive agent. Credentials (headers, exec tokens) are still applied by
 * the KubeConfig on every request; only the connection is shared.
 */
export function keepAliveApiClients(
  kc: KubeConfig,
  options: KeepAliveOptions = {},
): <T>(type: ApiClientType<T>) => T {
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new TenkaiError(
      "KUBE_NO_CLUSTER",
      `kubeconfig context "${kc.getCurrentContext()}" names no cluster`,
      "pick a context with --context",
    );
  }
  const server = new URL(cluster.server);
  const common = { keepAlive: true, maxSockets: options.maxSockets ?? 64 };
  let agent: Promise<http.Agent> | undefined;
  const sharedAgent = () =>
    (agent ??= (async () => {
      if (server.protocol === "http:") return new http.Agent(common);
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return new https.Agent({
        ...common,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        ...(opts.servername ? { servername: opts.servername } : {}),
      });
    })());
  const auth: SecurityAuthentication = {
    getName: () => "default",
    async applySecurityAuthentication(context: RequestContext) {
      await kc.applySecurityAuthentication(context);
      context.setAgent(await sharedAgent());
    },
  };
  const config = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: auth },
  });
  return (type) => new type(config);
}
