import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { keepAliveApiClients } from "./keep-alive.js";

/** An apiserver stand-in that answers every request with an empty NamespaceList and counts connections. */
async function server(): Promise<{
  kc: KubeConfig;
  connections: () => number;
  auth: string[];
  close: () => Promise<void>;
}> {
  let connections = 0;
  const auth: string[] = [];
  const s = http.createServer((req, res) => {
    auth.push(req.headers.authorization ?? "");
    res.setHeader("Content-Type", "application/json");
    res.end(JSON.stringify({ kind: "NamespaceList", apiVersion: "v1", metadata: {}, items: [] }));
  });
  s.on("connection", () => connections++);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t0k3n" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return {
    kc,
    connections: () => connections,
    auth,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

test("clients from keepAliveApiClients reuse one connection and still send the credentials", async () => {
  const srv = await server();
  try {
    const core = keepAliveApiClients(srv.kc)(CoreV1Api);
    for (let i = 0; i < 5; i++) await core.listNamespace();
    assert.equal(srv.connections(), 1);
    assert.deepEqual(srv.auth, Array(5).fill("Bearer t0k3n"));
  } finally {
    await srv.close();
  }
});

test("kc.makeApiClient opens a connection per request (why keepAliveApiClients exists)", async () => {
  const srv = await server();
  try {
    const core = srv.kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 5; i++) await core.listNamespace();
    assert.equal(srv.connections(), 5);
  } finally {
    await srv.close();
  }
});
