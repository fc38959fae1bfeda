import { test, after } from "node:test";
import assert from "node:assert/strict";
import { PubSub } from "../../src/index.js";
import { SnorkyServer, listenersToml, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

// A PubSub whose doc: channels need a token from the application.
const privateToml = `
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = false
token_secret = "js-test-token-secret-0123456789abcdef"

[[service.namespace]]
prefix = "doc:"
subscribe = "token"

[[service.namespace]]
subscribe = "public"

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
`;

let server;
after(async () => server?.dispose());

test("getToken gets a fresh token from the application on subscribe and after a server restart", async () => {
  server = await SnorkyServer.start(listenersToml() + privateToml);
  const issued = [];
  // Plays the application: asks Snorky's backend for a short-lived token.
  const getToken = async (channel) => {
    if (!String(channel).startsWith("doc:")) return null;
    const token = await backendOf(server).call("pubsub_backend", "authorizeSubscription", { channels: [channel], lifetime: 60 });
    issued.push(token);
    return token;
  };
  const snorky = await connectClient(server, { pubsub: new PubSub({ getToken }) });
  try {
    const pubsub = snorky.services.pubsub;
    const messages = collect(pubsub, "message");
    const resubscribed = collect(pubsub, "resubscribed"); // before the restart: it may be quick
    // Without a token (a raw call, bypassing getToken) the channel is refused.
    await assert.rejects(pubsub.call("subscribe", { channel: "doc:1" }), { message: "Not authorized" });
    assert.equal(await pubsub.subscribe({ channel: "doc:1" }), null);
    assert.equal(await pubsub.subscribe({ channel: "lobby" }), null);
    assert.equal(issued.length, 1);

    await server.kill();
    await eventually(() => !snorky.isConnected, 5000, "the client to notice");
    await server.restart();
    await eventually(() => resubscribed.length === 2, 10000, "both channels subscribed again");
    assert.equal(issued.length, 2, "a second token was fetched");
    await backendOf(server).call("pubsub_backend", "publish", { channel: "doc:1", message: "after restart" });
    await eventually(() => messages.length === 1, 5000, "the publication");
    assert.equal(messages[0].message, "after restart");
  } finally {
    snorky.close(); // a failure must not leave a reconnecting client holding the process open
  }
});

test("a token refused by the server and a removal by the backend reach the application", async (t) => {
  server ??= await SnorkyServer.start(listenersToml() + privateToml);
  const snorky = await connectClient(server, { pubsub: PubSub });
  t.after(() => snorky.close());
  const pubsub = snorky.services.pubsub;
  const backend = backendOf(server);
  const other = await backend.call("pubsub_backend", "authorizeSubscription", { channels: ["doc:2"] });
  await assert.rejects(pubsub.subscribe({ channel: "doc:1", token: other }), { message: "Not authorized" });
  await assert.rejects(pubsub.subscribe({ channel: "doc:1", token: "forged" }), { message: "Invalid token" });
  assert.equal(await pubsub.subscribe({ channel: "doc:2", token: other }), null);
  const removed = pubsub.waitFor("unsubscribed");
  await backend.call("pubsub_backend", "unsubscribe", { channel: "doc:2", reason: "access revoked" });
  assert.deepEqual(await removed, { type: "unsubscribed", channel: "doc:2", reason: "access revoked" });
  assert.deepEqual(pubsub.channels, []);
});
