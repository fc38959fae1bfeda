import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Snorky, PubSub, RpcService, SnorkyError, TransportError } from "../../src/index.js";
import { FakeWebSocket, flush } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

function connect(services = { pubsub: PubSub }, options = {}) {
  return new Snorky("ws://example/ws", services, { WebSocket: FakeWebSocket, random: () => 0, ...options });
}

test("queues messages until the socket opens, then sends them in order", async () => {
  const snorky = connect();
  const pubsub = snorky.services.pubsub;
  const calls = [pubsub.publish({ channel: "a", message: 1 }), pubsub.publish({ channel: "a", message: 2 })];
  const socket = FakeWebSocket.last;
  assert.equal(socket.url, "ws://example/ws");
  assert.deepEqual(socket.sent, []);
  socket.serverOpen();
  assert.deepEqual(
    socket.sent.map((e) => [e.service, e.message.command, e.message.params.message]),
    [
      ["pubsub", "publish", 1],
      ["pubsub", "publish", 2],
    ],
  );
  assert.notEqual(socket.sent[0].message.callId, socket.sent[1].message.callId);
  snorky.close();
  for (const call of calls) await assert.rejects(call, TransportError);
});

test("emits connected and disconnected", async () => {
  const snorky = connect({}, { reconnect: false });
  const events = [];
  snorky.on("connected", (e) => events.push(["connected", e.reconnect]));
  snorky.on("disconnected", (e) => events.push(["disconnected", e.code, e.willReconnect]));
  FakeWebSocket.last.serverOpen();
  assert.equal(snorky.isConnected, true);
  FakeWebSocket.last.serverClose(1001);
  assert.deepEqual(events, [
    ["connected", false],
    ["disconnected", 1001, false],
  ]);
  assert.equal(snorky.isConnected, false);
});

test("RPC resolves with data and rejects with the server's message", async () => {
  const snorky = connect();
  const socket = FakeWebSocket.last;
  socket.serverOpen();
  const ok = snorky.services.pubsub.call("listThings", { x: 1 });
  socket.respond("pubsub", ["a", "b"]);
  assert.deepEqual(await ok, ["a", "b"]);

  const bad = snorky.services.pubsub.subscribe({ channel: "c" });
  socket.fail("pubsub", "Already subscribed");
  await assert.rejects(bad, (error) => {
    assert.ok(error instanceof SnorkyError);
    assert.equal(error.message, "Already subscribed");
    assert.equal(error.command, "subscribe");
    return true;
  });
  // The failed subscribe was not recorded as a subscription.
  assert.deepEqual(snorky.services.pubsub.channels, []);
  snorky.close();
});

test("answers are matched by callId, not by order", async () => {
  const snorky = connect();
  const socket = FakeWebSocket.last;
  socket.serverOpen();
  const first = snorky.services.pubsub.call("a", {});
  const second = snorky.services.pubsub.call("b", {});
  const [a, b] = socket.sent.map((e) => e.message.callId);
  socket.serverSend("pubsub", { type: "response", callId: b, data: "B" });
  socket.serverSend("pubsub", { type: "response", callId: a, data: "A" });
  assert.deepEqual(await Promise.all([first, second]), ["A", "B"]);
  snorky.close();
});

test("a reply without data resolves null; junk from the server is ignored", async () => {
  const snorky = connect();
  const socket = FakeWebSocket.last;
  socket.serverOpen();
  const p = snorky.services.pubsub.call("x", {});
  socket.serverSendRaw("not json");
  socket.serverSendRaw("42");
  socket.serverSend("nosuchservice", { type: "response", callId: 1, data: "wrong" });
  socket.serverSend("pubsub", { type: "response", callId: 1 });
  assert.equal(await p, null);
  snorky.close();
});

test("notifications are dispatched as events named after their type", () => {
  const snorky = connect();
  const socket = FakeWebSocket.last;
  socket.serverOpen();
  const got = [];
  snorky.services.pubsub.on("message", (m) => got.push(m));
  socket.serverSend("pubsub", { type: "message", channel: "news", message: { text: "hi" } });
  assert.deepEqual(got, [{ type: "message", channel: "news", message: { text: "hi" } }]);
  snorky.close();
});

