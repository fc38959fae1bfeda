import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Snorky, CLOSE_NO_RECONNECT, PubSub, Chat, Cursors, DataSync, Auth, Messaging, backoffDelay } from "../../src/index.js";
import { FakeWebSocket, flush } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

const fastReconnect = { initialDelay: 1, maxDelay: 1, jitter: 0 };

async function reconnect(snorky) {
  const before = FakeWebSocket.instances.length;
  FakeWebSocket.last.serverClose(1006);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(FakeWebSocket.instances.length, before + 1, "a new socket was opened");
  FakeWebSocket.last.serverOpen();
  return FakeWebSocket.last;
}

test("backoff grows exponentially, is capped, and jitter only shortens it", () => {
  const o = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 };
  assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, o, () => 0)), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(backoffDelay(1, o, () => 0.999999), 100);
  assert.equal(backoffDelay(3, { ...o, jitter: 0 }, () => 0.9), 800);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(2, o);
    assert.ok(d >= 200 && d <= 400, String(d));
  }
});

test("reconnects with growing delays and resets them after a success", async () => {
  const delays = [];
  const snorky = new Snorky("ws://x/ws", {}, { WebSocket: FakeWebSocket, random: () => 0, reconnect: { initialDelay: 2, factor: 3, maxDelay: 50 } });
  snorky.on("reconnecting", (e) => delays.push([e.attempt, e.delay]));
  FakeWebSocket.last.serverClose(); // never opened
  await new Promise((resolve) => setTimeout(resolve, 10));
  FakeWebSocket.last.serverClose();
  await new Promise((resolve) => setTimeout(resolve, 15));
  FakeWebSocket.last.serverOpen();
  FakeWebSocket.last.serverClose();
  assert.deepEqual(delays, [
    [1, 2],
    [2, 6],
    [1, 2],
  ]);
  snorky.close();
});

test("gives up after maxAttempts and drops queued calls", async () => {
  const snorky = new Snorky("ws://x/ws", { pubsub: PubSub }, { WebSocket: FakeWebSocket, reconnect: { ...fastReconnect, maxAttempts: 1 } });
  const queued = snorky.services.pubsub.publish({ channel: "c", message: 1 });
  FakeWebSocket.last.serverClose();
  await new Promise((resolve) => setTimeout(resolve, 10));
  FakeWebSocket.last.serverClose();
  await assert.rejects(queued, /Connection lost/);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(FakeWebSocket.instances.length, 2);
  assert.equal(snorky.state, "disconnected");
});

