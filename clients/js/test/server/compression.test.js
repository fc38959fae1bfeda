// permessage-deflate (RFC 7692) between the real server and the `ws` package,
// which offers it by default: negotiation, compressed fan-out, compressed and
// fragmented inbound messages, the window a client asks for, and a bomb.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { SnorkyServer, listenersToml, pubsubToml, eventually } from "../support/server.js";
import { backendOf } from "../support/clients.js";

const withCompression = (options) => listenersToml().replace('path = "/ws"\n', `path = "/ws"\n${options}\n`);

let server, plain;
before(async () => {
  [server, plain] = await Promise.all([
    SnorkyServer.start(withCompression("compression = true\ncompression_threshold = 64\nmax_message_size = 65536") + pubsubToml),
    SnorkyServer.start(listenersToml() + pubsubToml),
  ]);
});
after(async () => Promise.all([server?.dispose(), plain?.dispose()]));

const AGREED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

async function open(srv, options = {}) {
  const ws = new WebSocket(srv.wsUrl, options);
  let agreed = "";  // the server's Sec-WebSocket-Extensions answer
  ws.once("upgrade", (response) => (agreed = response.headers["sec-websocket-extensions"] ?? ""));
  const messages = [];
  ws.on("message", (data) => messages.push(JSON.parse(String(data))));
  const closed = new Promise((resolve) => ws.once("close", (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, messages, closed, get agreed() { return agreed; } };
}

let callId = 0;
async function call(client, command, params) {
  const id = ++callId;
  client.ws.send(JSON.stringify({ service: "pubsub", message: { command, params, callId: id } }));
  const reply = await eventually(() => client.messages.find((m) => m.message?.callId === id), 5000, `reply to ${command}`);
  assert.equal(reply.message.type, "response", JSON.stringify(reply));
}

// A JSON publication of about `size` bytes, compressible as real data is.
function payload(size) {
  const rows = [];
  for (let i = 0; JSON.stringify(rows).length < size; i++) rows.push({ id: i, symbol: "ABC", price: 100 + (i % 7), open: true });
  return rows;
}

const received = (client) => client.ws._socket.bytesRead;

test("negotiated when offered, absent on a listener without compression", async () => {
  const a = await open(server);
  assert.equal(a.agreed, AGREED);
  assert.equal(a.ws.extensions, "permessage-deflate");
  const b = await open(plain);
  assert.equal(b.agreed, "");
  assert.equal(b.ws.extensions, "");
  // A client that does not offer it gets plain frames from a compressing listener.
  const c = await open(server, { perMessageDeflate: false });
  assert.equal(c.agreed, "");
  await call(c, "subscribe", { channel: "x" });
  for (const x of [a, b, c]) x.ws.close();
});

test("a publication reaches compressing and plain subscribers alike, fewer bytes for the former", async () => {
  const compressed = await open(server);
  const uncompressed = await open(server, { perMessageDeflate: false });
  await call(compressed, "subscribe", { channel: "prices" });
  await call(uncompressed, "subscribe", { channel: "prices" });
  const before = [received(compressed), received(uncompressed)];
  const rows = payload(2000);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "prices", message: rows });
  for (const client of [compressed, uncompressed])
    await eventually(() => client.messages.some((m) => m.message?.type === "message"), 5000, "the publication");
  for (const client of [compressed, uncompressed])
    assert.deepEqual(client.messages.find((m) => m.message?.type === "message").message.message, rows);
  const compressedBytes = received(compressed) - before[0];
  const plainBytes = received(uncompressed) - before[1];
  assert.ok(plainBytes > 2000, `plain: ${plainBytes} bytes`);
  assert.ok(compressedBytes * 3 < plainBytes, `compressed ${compressedBytes} vs plain ${plainBytes} bytes`);
  compressed.ws.close();
  uncompressed.ws.close();
});

test("compressed and fragmented compressed messages from the client are inflated", async () => {
  const sender = await open(server, { perMessageDeflate: { threshold: 0 } });
  await call(sender, "subscribe", { channel: "echo" });
  const big = payload(5000);
  // One compressed frame (ws compresses everything with threshold 0).
  sender.ws.send(JSON.stringify({ service: "pubsub", message: { command: "publish", params: { channel: "echo", message: big } } }));
  await eventually(() => sender.messages.some((m) => m.message?.type === "message"), 5000, "own publication");
  assert.deepEqual(sender.messages.find((m) => m.message?.type === "message").message.message, big);
  // The same message in three compressed fragments (RSV1 on the first only).
  const text = JSON.stringify({ service: "pubsub", message: { command: "publish", params: { channel: "echo", message: "fragmented" } } });
  const thirds = [text.slice(0, 20), text.slice(20, 60), text.slice(60)];
  sender.ws.send(thirds[0], { fin: false, compress: true });
  sender.ws.send(thirds[1], { fin: false, compress: true });
  sender.ws.send(thirds[2], { fin: true, compress: true });
  await eventually(() => sender.messages.some((m) => m.message?.message === "fragmented"), 5000, "fragmented publication");
  sender.ws.close();
});

test("a client's server_max_window_bits is honoured: larger messages go uncompressed", async () => {
  const small = await open(server, { perMessageDeflate: { serverMaxWindowBits: 10 } });
  assert.equal(small.agreed, `${AGREED}; server_max_window_bits=10`);
  await call(small, "subscribe", { channel: "w" });
  for (const size of [600, 3000]) {
    const rows = payload(size);
    const before = received(small);
    await backendOf(server).call("pubsub_backend", "publish", { channel: "w", message: rows });
    await eventually(() => small.messages.some((m) => m.message?.type === "message"), 5000, "the publication");
    const got = small.messages.splice(small.messages.findIndex((m) => m.message?.type === "message"), 1)[0];
    assert.deepEqual(got.message.message, rows);
    const bytes = received(small) - before;
    const serialized = JSON.stringify(rows).length;
    // Within the 1 KB window: compressed; over it: sent as it is.
    if (size === 600) assert.ok(bytes < serialized, `${bytes} bytes for ${serialized}`);
    else assert.ok(bytes > serialized, `${bytes} bytes for ${serialized}`);
  }
  small.ws.close();
});

test("a small compressed frame that inflates past max_message_size is closed with 1009", async () => {
  const bomber = await open(server, { perMessageDeflate: { threshold: 0 } });
  const bystander = await open(server);
  // 10 MB of one character: about 10 KB on the wire, 160 times the limit inflated.
  bomber.ws.send("a".repeat(10 * 1024 * 1024));
  assert.equal(await bomber.closed, 1009);
  await call(bystander, "subscribe", { channel: "still-here" });
  bystander.ws.close();
});
