import { test, after } from "node:test";
import assert from "node:assert/strict";
import { DataSync, DeltaProcessor, ArrayCollection, SnorkyError } from "../../src/index.js";
import { listenersToml, datasyncToml, startOrSkip, eventually } from "../support/server.js";
import { connectClient, backendOf } from "../support/clients.js";

let server;
after(async () => server?.dispose());

const todo = (id, title, done, owner = "ann") => ({ id, title, done, owner });

test("a filtered live list follows inserts, updates in and out of the filter, and deletes", async (t) => {
  server = await startOrSkip(t, listenersToml() + datasyncToml);
  if (!server) return;
  const backend = backendOf(server);
  const open = [];
  const processor = new DeltaProcessor({ collections: { todo: new ArrayCollection(open, { key: "id" }) } });
  const snorky = await connectClient(server, { datasync: new DataSync({ deltaProcessor: processor }) });

  // The web application authorizes before it queries its database.
  const token = await backend.call("datasync_backend", "authorizeSubscription", {
    items: [{ dealer: "todos", query: ["==", "done", false] }],
  });
  assert.match(token, /^[a-z0-9]{32}$/);
  // A delta between authorization and acquisition is buffered, then delivered.
  await backend.call("datasync_backend", "publishDeltas", { deltas: [{ type: "insert", model: "todo", data: todo(1, "milk", false) }] });
  assert.equal(await snorky.services.datasync.acquireSubscription({ token }), null);
  await eventually(() => open.length === 1, 5000, "the buffered insert");

  await backend.call("datasync_backend", "publishDeltas", {
    deltas: [
      { type: "insert", model: "todo", data: todo(2, "eggs", false) },
      { type: "insert", model: "todo", data: todo(3, "done already", true) },
      { type: "update", model: "todo", oldData: todo(1, "milk", false), newData: todo(1, "milk", true) },
    ],
  });
  await eventually(() => open.length === 1 && open[0].id === 2, 5000, "milk to leave the open list");
  await backend.call("datasync_backend", "publishDeltas", {
    deltas: [{ type: "update", model: "todo", oldData: todo(3, "done already", true), newData: todo(3, "reopened", false) }],
  });
  await eventually(() => open.length === 2, 5000, "the reopened item to enter");
  assert.deepEqual(open.map((item) => item.title), ["eggs", "reopened"]);

  await assert.rejects(snorky.services.datasync.acquireSubscription({ token }), (e) => e instanceof SnorkyError && e.message === "No such subscription");
  await assert.rejects(
    backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "nope", query: 1 }] }),
    { name: "SnorkyError", message: "No such dealer" },
  );
  assert.equal(await snorky.services.datasync.cancelSubscription({ token }), null);
  snorky.close();
});

test("after a reconnect the application is told to re-authorize", async (t) => {
  if (!server) server = await startOrSkip(t, listenersToml() + datasyncToml);
  if (!server) return;
  const backend = backendOf(server);
  const snorky = await connectClient(server, { datasync: DataSync });
  const token = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "todosByOwner", query: "ann" }] });
  await snorky.services.datasync.acquireSubscription({ token });
  const lost = snorky.services.datasync.waitFor("subscriptionsLost");
  await server.restart();
  assert.deepEqual(await lost, { tokens: [token] });
  // The application does what the event asks: a fresh token, acquired on the new connection.
  const fresh = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "todosByOwner", query: "ann" }] });
  await snorky.services.datasync.acquireSubscription({ token: fresh });
  const delta = snorky.services.datasync.waitFor("delta");
  await backend.call("datasync_backend", "publishDeltas", { deltas: [{ type: "insert", model: "todo", data: todo(9, "x", false) }] });
  assert.deepEqual(await delta, { type: "insert", model: "todo", data: todo(9, "x", false) });
  snorky.close();
});
