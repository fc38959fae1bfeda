import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { Snorky, Chat, Cursors, DataSync, Messaging, DeltaProcessor, ArrayCollection } from "../../src/index.js";
import { FakeWebSocket } from "../support/fake_websocket.js";

beforeEach(() => FakeWebSocket.reset());

function open(services) {
  const snorky = new Snorky("ws://x/ws", services, { WebSocket: FakeWebSocket });
  FakeWebSocket.last.serverOpen();
  return [snorky, FakeWebSocket.last];
}

async function answered(socket, service, promise, data) {
  socket.respond(service, data);
  return promise;
}

test("Messaging sends the wire commands and dispatches messages", async () => {
  const [snorky, socket] = open({ messaging: Messaging });
  const m = snorky.services.messaging;
  await answered(socket, "messaging", m.registerParticipant({ name: "ann" }), null);
  assert.deepEqual(m.participants, ["ann"]);
  assert.deepEqual(await answered(socket, "messaging", m.listParticipants(), ["ann", "bob"]), ["ann", "bob"]);
  const sent = m.send({ sender: "ann", dest: "bob", body: { text: "hi" } });
  assert.deepEqual(socket.lastTo("messaging").message.params, { sender: "ann", dest: "bob", body: { text: "hi" } });
  socket.fail("messaging", "Unknown destination");
  await assert.rejects(sent, { name: "SnorkyError", message: "Unknown destination" });
  const got = m.waitFor("message");
  socket.serverSend("messaging", { type: "message", sender: "bob", dest: "ann", body: "yo" });
  assert.equal((await got).body, "yo");
  await answered(socket, "messaging", m.unregisterParticipant({ name: "ann" }), null);
  assert.deepEqual(m.participants, []);
  snorky.close();
});

test("Chat keeps each channel's members from the join answer and presence", async () => {
  const [snorky, socket] = open({ chat: Chat });
  const chat = snorky.services.chat;
  await answered(socket, "chat", chat.join({ channel: "lobby" }), { members: ["ann"] });
  const changes = [];
  chat.on("members", (e) => changes.push(e.members));
  const presence = (from, status) => socket.serverSend("chat", { type: "presence", from, channel: "lobby", status, timestamp: "2026-01-01T00:00:00+00:00" });
  presence("bob", "joined");
  presence("bob", "joined"); // a second device of bob: still one member
  presence("cy", "joined");
  presence("bob", "left");
  assert.deepEqual(chat.members("lobby"), ["ann", "cy"]);
  assert.deepEqual(changes, [["ann", "bob"], ["ann", "bob"], ["ann", "bob", "cy"], ["ann", "cy"]]);
  const messages = [];
  chat.on("message", (m) => messages.push(m.body));
  socket.serverSend("chat", { type: "message", from: "cy", channel: "lobby", body: "hello", timestamp: "t" });
  assert.deepEqual(messages, ["hello"]);
  await answered(socket, "chat", chat.send({ channel: "lobby", body: "hey" }), null);
  assert.deepEqual(socket.lastTo("chat").message.params, { channel: "lobby", body: "hey" });
  await answered(socket, "chat", chat.read({ channel: "lobby" }), null);
  await answered(socket, "chat", chat.leave({ channel: "lobby" }), null);
  assert.deepEqual(chat.channels, []);
  assert.deepEqual(chat.members("lobby"), []);
  snorky.close();
});

test("Cursors tracks foreign cursors per document and own cursors by private handle", async () => {
  const [snorky, socket] = open({ cursors: Cursors });
  const cursors = snorky.services.cursors;
  const bob1 = { publicHandle: 1, document: "d", position: 0, status: null, owner: "bob" };
  await answered(socket, "cursors", cursors.join({ document: "d" }), { cursors: [bob1] });
  assert.deepEqual(cursors.foreignCursors("d"), [bob1]);
  socket.serverSend("cursors", { type: "cursorAdded", cursor: { ...bob1, publicHandle: 2 } });
  socket.serverSend("cursors", { type: "cursorUpdated", cursor: { ...bob1, position: 9 } });
  socket.serverSend("cursors", { type: "cursorRemoved", cursor: { publicHandle: 2, document: "d" } });
  assert.deepEqual(cursors.foreignCursors("d"), [{ ...bob1, position: 9 }]);

  const handle = await answered(socket, "cursors", cursors.createCursor({ privateHandle: 7, document: "d", position: 1 }), 4242);
  assert.equal(handle, 4242);
  assert.deepEqual(socket.lastTo("cursors").message.params, { privateHandle: 7, document: "d", position: 1, status: null });
  await answered(socket, "cursors", cursors.updateCursor({ privateHandle: 7, newData: { position: 5 } }), null);
  assert.deepEqual(cursors.ownCursors("d"), [{ privateHandle: 7, publicHandle: 4242, document: "d", position: 5, status: null }]);
  const removal = cursors.removeCursor({ privateHandle: 8 });
  socket.fail("cursors", "No such cursor");
  await assert.rejects(removal, /No such cursor/);
  await answered(socket, "cursors", cursors.leave({ document: "d" }), null);
  assert.deepEqual(cursors.ownCursors(), []);
  assert.deepEqual(cursors.foreignCursors("d"), []);
  snorky.close();
});

test("DataSync feeds deltas to its processor and emits them", async () => {
  const todos = [];
  const processor = new DeltaProcessor({ collections: { todo: new ArrayCollection(todos, { key: "id" }) } });
  const [snorky, socket] = open({ datasync: new DataSync({ deltaProcessor: processor }) });
  const datasync = snorky.services.datasync;
  await answered(socket, "datasync", datasync.acquireSubscription({ token: "tok" }), null);
  const seen = [];
  datasync.on("delta", (d) => seen.push(d.type));
  socket.serverSend("datasync", { type: "delta", delta: { type: "insert", model: "todo", data: { id: 1, title: "a" } } });
  socket.serverSend("datasync", { type: "delta", delta: { type: "update", model: "todo", oldData: { id: 1, title: "a" }, newData: { id: 1, title: "b" } } });
  assert.deepEqual(todos, [{ id: 1, title: "b" }]);
  assert.deepEqual(seen, ["insert", "update"]);
  const cancel = datasync.cancelSubscription({ token: "nope" });
  socket.fail("datasync", "No such subscription");
  await assert.rejects(cancel, /No such subscription/);
  assert.deepEqual(datasync.subscriptions, ["tok"]);
  snorky.close();
});
