import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Auth, Chat, Messaging, Cursors, SnorkyError } from "../../src/index.js";
import { listenersToml, identityToml, chatToml, messagingToml, cursorsToml, startOrSkip, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

const servers = [];
after(async () => Promise.all(servers.map((s) => s.dispose())));

async function start(t, toml) {
  const server = await startOrSkip(t, listenersToml() + identityToml + toml);
  if (server) servers.push(server);
  return server;
}

async function login(server, services, identity) {
  const snorky = await connectClient(server, { auth: Auth, ...services });
  const token = await backendOf(server).call("auth_backend", "mintToken", { identity });
  assert.equal(typeof token, "string");
  assert.deepEqual(await snorky.services.auth.authenticate({ token }), identity);
  return snorky;
}

test("auth: a minted token gives the connection its identity; bad tokens are refused", async (t) => {
  const server = await start(t, "");
  if (!server) return;
  const snorky = await connectClient(server, { auth: Auth });
  const auth = snorky.services.auth;
  assert.equal(await auth.whoami(), null);
  await assert.rejects(auth.authenticate({ token: "not-a-token" }), (e) => e instanceof SnorkyError && e.message === "Invalid token");
  const token = await backendOf(server).call("auth_backend", "mintToken", { identity: { name: "ann" } });
  assert.deepEqual(await auth.authenticate({ token }), { name: "ann" });
  assert.deepEqual(auth.identity, { name: "ann" });
  assert.deepEqual(await auth.whoami(), { name: "ann" });
  await assert.rejects(backendOf(server).call("auth_backend", "mintToken", { identity: null }), { message: "Invalid identity" });
  snorky.close();
});

test("auth: a connect-time token (?token= from a URL function) identifies the connection", async (t) => {
  const server = await start(t, chatToml);
  if (!server) return;
  const minted = [];
  // Called before every connection attempt: a reconnect gets a fresh token.
  const url = async () => {
    const token = await backendOf(server).call("auth_backend", "mintToken", { identity: "carol", lifetime: 60 });
    minted.push(token);
    return `${server.wsUrl}?token=${encodeURIComponent(token)}`;
  };
  const snorky = await connectClient({ wsUrl: url }, { auth: Auth, chat: Chat });
  assert.equal(await snorky.services.auth.whoami(), "carol");
  assert.deepEqual(await snorky.services.chat.join({ channel: "c" }), { members: ["carol"] });
  const rejoined = snorky.services.chat.waitFor("rejoined");
  await server.restart();
  assert.deepEqual((await rejoined).members, ["carol"]);
  assert.equal(minted.length >= 2, true, "a fresh token for the reconnection");
  snorky.close();
});

test("chat: two users join, see presence, exchange messages, and leave", async (t) => {
  const server = await start(t, chatToml);
  if (!server) return;
  const anon = await connectClient(server, { chat: Chat });
  await assert.rejects(anon.services.chat.join({ channel: "lobby" }), { message: "Not authenticated" });
  anon.close();

  const ann = await login(server, { chat: Chat }, "ann");
  const bob = await login(server, { chat: Chat }, "bob");
  assert.deepEqual(await ann.services.chat.join({ channel: "lobby" }), { members: ["ann"] });
  const annPresence = collect(ann.services.chat, "presence");
  const annMessages = collect(ann.services.chat, "message");
  const bobMessages = collect(bob.services.chat, "message");
  const joined = await bob.services.chat.join({ channel: "lobby" });
  assert.deepEqual([...joined.members].sort(), ["ann", "bob"]);
  await eventually(() => annPresence.length === 1, 5000, "presence at ann");
  assert.equal(annPresence[0].from, "bob");
  assert.equal(annPresence[0].status, "joined");
  assert.deepEqual([...ann.services.chat.members("lobby")].sort(), ["ann", "bob"]);

  await bob.services.chat.send({ channel: "lobby", body: "hi ann" });
  await eventually(() => annMessages.length === 1 && bobMessages.length === 1, 5000, "the message at both");
  assert.equal(annMessages[0].from, "bob");
  assert.equal(annMessages[0].body, "hi ann");
  assert.match(annMessages[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*([+-]\d\d:\d\d|Z)$/);
  await assert.rejects(bob.services.chat.send({ channel: "elsewhere", body: "x" }), { message: "Not joined" });
  await assert.rejects(bob.services.chat.join({ channel: "lobby" }), { message: "Already joined" });

  bob.close();
  await eventually(() => annPresence.length === 2, 5000, "bob's departure");
  assert.equal(annPresence[1].status, "left");
  assert.deepEqual(ann.services.chat.members("lobby"), ["ann"]);
  ann.close();
});

test("chat: after the server restarts, auth and channels are restored", async (t) => {
  const server = await start(t, chatToml);
  if (!server) return;
  const ann = await login(server, { chat: Chat }, "ann");
  await ann.services.chat.join({ channel: "lobby" });
  const rejoinedEvent = ann.services.chat.waitFor("rejoined");
  await server.restart();
  const rejoined = await rejoinedEvent;
  assert.deepEqual(rejoined.members, ["ann"]);
  const got = collect(ann.services.chat, "message");
  await ann.services.chat.send({ channel: "lobby", body: "back" });
  await eventually(() => got.length === 1, 5000, "own message after restart");
  ann.close();
});

test("messaging: named participants exchange direct messages", async (t) => {
  const server = await start(t, messagingToml);
  if (!server) return;
  const a = await connectClient(server, { messaging: Messaging });
  const b = await connectClient(server, { messaging: Messaging });
  await a.services.messaging.registerParticipant({ name: "alice" });
  await b.services.messaging.registerParticipant({ name: "bob" });
  await assert.rejects(b.services.messaging.registerParticipant({ name: "alice" }), { message: "Name already registered" });
  assert.deepEqual(await a.services.messaging.listParticipants(), ["alice", "bob"]);
  const inbox = collect(b.services.messaging, "message");
  await a.services.messaging.send({ sender: "alice", dest: "bob", body: { text: "psst" } });
  await eventually(() => inbox.length === 1, 5000, "the direct message");
  assert.deepEqual(inbox[0], { type: "message", sender: "alice", dest: "bob", body: { text: "psst" } });
  await assert.rejects(a.services.messaging.send({ sender: "bob", dest: "alice", body: 1 }), { message: "Invalid sender" });
  await assert.rejects(a.services.messaging.send({ sender: "alice", dest: "zed", body: 1 }), { message: "Unknown destination" });
  a.close();
  b.close();
});

test("cursors: own and foreign cursors in a document", async (t) => {
  const server = await start(t, cursorsToml);
  if (!server) return;
  const ann = await login(server, { cursors: Cursors }, "ann");
  const bob = await login(server, { cursors: Cursors }, "bob");
  assert.deepEqual(await ann.services.cursors.join({ document: "doc" }), { cursors: [] });
  const handle = await ann.services.cursors.createCursor({ document: "doc", position: { line: 1 }, status: "editing" });
  assert.equal(typeof handle, "number");
  const joined = await bob.services.cursors.join({ document: "doc" });
  assert.deepEqual(joined.cursors, [{ publicHandle: handle, document: "doc", position: { line: 1 }, status: "editing", owner: "ann" }]);
  const bobEvents = collect(bob.services.cursors, "cursorUpdated");
  await ann.services.cursors.updateCursor({ privateHandle: 1, newData: { position: { line: 2 } } });
  await eventually(() => bobEvents.length === 1, 5000, "cursorUpdated at bob");
  assert.deepEqual(bob.services.cursors.foreignCursors("doc")[0].position, { line: 2 });
  await assert.rejects(ann.services.cursors.removeCursor({ privateHandle: 42 }), { message: "No such cursor" });
  ann.close();
  await eventually(() => bob.services.cursors.foreignCursors("doc").length === 0, 5000, "cursorRemoved at bob");
  bob.close();
});
