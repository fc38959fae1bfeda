import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Auth, Chat } from "../../src/index.js";
import { SnorkyServer, listenersToml, identityToml, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

// Chat with history (docs/history.md): a join shows the last messages, and the
// connector recovers what a dropped connection missed, or says it could not.
const chatHistoryToml = `
[[service]]
name = "chat"
type = "chat"
registry = "frontend"
history_size = 200
history_ttl = 60
`;

let server;
before(async () => {
  server = await SnorkyServer.start(listenersToml() + identityToml + chatHistoryToml);
});
after(async () => server?.dispose());

async function login(identity, chat, options) {
  const snorky = await connectClient(server, { auth: Auth, chat }, options);
  const token = await backendOf(server).call("auth_backend", "mintToken", { identity });
  await snorky.services.auth.authenticate({ token });
  return snorky;
}

test("join with history: the last messages in the answer and as events, then live ones", async () => {
  const bob = await login("bob", Chat);
  await bob.services.chat.join({ channel: "lobby" });
  for (let i = 1; i <= 5; i++) await bob.services.chat.send({ channel: "lobby", body: `m${i}` });
  const alice = await login("alice", Chat);
  const messages = collect(alice.services.chat, "message");
  const data = await alice.services.chat.join({ channel: "lobby", history: 3 });
  assert.deepEqual(data.members, ["alice", "bob"]);
  assert.deepEqual(data.messages.map((m) => [m.offset, m.body, m.from]), [
    [3, "m3", "bob"],
    [4, "m4", "bob"],
    [5, "m5", "bob"],
  ]);
  await bob.services.chat.send({ channel: "lobby", body: "live" });
  await eventually(() => messages.length === 4, 5000, "the live message");
  assert.deepEqual(messages.map((m) => m.body), ["m3", "m4", "m5", "live"]);
  assert.deepEqual(alice.services.chat.position("lobby"), { offset: 6, epoch: data.epoch });
  alice.close();
  bob.close();
});

test("a dropped socket: the missed messages come back in order, once, then live ones", async () => {
  const bob = await login("bob", Chat);
  await bob.services.chat.join({ channel: "room" });
  // The test reconnects by hand (connect()) once the messages are sent.
  const alice = await login("alice", new Chat({ recover: true }), { reconnect: { initialDelay: 60000, jitter: 0 } });
  const chat = alice.services.chat;
  const messages = collect(chat, "message");
  const recovered = collect(chat, "recovered");
  const failed = collect(chat, "recoveryFailed");
  const answer = await chat.join({ channel: "room" });
  assert.equal(answer.offset, 0);
  await bob.services.chat.send({ channel: "room", body: 0 });
  await eventually(() => messages.length === 1, 5000, "the first message");

  alice.socket.terminate(); // no close frame: as a network that just goes away
  await eventually(() => !alice.isConnected, 5000, "the client to notice");
  for (let i = 1; i <= 50; i++) await bob.services.chat.send({ channel: "room", body: i });
  alice.connect();
  await eventually(() => recovered.length === 1, 10000, "the recovery");
  await bob.services.chat.send({ channel: "room", body: "live" });
  await eventually(() => messages.some((m) => m.body === "live"), 5000, "the live message");
  const expected = [...Array(51).keys(), "live"];
  assert.deepEqual(messages.map((m) => m.body), expected);
  assert.deepEqual(messages.map((m) => m.offset), expected.map((_, i) => i + 1));
  assert.equal(recovered[0].count, 50);
  assert.deepEqual(failed, []);
  alice.close();
  bob.close();
});

test("a server restart changes the epoch: recoveryFailed, then live messages", async () => {
  const alice = await login("alice", new Chat({ recover: true }), { reconnect: { initialDelay: 100, jitter: 0 } });
  const chat = alice.services.chat;
  const failed = collect(chat, "recoveryFailed");
  const messages = collect(chat, "message");
  await chat.join({ channel: "restart" });
  await chat.send({ channel: "restart", body: "before" });
  await eventually(() => messages.length === 1, 5000, "the first message");
  const rejoined = chat.waitFor("rejoined");
  await server.restart();
  await rejoined;
  assert.deepEqual(failed, [{ channel: "restart" }]);
  await chat.send({ channel: "restart", body: "after" });
  await eventually(() => messages.length === 2, 5000, "the live message");
  assert.equal(messages[1].offset, 1);
  alice.close();
});
