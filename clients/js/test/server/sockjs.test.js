// The project's client over the real sockjs-client (npm) against a SockJS
// listener, each transport forced in turn: PubSub, Chat (presence when a
// SockJS session ends) and DataSync, then a server restart with reconnection.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import SockJS from "sockjs-client";
import { Snorky, Auth, PubSub, Chat, DataSync, DeltaProcessor, ArrayCollection } from "../../src/index.js";
import { listenersToml, identityToml, pubsubToml, chatToml, datasyncToml, startOrSkip, eventually } from "../support/server.js";
import { connectClient, backendOf, collect } from "../support/clients.js";

// The SockJS listener comes last: restart() gives the listeners back their ports in order.
const sockjsListener = `
[[listener]]
type = "sockjs"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/sockjs"
disconnect_delay = 1
`;

const servers = [];
after(async () => Promise.all(servers.map((s) => s.dispose())));

async function start(t) {
  const server = await startOrSkip(t, listenersToml() + sockjsListener + identityToml + pubsubToml + chatToml + datasyncToml);
  if (server) servers.push(server);
  return server;
}

const sockjsUrl = (server) => `http://127.0.0.1:${server.listener("sockjs").port}/sockjs`;

// A SockJS class limited to one transport (what `new SockJS(url, null, {transports})` does).
function forced(transport) {
  return class extends SockJS {
    constructor(url) {
      super(url, null, { transports: [transport] });
    }
  };
}

async function connected(snorky) {
  if (!snorky.isConnected) await snorky.waitFor("connected");
  return snorky;
}

async function login(snorky, server, identity) {
  const token = await backendOf(server).call("auth_backend", "mintToken", { identity });
  assert.deepEqual(await snorky.services.auth.authenticate({ token }), identity);
}

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`${transport}: PubSub, Chat and DataSync through the original client's constructor`, async (t) => {
    const server = await start(t);
    if (!server) return;
    const backend = backendOf(server);
    const open = [];
    const datasync = new DataSync({ deltaProcessor: new DeltaProcessor({ collections: { todo: new ArrayCollection(open, { key: "id" }) } }) });
    // The original Snorky's signature: (socket class, url, services).
    const ann = await connected(new Snorky(forced(transport), sockjsUrl(server), { auth: Auth, pubsub: PubSub, chat: Chat, datasync }));
    assert.equal(ann.socket.transport, transport);

    // PubSub: a backend publication, then the client's own (unicode that needs escaping included).
    const messages = collect(ann.services.pubsub, "message");
    assert.equal(await ann.services.pubsub.subscribe({ channel: "news" }), null);
    await backend.call("pubsub_backend", "publish", { channel: "news", message: { text: "hello" } });
    await ann.services.pubsub.publish({ channel: "news", message: "line\u2028sep \ufff0 é 😀" });
    await eventually(() => messages.length === 2, 5000, "both publications");
    assert.deepEqual(messages.map((m) => m.message), [{ text: "hello" }, "line\u2028sep \ufff0 é 😀"]);

    // Chat with a WebSocket user: presence both ways, messages, and "left" when the SockJS session ends.
    await login(ann, server, "ann");
    const bob = await connectClient(server, { auth: Auth, chat: Chat });
    await login(bob, server, "bob");
    assert.deepEqual(await ann.services.chat.join({ channel: "lobby" }), { members: ["ann"] });
    const bobPresence = collect(bob.services.chat, "presence");
    const annMessages = collect(ann.services.chat, "message");
    await bob.services.chat.join({ channel: "lobby" });
    await bob.services.chat.send({ channel: "lobby", body: "hi ann" });
    await eventually(() => annMessages.length === 1, 5000, "bob's message at ann");
    assert.equal(annMessages[0].body, "hi ann");

    // DataSync: an authorized subscription receives deltas.
    const token = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "todos", query: ["==", "done", false] }] });
    assert.equal(await ann.services.datasync.acquireSubscription({ token }), null);
    await backend.call("datasync_backend", "publishDeltas", { deltas: [{ type: "insert", model: "todo", data: { id: 1, title: "milk", done: false, owner: "ann" } }] });
    await eventually(() => open.length === 1, 5000, "the delta");

    ann.close();
    await eventually(() => bobPresence.some((p) => p.from === "ann" && p.status === "left"), 5000, "ann's departure");
    bob.close();
  });
}

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`${transport}: after a server restart the client reconnects and its subscriptions are restored`, async (t) => {
    const server = await start(t);
    if (!server) return;
    const snorky = await connected(
      new Snorky(sockjsUrl(server), { pubsub: PubSub }, { WebSocket: forced(transport), reconnect: { initialDelay: 50, maxDelay: 300 } }),
    );
    const messages = collect(snorky.services.pubsub, "message");
    await snorky.services.pubsub.subscribe({ channel: "restart" });
    const reconnected = snorky.waitFor("connected");
    await server.restart();
    assert.deepEqual(await reconnected, { reconnect: true });
    // The restore is a subscribe sent on open: published after it is answered, a message arrives.
    await eventually(async () => {
      await backendOf(server).call("pubsub_backend", "publish", { channel: "restart", message: "back" });
      return messages.length > 0;
    }, 8000, "a publication after the restart");
    assert.equal(messages[0].message, "back");
    snorky.close();
  });
}

