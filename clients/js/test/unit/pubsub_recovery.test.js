import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { PubSub } from "../../src/index.js";
import { FakeWebSocket, flush, openFake, reconnectFake as reconnect } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

const open = (pubsub) => openFake({ pubsub });

const live = (message, offset) => ({ type: "message", channel: "news", message, offset });

async function subscribed(events = []) {
  const pubsub = new PubSub({ recover: true });
  const snorky = open(pubsub);
  for (const name of ["message", "recovered", "recoveryFailed"]) pubsub.on(name, (e) => events.push([name, e]));
  const socket = FakeWebSocket.last;
  const sub = pubsub.subscribe({ channel: "news" });
  // The answer and a live message in the same tick: the message waits for the answer.
  socket.respond("pubsub", { offset: 2, epoch: "E" });
  socket.serverSend("pubsub", live("c", 3));
  await sub;
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "news", recover: true });
  return { snorky, pubsub, events };
}

test("recover: the position follows the messages and a reconnect sends since", async () => {
  const { snorky, pubsub, events } = await subscribed();
  assert.deepEqual(events, [["message", live("c", 3)]]);
  assert.deepEqual(pubsub.position("news"), { offset: 3, epoch: "E" });
  const socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "news", since: { offset: 3, epoch: "E" } });
  snorky.close();
});

test("replayed messages come first, once; live ones held meanwhile follow without duplicates", async () => {
  const { snorky, pubsub, events } = await subscribed();
  events.length = 0;
  const socket = await reconnect();
  // A live message that is also in the replay, and one after it, before the answer is handled.
  socket.respond("pubsub", {
    recovered: true,
    publications: [{ offset: 4, message: "d" }, { offset: 5, message: "e" }],
    offset: 5,
    epoch: "E",
  });
  socket.serverSend("pubsub", live("e", 5));
  socket.serverSend("pubsub", live("f", 6));
  await flush();
  assert.deepEqual(events, [
    ["message", live("d", 4)],
    ["message", live("e", 5)],
    ["recovered", { channel: "news", count: 2 }],
    ["message", live("f", 6)],
  ]);
  assert.deepEqual(pubsub.position("news"), { offset: 6, epoch: "E" });
  snorky.close();
});

test("recovered: false or a server without history is recoveryFailed", async () => {
  const { snorky, pubsub, events } = await subscribed();
  events.length = 0;
  let socket = await reconnect();
  socket.respond("pubsub", { recovered: false, offset: 0, epoch: "F" });
  await flush();
  assert.deepEqual(events, [["recoveryFailed", { channel: "news" }]]);
  assert.deepEqual(pubsub.position("news"), { offset: 0, epoch: "F" });
  socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params.since, { offset: 0, epoch: "F" });
  socket.respond("pubsub", null);
  await flush();
  assert.deepEqual(events.at(-1), ["recoveryFailed", { channel: "news" }]);
  assert.equal(pubsub.position("news"), null);
  socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "news", recover: true });
  // Without a position to ask from, a reconnect cannot know what it missed.
  socket.respond("pubsub", { offset: 7, epoch: "G" });
  await flush();
  assert.deepEqual(events.filter(([name]) => name === "recoveryFailed").length, 3);
  assert.deepEqual(pubsub.position("news"), { offset: 7, epoch: "G" });
  snorky.close();
});

test("without recover nothing new is sent", async () => {
  const pubsub = new PubSub();
  const snorky = open(pubsub);
  const socket = FakeWebSocket.last;
  const sub = pubsub.subscribe({ channel: "news" });
  socket.respond("pubsub", null);
  assert.equal(await sub, null);
  const again = await reconnect();
  assert.deepEqual(again.sent.at(-1).message.params, { channel: "news" });
  assert.equal(pubsub.position("news"), null);
  snorky.close();
});
