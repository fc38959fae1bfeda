import { test, after } from "node:test";
import assert from "node:assert/strict";
import { PubSub, TransportError } from "../../src/index.js";
import { SnorkyServer, listenersToml, pubsubToml, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

let server;
after(async () => server?.dispose());

test("after the server restarts the client reconnects and is subscribed again", async () => {
  server = await SnorkyServer.start(listenersToml() + pubsubToml);
  const snorky = await connectClient(server, { pubsub: PubSub });
  const pubsub = snorky.services.pubsub;
  const messages = collect(pubsub, "message");
  const events = [];
  snorky.on("disconnected", (e) => events.push(`disconnected willReconnect=${e.willReconnect}`));
  snorky.on("connected", (e) => events.push(`connected reconnect=${e.reconnect}`));
  await pubsub.subscribe({ channel: "news" });
  await backendOf(server).call("pubsub_backend", "publish", { channel: "news", message: "before" });
  await eventually(() => messages.length === 1, 5000, "first message");

  await server.kill();
  await eventually(() => !snorky.isConnected, 5000, "the client to notice");
  // While the server is down, calls are queued.
  const queued = pubsub.publish({ channel: "news", message: "queued while down" });
  await server.restart();
  await eventually(() => snorky.isConnected, 10000, "the reconnection");
  assert.equal(await queued, null);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "news", message: "after" });
  await eventually(() => messages.some((m) => m.message === "after"), 5000, "message after restart");
  assert.deepEqual(messages.map((m) => m.message), ["before", "queued while down", "after"]);
  assert.deepEqual(events, ["disconnected willReconnect=true", "connected reconnect=true"]);
  snorky.close();
});

test("a call in flight when the server dies is rejected, not left hanging", async () => {
  if (!server) server = await SnorkyServer.start(listenersToml() + pubsubToml);
  const snorky = await connectClient(server, { pubsub: PubSub }, { reconnect: false });
  await server.pause();
  const call = snorky.services.pubsub.subscribe({ channel: "x" }); // written, never answered
  const rejected = assert.rejects(call, TransportError); // attached now: the close may come first
  await server.kill();
  await rejected;
  snorky.close();
  await server.restart();
});
