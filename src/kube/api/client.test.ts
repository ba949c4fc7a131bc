/**
 * The client against a real HTTP server that closes its idle keep-alive connections while the
 * client's event loop is blocked (as a process running `spawnSync` does): every pooled socket is
 * stale at once, and a GET must still reach the server instead of failing as unreachable.
 */
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "./client.js";

let server: http.Server;
let kubeConfig: KubeConfig;
let answered = 0;
let releaseHeld: () => void = () => {};
let held: Promise<void> = Promise.resolve();

before(async () => {
  server = http.createServer(async (req, res) => {
    if (req.url?.startsWith("/hold")) await held;
    answered++;
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ kind: "Status", path: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
});
after(() => server.close());

/** Blocks this thread's event loop, as a synchronous child process does. */
const blockEventLoop = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Leaves `client` with four idle keep-alive sockets that the server has all closed. */
async function staleSockets(client: KubeClient): Promise<void> {
  // Four requests in flight at once leave four idle keep-alive sockets in the pool.
  held = new Promise((resolve) => {
    releaseHeld = resolve;
  });
  const inFlight = [1, 2, 3, 4].map((i) => client.request({ method: "GET", path: `/hold/${i}` }));
  await waitFor(async () => (await connections()) === 4);
  releaseHeld();
  await Promise.all(inFlight);
  answered = 0;
  // The server closes them all; the client does not run until they are all closed.
  server.closeIdleConnections();
  blockEventLoop(300);
}

describe("KubeClient on stale keep-alive sockets", () => {
  it("sends a GET again on a fresh socket when every pooled socket was closed by the server", async () => {
    const client = new KubeClient(kubeConfig, { maxSockets: 4 });
    try {
      await staleSockets(client);
      const r = await client.request<{ path: string }>({ method: "GET", path: "/api/v1/namespaces/x" });
      assert.equal(r.body.path, "/api/v1/namespaces/x");
      assert.equal(answered, 1, "the GET reached the server exactly once");
    } finally {
      client.close();
    }
  });

  it("sends a resendable POST (an eviction) again; any other POST fails as unreachable", async () => {
    const client = new KubeClient(kubeConfig, { maxSockets: 4 });
    try {
      await staleSockets(client);
      const path = "/api/v1/namespaces/x/pods/p/eviction";
      const r = await client.request<{ path: string }>({ method: "POST", path, body: {}, resendable: true });
      assert.equal(r.body.path, path);
      assert.equal(answered, 1, "the eviction reached the server exactly once");
      await staleSockets(client);
      await assert.rejects(
        client.request({ method: "POST", path: "/api/v1/namespaces/x/configmaps", body: {} }),
        {
          code: "KUBE_UNREACHABLE",
        },
      );
      assert.equal(answered, 0, "the POST was not sent again");
    } finally {
      client.close();
    }
  });
});

const connections = () =>
  new Promise<number>((resolve, reject) =>
    server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in 60 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}