test("a call in flight when the connection drops is rejected with TransportError; a queued one survives", async () => {
  const snorky = connect();
  let socket = FakeWebSocket.last;
  socket.serverOpen();
  const inFlight = snorky.services.pubsub.call("x", {});
  socket.serverClose();
  await assert.rejects(inFlight, TransportError);
  const queued = snorky.services.pubsub.call("y", {});
  await new Promise((resolve) => setTimeout(resolve, 600)); // first retry after initialDelay
  socket = FakeWebSocket.last;
  assert.equal(FakeWebSocket.instances.length, 2);
  socket.serverOpen();
  assert.equal(socket.sent[0].message.command, "y");
  socket.respond("pubsub", 7);
  assert.equal(await queued, 7);
  snorky.close();
});

test("close() rejects queued calls and stops reconnecting", async () => {
  const snorky = connect();
  const queued = snorky.services.pubsub.call("x", {});
  snorky.close();
  await assert.rejects(queued, /Connection closed/);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(FakeWebSocket.last.closedWith.code, 1000);
  await assert.rejects(snorky.services.pubsub.call("y", {}), TransportError);
});

test("the send queue is bounded", async () => {
  const snorky = connect(undefined, { maxQueuedMessages: 2 });
  const calls = [1, 2, 3].map((n) => snorky.services.pubsub.call("x", { n }));
  await assert.rejects(calls[2], /Send queue full/);
  FakeWebSocket.last.serverOpen();
  assert.deepEqual(FakeWebSocket.last.sent.map((e) => e.message.params.n), [1, 2]);
  snorky.close();
  // Written calls whose answer can no longer come are rejected, not left hanging.
  await assert.rejects(calls[0], /Connection lost/);
  await assert.rejects(calls[1], /Connection lost/);
});

test("accepts the original argument order (WebSocket class first)", () => {
  const snorky = new Snorky(FakeWebSocket, "ws://old/ws", { pubsub: PubSub }, false);
  assert.equal(FakeWebSocket.last.url, "ws://old/ws");
  assert.ok(snorky.services.pubsub instanceof PubSub);
  snorky.close();
});

test("the url may be a function (e.g. to put a fresh token in it)", async () => {
  let n = 0;
  const s2 = new Snorky(() => `ws://h/ws?token=t${++n}`, {}, { WebSocket: FakeWebSocket, random: () => 0 });
  assert.equal(FakeWebSocket.last.url, "ws://h/ws?token=t1");
  FakeWebSocket.last.serverOpen();
  FakeWebSocket.last.serverClose();
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal(FakeWebSocket.last.url, "ws://h/ws?token=t2");
  s2.close();
  // An async function works too.
  const s3 = new Snorky(async () => "ws://h/async", {}, { WebSocket: FakeWebSocket });
  await flush();
  assert.equal(FakeWebSocket.last.url, "ws://h/async");
  s3.close();
});

test("custom connectors subclass RpcService", async () => {
  class Echo extends RpcService {
    echo(text) {
      return this.call("echo", { text });
    }
  }
  const snorky = connect({ echo: new Echo() });
  const socket = FakeWebSocket.last;
  socket.serverOpen();
  const p = snorky.services.echo.echo("hey");
  assert.deepEqual(socket.lastTo("echo").message, { command: "echo", params: { text: "hey" }, callId: 1 });
  socket.respond("echo", "hey");
  assert.equal(await p, "hey");
  assert.throws(() => connect({ bad: {} }), /not a Snorky service connector/);
  snorky.close();
});

test("debug logs never show tokens", () => {
  const lines = [];
  const snorky = new Snorky("ws://h/ws?token=SECRET1&x=1", { pubsub: PubSub }, { WebSocket: FakeWebSocket, debug: (...a) => lines.push(a.join(" ")) });
  FakeWebSocket.last.serverOpen();
  snorky.services.pubsub.call("authenticate", { token: "SECRET2" }).catch(() => {});
  assert.ok(lines.some((line) => line.includes("?token=***&x=1")), lines.join("\n"));
  assert.ok(lines.some((line) => line.includes('"token":"***"')), lines.join("\n"));
  assert.ok(!lines.join("\n").includes("SECRET"), lines.join("\n"));
  assert.equal(FakeWebSocket.last.sent[0].message.params.token, "SECRET2", "only the log is redacted");
  snorky.close();
});

test("debug logging goes to the given function", () => {
  const lines = [];
  const snorky = connect({ pubsub: PubSub }, { debug: (...args) => lines.push(args.join(" ")) });
  FakeWebSocket.last.serverOpen();
  FakeWebSocket.last.serverSend("pubsub", { type: "message", channel: "c", message: 2 });
  assert.ok(lines.some((line) => line.startsWith("connecting to ws://example/ws")), lines.join("\n"));
  assert.ok(lines.some((line) => line.startsWith("recv") && line.includes('"message":2')), lines.join("\n"));
  snorky.close();
});