test("PubSub channels are subscribed again after a reconnect, before queued messages", async () => {
  const snorky = new Snorky("ws://x/ws", { pubsub: PubSub }, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  const pubsub = snorky.services.pubsub;
  let socket = FakeWebSocket.last;
  socket.serverOpen();
  const sub = pubsub.subscribe({ channel: { room: 1, kind: "x" } });
  socket.respond("pubsub", null);
  await sub;
  const sub2 = pubsub.subscribe({ channel: "b" });
  socket.respond("pubsub", null);
  await sub2;
  const unsub = pubsub.unsubscribe({ channel: "b" });
  socket.respond("pubsub", null);
  await unsub;
  FakeWebSocket.last.serverClose();
  const publish = pubsub.publish({ channel: "a", message: "while offline" });
  await new Promise((resolve) => setTimeout(resolve, 10));
  socket = FakeWebSocket.last;
  socket.serverOpen();
  assert.deepEqual(
    socket.sent.map((e) => [e.message.command, e.message.params.channel]),
    [
      ["subscribe", { room: 1, kind: "x" }],
      ["publish", "a"],
    ],
  );
  const resubscribed = pubsub.waitFor("resubscribed");
  socket.serverSend("pubsub", { type: "response", callId: socket.sent[0].message.callId, data: null });
  assert.deepEqual(await resubscribed, { channel: { room: 1, kind: "x" } });
  socket.serverSend("pubsub", { type: "response", callId: socket.sent[1].message.callId, data: null });
  assert.equal(await publish, null);
  snorky.close();
});

test("a failed restore is reported as restoreFailed", async () => {
  const snorky = new Snorky("ws://x/ws", { pubsub: PubSub }, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  const pubsub = snorky.services.pubsub;
  FakeWebSocket.last.serverOpen();
  const sub = pubsub.subscribe({ channel: "c" });
  FakeWebSocket.last.respond("pubsub", null);
  await sub;
  const failed = pubsub.waitFor("restoreFailed");
  const socket = await reconnect(snorky);
  socket.fail("pubsub", "Too many channels");
  const event = await failed;
  assert.equal(event.command, "subscribe");
  assert.equal(event.error.message, "Too many channels");
  snorky.close();
});

test("auth is restored first, then chat channels and cursor documents are joined again", async () => {
  const snorky = new Snorky(
    "ws://x/ws",
    { chat: Chat, cursors: Cursors, auth: Auth, messaging: Messaging },
    { WebSocket: FakeWebSocket, reconnect: fastReconnect },
  );
  const { auth, chat, cursors, messaging } = snorky.services;
  let socket = FakeWebSocket.last;
  socket.serverOpen();
  const steps = [
    [() => auth.authenticate({ token: "tok" }), "auth", { name: "ann" }],
    [() => chat.join({ channel: "lobby" }), "chat", { members: [{ name: "ann" }, { name: "bob" }] }],
    [() => cursors.join({ document: "doc" }), "cursors", { cursors: [] }],
    [() => cursors.createCursor({ document: "doc", position: 3, status: "typing" }), "cursors", 77],
    [() => messaging.registerParticipant({ name: "ann" }), "messaging", null],
  ];
  for (const [start, service, data] of steps) {
    const promise = start();
    socket.respond(service, data);
    await promise;
  }
  assert.deepEqual(auth.identity, { name: "ann" });
  assert.deepEqual(cursors.ownCursors("doc")[0].publicHandle, 77);

  socket = await reconnect(snorky);
  assert.deepEqual(
    socket.sent.map((e) => [e.service, e.message.command]),
    [
      ["auth", "authenticate"],
      ["chat", "join"],
      ["cursors", "join"],
      ["cursors", "createCursor"],
      ["messaging", "registerParticipant"],
    ],
  );
  assert.deepEqual(socket.sent[0].message.params, { token: "tok" });
  assert.deepEqual(socket.sent[3].message.params, { privateHandle: 1, document: "doc", position: 3, status: "typing" });
  const rejoined = chat.waitFor("rejoined");
  const reply = (i, data) => socket.serverSend(socket.sent[i].service, { type: "response", callId: socket.sent[i].message.callId, data });
  reply(0, { name: "ann" });
  reply(1, { members: [{ name: "ann" }] });
  reply(2, { cursors: [{ publicHandle: 5, document: "doc", position: 0, status: null, owner: "bob" }] });
  reply(3, 99);
  reply(4, null);
  assert.deepEqual((await rejoined).members, [{ name: "ann" }]);
  await flush();
  assert.equal(cursors.ownCursors("doc")[0].publicHandle, 99);
  assert.deepEqual(cursors.foreignCursors("doc").map((c) => c.publicHandle), [5]);
  snorky.close();
});

test("an auth token refused on reconnect clears the identity and says so", async () => {
  const snorky = new Snorky("ws://x/ws", { auth: Auth }, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  const auth = snorky.services.auth;
  FakeWebSocket.last.serverOpen();
  const p = auth.authenticate({ token: "tok" });
  FakeWebSocket.last.respond("auth", "ann");
  assert.equal(await p, "ann");
  const failed = auth.waitFor("restoreFailed");
  const socket = await reconnect(snorky);
  socket.fail("auth", "Token expired");
  assert.equal((await failed).error.message, "Token expired");
  assert.equal(auth.identity, null);
  snorky.close();
});

test("DataSync tells the application its subscriptions were lost", async () => {
  const snorky = new Snorky("ws://x/ws", { datasync: DataSync }, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  const datasync = snorky.services.datasync;
  FakeWebSocket.last.serverOpen();
  const p = datasync.acquireSubscription({ token: "t1" });
  FakeWebSocket.last.respond("datasync", null);
  await p;
  assert.deepEqual(datasync.subscriptions, ["t1"]);
  const lost = datasync.waitFor("subscriptionsLost");
  const socket = await reconnect(snorky);
  assert.deepEqual(await lost, { tokens: ["t1"] });
  assert.deepEqual(socket.sent, [], "single-use tokens are not presented again");
  assert.deepEqual(datasync.subscriptions, []);
  snorky.close();
});

test("a server close with CLOSE_NO_RECONNECT (4001) ends the connection for good; 4000 reconnects", async () => {
  const snorky = new Snorky("ws://x/ws", {}, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  FakeWebSocket.last.serverOpen();
  const reconnected = snorky.waitFor("disconnected");
  FakeWebSocket.last.serverClose(4000, "Come back later");
  assert.deepEqual(await reconnected, { code: 4000, reason: "Come back later", willReconnect: true });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(FakeWebSocket.instances.length, 2, "4000: a new socket");
  FakeWebSocket.last.serverOpen();

  const ended = snorky.waitFor("disconnected");
  FakeWebSocket.last.serverClose(CLOSE_NO_RECONNECT, "Account suspended");
  assert.deepEqual(await ended, { code: 4001, reason: "Account suspended", willReconnect: false });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(FakeWebSocket.instances.length, 2, "4001: no new socket");
  assert.equal(snorky.state, "disconnected");
});