// sockjs-client takes a cut EventSource for a network blip and keeps reopening it
// on the same session URL: it learns of the crash only when the restarted server
// answers that URL with a new session ("Server lost session"), then reconnects.
for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`${transport}: a crashed server (SIGKILL: connections cut, no close frame) is reconnected to`, async (t) => {
    const server = await start(t);
    if (!server) return;
    const snorky = await connected(
      new Snorky(sockjsUrl(server), { pubsub: PubSub }, { WebSocket: forced(transport), reconnect: { initialDelay: 50, maxDelay: 300 } }),
    );
    const messages = collect(snorky.services.pubsub, "message");
    await snorky.services.pubsub.subscribe({ channel: "crash" });
    const lost = snorky.waitFor("disconnected");
    await server.kill();
    if (transport !== "eventsource") assert.equal((await lost).willReconnect, true);
    const reconnected = snorky.waitFor("connected");
    await server.restart();
    if (transport === "eventsource") assert.equal((await lost).reason, "Server lost session");
    assert.deepEqual(await reconnected, { reconnect: true });
    await eventually(async () => {
      await backendOf(server).call("pubsub_backend", "publish", { channel: "crash", message: "back" });
      return messages.length > 0;
    }, 8000, "a publication after the crash");
    snorky.close();
  });
}

// A TCP relay in front of the listener that can cut every connection at once: a
// network loss, while the server stays up and sees its sockets close.
function relay(targetPort) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => sockets.delete(socket));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  const cut = () => sockets.forEach((socket) => socket.destroy());
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ port: server.address().port, cut, close: () => (cut(), server.close()) }),
    ),
  );
}

for (const transport of ["websocket", "xhr-streaming", "xhr-polling", "eventsource"]) {
  test(`${transport}: after a network loss (every connection cut, the server up) subscriptions still deliver`, async (t) => {
    const server = await start(t);
    if (!server) return;
    const link = await relay(server.listener("sockjs").port);
    t.after(link.close);
    const snorky = await connected(
      new Snorky(`http://127.0.0.1:${link.port}/sockjs`, { pubsub: PubSub }, {
        WebSocket: forced(transport),
        reconnect: { initialDelay: 50, maxDelay: 300 },
      }),
    );
    const messages = collect(snorky.services.pubsub, "message");
    await snorky.services.pubsub.subscribe({ channel: "loss" });
    link.cut();
    await eventually(async () => {
      await backendOf(server).call("pubsub_backend", "publish", { channel: "loss", message: "after" });
      return messages.some((m) => m.message === "after");
    }, 8000, "a publication after the loss");
    snorky.close();
  });
}
