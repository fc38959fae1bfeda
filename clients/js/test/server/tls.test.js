// The client over wss:// in Node (the `ws` package) against Snorky's TLS
// listener, with a certificate made here by the openssl tool and trusted
// through the `ca` option only (verification stays on).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { Snorky, PubSub } from "../../src/index.js";
import { SnorkyServer, pubsubToml, eventually } from "../support/server.js";
import { backendOf, collect } from "../support/clients.js";
import { selfSignedCertificate } from "../support/certificates.js";

let server;
let dir;
let ca;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), "snorky-js-tls-"));
  const { cert, key } = selfSignedCertificate(dir);
  ca = readFileSync(cert);
  server = await SnorkyServer.start(`
[server]
threads = 1

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
tls_cert = ${JSON.stringify(cert)}
tls_key = ${JSON.stringify(key)}

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
` + pubsubToml);
});
after(async () => {
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const wssUrl = () => `wss://localhost:${server.listener("websocket").port}/ws`;

test("the ready file marks the TLS listener", () => {
  assert.equal(server.listener("websocket").tls, true);
  assert.equal(server.listener("backend").tls, false);
});

test("a client over wss:// trusting the test certificate gets publications", async () => {
  class TrustingWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols, { ca });
    }
  }
  const snorky = new Snorky(wssUrl(), { pubsub: PubSub }, { WebSocket: TrustingWebSocket });
  await snorky.waitFor("connected");
  const messages = collect(snorky.services.pubsub, "message");
  await snorky.services.pubsub.subscribe({ channel: "secure" });
  await backendOf(server).call("pubsub_backend", "publish", { channel: "secure", message: "x".repeat(100000) });
  await snorky.services.pubsub.publish({ channel: "secure", message: "from the client" });
  await eventually(() => messages.length === 2, 5000, "both publications");
  assert.equal(messages[0].message.length, 100000);
  assert.equal(messages[1].message, "from the client");
  snorky.close();
});

test("without the certificate trusted the connection is refused by the client", async () => {
  const socket = new WebSocket(wssUrl());
  const error = await new Promise((resolve) => socket.once("error", resolve));
  assert.match(String(error.message), /self[- ]signed|unable to verify|certificate/i);
});
