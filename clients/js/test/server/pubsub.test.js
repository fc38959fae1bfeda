import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { Snorky, PubSub, SnorkyError } from "../../src/index.js";
import { SnorkyServer, listenersToml, pubsubToml, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

let server;
before(async () => {
  server = await SnorkyServer.start(listenersToml() + pubsubToml);
});
after(async () => server?.dispose());

test("a backend publication reaches a subscribed client", async () => {
  const snorky = await connectClient(server, { pubsub: PubSub });
  const messages = collect(snorky.services.pubsub, "message");
  assert.equal(await snorky.services.pubsub.subscribe({ channel: "announcements" }), null);
  assert.equal(await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: { text: "hello" } }), null);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "other", message: "not for us" });
  await eventually(() => messages.length >= 1, 5000, "the publication");
  assert.deepEqual(messages, [{ type: "message", channel: "announcements", message: { text: "hello" } }]);
  snorky.close();
});

test("RPC errors carry the server's text", async () => {
  const snorky = await connectClient(server, { pubsub: PubSub });
  const pubsub = snorky.services.pubsub;
  await pubsub.subscribe({ channel: "c" });
  await assert.rejects(pubsub.subscribe({ channel: "c" }), (e) => e instanceof SnorkyError && e.message === "Already subscribed");
  await assert.rejects(pubsub.unsubscribe({ channel: "nope" }), { message: "Not subscribed" });
  await assert.rejects(pubsub.call("noSuchCommand", {}), { message: "Unknown command" });
  await assert.rejects(pubsub.call("subscribe", { channel: "c", extra: 1 }), { message: "Invalid params" });
  snorky.close();
});

test("messages sent before the socket opens are queued and delivered", async () => {
  const snorky = new Snorky(server.wsUrl, { pubsub: PubSub }, { WebSocket });
  assert.equal(snorky.isConnected, false);
  const messages = collect(snorky.services.pubsub, "message");
  // Both calls are made before the connection exists; order is kept.
  const subscribed = snorky.services.pubsub.subscribe({ channel: { room: 7 } });
  const published = snorky.services.pubsub.publish({ channel: { room: 7 }, message: "queued" });
  assert.equal(await subscribed, null);
  assert.equal(await published, null);
  await eventually(() => messages.length === 1, 5000, "own publication");
  assert.deepEqual(messages[0].channel, { room: 7 });
  assert.equal(messages[0].message, "queued");
  snorky.close();
});

test("two clients: publisher and subscriber", async () => {
  const a = await connectClient(server, { pubsub: PubSub });
  const b = await connectClient(server, { pubsub: PubSub });
  const got = collect(b.services.pubsub, "message");
  await b.services.pubsub.subscribe({ channel: "room" });
  await a.services.pubsub.publish({ channel: "room", message: 1 });
  await eventually(() => got.length === 1, 5000, "message at b");
  await b.services.pubsub.unsubscribe({ channel: "room" });
  await a.services.pubsub.publish({ channel: "room", message: 2 });
  // Round-trip on b's socket: a publication to b would have arrived before this answer.
  await assert.rejects(b.services.pubsub.unsubscribe({ channel: "room" }), { message: "Not subscribed" });
  assert.deepEqual(got.map((m) => m.message), [1]);
  a.close();
  b.close();
});
