import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Chat } from "../../src/index.js";
import { FakeWebSocket, flush, openFake, reconnectFake as reconnect } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

const open = (chat) => openFake({ chat });

const message = (body, offset) => ({ type: "message", from: "bob", channel: "room", body, timestamp: "T", offset });
const presence = (from, status) => ({ type: "presence", from, channel: "room", status, timestamp: "T" });

async function joined(params = { channel: "room", history: 2 }, options = {}) {
  const events = [];
  const chat = new Chat(options);
  const snorky = open(chat);
  for (const name of ["message", "recovered", "recoveryFailed"]) chat.on(name, (e) => events.push([name, e]));
  const socket = FakeWebSocket.last;
  const join = chat.join(params);
  // The answer and a live message (already listed) and a newer one in the same tick.
  socket.respond("chat", {
    members: ["alice", "bob"],
    messages: [message("a", 4), message("b", 5)],
    offset: 5,
    epoch: "E",
  });
  socket.serverSend("chat", message("b", 5));
  socket.serverSend("chat", message("c", 6));
  const data = await join;
  return { snorky, chat, events, socket, data };
}

test("join with history: the listed messages first, then live ones, each once", async () => {
  const { snorky, chat, events, socket, data } = await joined();
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "room", history: 2 });
  assert.deepEqual(data.messages, [message("a", 4), message("b", 5)]);
  assert.deepEqual(events, [
    ["message", message("a", 4)],
    ["message", message("b", 5)],
    ["message", message("c", 6)],
  ]);
  assert.deepEqual(chat.position("room"), { offset: 6, epoch: "E" });
  assert.deepEqual(chat.members("room"), ["alice", "bob"]);
  snorky.close();
});

test("a reconnect rejoins with since: missed messages, recovered, then held live ones", async () => {
  const { snorky, chat, events } = await joined();
  events.length = 0;
  const socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "room", since: { offset: 6, epoch: "E" } });
  socket.respond("chat", {
    members: ["alice"],
    recovered: true,
    messages: [message("d", 7), message("e", 8)],
    offset: 8,
    epoch: "E",
  });
  socket.serverSend("chat", message("e", 8));
  socket.serverSend("chat", presence("bob", "joined"));
  socket.serverSend("chat", message("f", 9));
  await flush();
  assert.deepEqual(events, [
    ["message", message("d", 7)],
    ["message", message("e", 8)],
    ["recovered", { channel: "room", count: 2 }],
    ["message", message("f", 9)],
  ]);
  assert.deepEqual(chat.position("room"), { offset: 9, epoch: "E" });
  assert.deepEqual(chat.members("room"), ["alice", "bob"]);
  snorky.close();
});

test("recovered: false, or a server without history, is recoveryFailed", async () => {
  const { snorky, chat, events } = await joined();
  events.length = 0;
  let socket = await reconnect();
  socket.respond("chat", { members: [], recovered: false, offset: 0, epoch: "F" });
  await flush();
  assert.deepEqual(events, [["recoveryFailed", { channel: "room" }]]);
  assert.deepEqual(chat.position("room"), { offset: 0, epoch: "F" });
  socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params.since, { offset: 0, epoch: "F" });
  socket.respond("chat", { members: [] });
  await flush();
  assert.equal(events.filter(([name]) => name === "recoveryFailed").length, 2);
  assert.equal(chat.position("room"), null);
  socket = await reconnect();
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "room", recover: true });
  snorky.close();
});

test("Chat({recover: true}) asks for offsets only; a plain join is the original protocol", async () => {
  const { snorky, socket } = await joined({ channel: "room" }, { recover: true });
  assert.deepEqual(socket.sent.at(-1).message.params, { channel: "room", recover: true });
  snorky.close();
  FakeWebSocket.reset();
  const chat = new Chat();
  const plain = open(chat);
  const join = chat.join({ channel: "room" });
  FakeWebSocket.last.respond("chat", { members: ["alice"] });
  assert.deepEqual(await join, { members: ["alice"] });
  assert.deepEqual(FakeWebSocket.last.sent.at(-1).message.params, { channel: "room" });
  assert.equal(chat.position("room"), null);
  const again = await reconnect();
  assert.deepEqual(again.sent.at(-1).message.params, { channel: "room" });
  plain.close();
});

test("a refused join holds nothing back", async () => {
  const chat = new Chat();
  const snorky = open(chat);
  const seen = [];
  chat.on("message", (m) => seen.push(m));
  const join = chat.join({ channel: "room", history: -1 });
  FakeWebSocket.last.fail("chat", "Invalid params");
  await assert.rejects(join, /Invalid params/);
  FakeWebSocket.last.serverSend("chat", message("x"));
  assert.equal(seen.length, 1);
  snorky.close();
});
