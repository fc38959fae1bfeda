import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { PubSub } from "../../src/index.js";
import { SnorkyServer, listenersToml, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

// PubSub with history (docs/history.md): the connector recovers what a dropped
// connection missed, or says it could not.
const historyToml = `
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = true
history_size = 500
history_ttl = 60

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
`;

let server;
before(async () => {
  server = await SnorkyServer.start(listenersToml() + historyToml);
});
after(async () => server?.dispose());

// The test reconnects by hand (connect()) once the 100 are published.
const slowReconnect = { reconnect: { initialDelay: 60000, jitter: 0 } };

test("a dropped socket: the 100 missed messages come back in order, once, then live ones", async () => {
  const snorky = await connectClient(server, { pubsub: new PubSub({ recover: true }) }, slowReconnect);
  const pubsub = snorky.services.pubsub;
  const messages = collect(pubsub, "message");
  const recovered = collect(pubsub, "recovered");
  const failed = collect(pubsub, "recoveryFailed");
  const answer = await pubsub.subscribe({ channel: "news" });
  assert.equal(answer.offset, 0);
  assert.equal(typeof answer.epoch, "string");
  const backend = backendOf(server);
  await backend.call("pubsub_backend", "publish", { channel: "news", message: 0 });
  await eventually(() => messages.length === 1, 5000, "the first message");
  assert.deepEqual(pubsub.position("news"), { offset: 1, epoch: answer.epoch });

  snorky.socket.terminate(); // no close frame: as a network that just goes away
  await eventually(() => !snorky.isConnected, 5000, "the client to notice");
  for (let i = 1; i <= 100; i++) await backend.call("pubsub_backend", "publish", { channel: "news", message: i });
  snorky.connect();
  await eventually(() => recovered.length === 1, 10000, "the recovery");
  await backend.call("pubsub_backend", "publish", { channel: "news", message: "live" });
  await eventually(() => messages.some((m) => m.message === "live"), 5000, "the live message");
  const expected = [...Array(101).keys(), "live"];
  assert.deepEqual(messages.map((m) => m.message), expected);
  assert.deepEqual(messages.map((m) => m.offset), expected.map((_, i) => i + 1));
  assert.deepEqual(recovered[0].channel, "news");
  assert.equal(recovered[0].count, 100);
  assert.deepEqual(failed, []);
  snorky.close();
});

test("without recover the connector speaks the original protocol", async () => {
  const snorky = await connectClient(server, { pubsub: PubSub });
  const messages = collect(snorky.services.pubsub, "message");
  assert.equal(await snorky.services.pubsub.subscribe({ channel: "plain" }), null);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "plain", message: 1 });
  await eventually(() => messages.length === 1, 5000, "the message");
  assert.deepEqual(messages, [{ type: "message", channel: "plain", message: 1 }]);
  assert.equal(snorky.services.pubsub.position("plain"), null);
  snorky.close();
});

test("a server restart changes the epoch: recoveryFailed, then live messages", async () => {
  const snorky = await connectClient(server, { pubsub: PubSub }, { reconnect: { initialDelay: 100, jitter: 0 } });
  const pubsub = snorky.services.pubsub;
  const messages = collect(pubsub, "message");
  const failed = collect(pubsub, "recoveryFailed");
  const recovered = collect(pubsub, "recovered");
  await pubsub.subscribe({ channel: "restart", recover: true });
  await backendOf(server).call("pubsub_backend", "publish", { channel: "restart", message: "before" });
  await eventually(() => messages.length === 1, 5000, "the first message");
  await server.kill();
  await eventually(() => !snorky.isConnected, 5000, "the client to notice");
  await server.restart();
  await eventually(() => failed.length === 1, 10000, "recoveryFailed");
  assert.deepEqual(failed, [{ channel: "restart" }]);
  assert.deepEqual(recovered, []);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "restart", message: "after" });
  await eventually(() => messages.length === 2, 5000, "the live message");
  assert.equal(messages[1].message, "after");
  assert.equal(messages[1].offset, 1);
  snorky.close();
});
