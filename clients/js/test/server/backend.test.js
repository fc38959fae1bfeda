import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Backend, SnorkyError, TransportError } from "../../src/index.js";
import { SnorkyServer, listenersToml, pubsubToml } from "../support/server.js";
import { backendOf } from "../support/clients.js";

let server;
before(async () => {
  server = await SnorkyServer.start(listenersToml() + pubsubToml);
});
after(async () => server?.dispose());

test("the backend connector returns data, throws SnorkyError and TransportError", async () => {
  const backend = backendOf(server);
  assert.equal(await backend.call("pubsub_backend", "publish", { channel: "c", message: 1 }), null);
  await assert.rejects(backend.call("pubsub_backend", "nope", {}), (e) => e instanceof SnorkyError && e.message === "Unknown command");
  await assert.rejects(backend.call("pubsub_backend", "publish", { channel: "c" }), { name: "SnorkyError", message: "Invalid params" });
  await assert.rejects(new Backend(server.backendUrl, "wrong key").call("pubsub_backend", "publish", { channel: "c", message: 1 }), (e) => {
    assert.ok(e instanceof TransportError);
    assert.equal(e.status, 401);
    assert.match(e.message, /Invalid API key/);
    return true;
  });
  await assert.rejects(backend.call("no_such_service", "x", {}), { name: "TransportError", status: 404 });
});
