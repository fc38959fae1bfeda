// web/demo.toml, the config the demo pages document, starts and offers every service
// the pages use.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PubSub, Auth, Chat, DataSync } from "../../src/index.js";
import { repoRoot, startOrSkip } from "../support/server.js";
import { connectClient, backendOf } from "../support/clients.js";

let server;
after(async () => server?.dispose());

test("web/demo.toml runs every demo's services", async (t) => {
  process.env.SNORKY_IDENTITY_SECRET ??= "demo-config-test-secret-0123456789abcdef";
  const toml = readFileSync(join(repoRoot, "web/demo.toml"), "utf8").replace(/^port = \d+$/gm, "port = 0");
  server = await startOrSkip(t, toml);
  if (!server) return;
  const backend = backendOf(server);
  const snorky = await connectClient(server, { pubsub: PubSub, auth: Auth, chat: Chat, datasync: DataSync });
  const { pubsub, auth, chat, datasync } = snorky.services;
  await pubsub.subscribe({ channel: "announcements" });
  await assert.rejects(pubsub.publish({ channel: "announcements", message: "x" }), { message: "Not authorized" });
  await auth.authenticate({ token: await backend.call("auth_backend", "mintToken", { identity: "demo" }) });
  await chat.join({ channel: "lobby" });
  const token = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "tasks", query: ["==", "team", 1] }] });
  await datasync.acquireSubscription({ token });
  snorky.close();
});
