import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { PubSub } from "../../src/index.js";
import { FakeWebSocket, flush, openFake, reconnectFake as reconnect } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

const open = (pubsub) => openFake({ pubsub });

test("an explicit token is sent, and no token key at all without one", async () => {
  const snorky = open(new PubSub());
  const pubsub = snorky.services.pubsub;
  const socket = FakeWebSocket.last;
  const a = pubsub.subscribe({ channel: "doc:1", token: "T1" });
  socket.respond("pubsub", null);
  await a;
  const b = pubsub.subscribe({ channel: "news" });
  socket.respond("pubsub", null);
  await b;
  assert.deepEqual(
    socket.sent.map((e) => e.message.params),
    [{ channel: "doc:1", token: "T1" }, { channel: "news" }],
  );
  snorky.close();
});

test("getToken is asked on subscribe and again, for a fresh token, after each reconnect", async () => {
  const asked = [];
  let issued = 0;
  const getToken = async (channel) => {
    asked.push(channel);
    return channel === "public" ? null : `T${++issued}`;
  };
  const snorky = open(new PubSub({ getToken }));
  const pubsub = snorky.services.pubsub;
  let socket = FakeWebSocket.last;
  for (const channel of ["doc:1", "public"]) {
    const sub = pubsub.subscribe({ channel });
    await flush();
    socket.respond("pubsub", null);
    await sub;
  }
  assert.deepEqual(socket.sent.map((e) => e.message.params), [{ channel: "doc:1", token: "T1" }, { channel: "public" }]);

  socket = await reconnect();
  const resubscribed = [];
  pubsub.on("resubscribed", (e) => resubscribed.push(e.channel));
  await flush();
  await flush();
  assert.deepEqual(socket.sent.map((e) => e.message.params), [{ channel: "doc:1", token: "T2" }, { channel: "public" }]);
  for (const request of socket.sent) socket.serverSend("pubsub", { type: "response", callId: request.message.callId, data: null });
  await flush();
  assert.deepEqual(resubscribed.sort(), ["doc:1", "public"]);
  assert.deepEqual(asked, ["doc:1", "public", "doc:1", "public"]);
  snorky.close();
});

test("a refused or failed re-subscribe is reported as restoreFailed", async () => {
  let fail = false;
  const snorky = open(new PubSub({ getToken: () => (fail ? Promise.reject(new Error("app down")) : "T") }));
  const pubsub = snorky.services.pubsub;
  const sub = pubsub.subscribe({ channel: "doc:1" });
  await flush();
  FakeWebSocket.last.respond("pubsub", null);
  await sub;
  fail = true;
  const failed = pubsub.waitFor("restoreFailed");
  await reconnect();
  const event = await failed;
  assert.equal(event.error.message, "app down");
  assert.deepEqual(event.params, { channel: "doc:1" });
  assert.equal(FakeWebSocket.last.sent.length, 0, "nothing sent without a token");

  fail = false;
  const refused = pubsub.waitFor("restoreFailed");
  const socket = await reconnect();
  await flush();
  socket.fail("pubsub", "Token expired");
  assert.equal((await refused).error.message, "Token expired");
  snorky.close();
});

test("a connection lost while getToken is pending re-subscribes once, with the newer token", async () => {
  const waiting = []; // resolvers of the getToken calls made by restores
  let first = true;
  const getToken = () => {
    if (first) {
      first = false;
      return "T0";
    }
    return new Promise((resolve) => waiting.push(resolve));
  };
  const snorky = open(new PubSub({ getToken }));
  const pubsub = snorky.services.pubsub;
  const sub = pubsub.subscribe({ channel: "doc:1" });
  await flush();
  FakeWebSocket.last.respond("pubsub", null);
  await sub;
  const failures = [];
  pubsub.on("restoreFailed", (e) => failures.push(e));

  await reconnect();
  await flush();
  assert.equal(waiting.length, 1, "the first restore asks for a token");
  const socket = await reconnect(); // lost again before the application answered
  await flush();
  assert.equal(waiting.length, 2);
  waiting[0]("stale");
  waiting[1]("fresh");
  await flush();
  await flush();
  assert.deepEqual(socket.sent.map((e) => e.message.params), [{ channel: "doc:1", token: "fresh" }]);
  socket.respond("pubsub", null);
  await flush();
  assert.deepEqual(failures, []);
  snorky.close();
});

test("a channel the server removed us from is forgotten and not re-subscribed", async () => {
  const snorky = open(new PubSub());
  const pubsub = snorky.services.pubsub;
  let socket = FakeWebSocket.last;
  for (const channel of ["a", "b"]) {
    const sub = pubsub.subscribe({ channel });
    socket.respond("pubsub", null);
    await sub;
  }
  const notice = pubsub.waitFor("unsubscribed");
  socket.serverSend("pubsub", { type: "unsubscribed", channel: "a", reason: "kicked" });
  assert.deepEqual(await notice, { type: "unsubscribed", channel: "a", reason: "kicked" });
  assert.deepEqual(pubsub.channels, ["b"]);
  socket = await reconnect();
  assert.deepEqual(socket.sent.map((e) => e.message.params), [{ channel: "b" }]);
  snorky.close();
});

test("getToken must be a function", () => {
  assert.throws(() => new PubSub({ getToken: "T" }), TypeError);
});
