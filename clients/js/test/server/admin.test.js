import { test, after } from "node:test";
import assert from "node:assert/strict";
import { Auth, CLOSE_NO_RECONNECT } from "../../src/index.js";
import { SnorkyServer, listenersToml, identityToml } from "../support/server.js";
import { connectClient, backendOf } from "../support/clients.js";

const adminToml = `
[[service]]
name = "admin"
type = "admin"
registry = "frontend"

[[service]]
name = "admin_backend"
type = "admin_backend"
registry = "backend"
admin = "admin"
`;

let server;
after(async () => server?.dispose());

test("a user disconnected by the backend is told why and does not reconnect", async () => {
  server = await SnorkyServer.start(listenersToml() + identityToml + adminToml);
  const signIn = async (identity) => {
    const snorky = await connectClient(server, { auth: Auth });
    await snorky.services.auth.authenticate({ token: await backendOf(server).call("auth_backend", "mintToken", { identity }) });
    return snorky;
  };
  const ann = await signIn("ann");
  const bob = await signIn("bob");
  try {
    const gone = ann.waitFor("disconnected");
    await backendOf(server).call("admin_backend", "disconnect", { identity: "ann", reason: "Account suspended" });
    assert.deepEqual(await gone, { code: CLOSE_NO_RECONNECT, reason: "Account suspended", willReconnect: false });
    assert.equal(ann.state, "disconnected"); // no "reconnecting": the unit tests check that no socket follows
    assert.equal(bob.isConnected, true);
    assert.equal(await bob.services.auth.whoami(), "bob");
  } finally {
    ann.close();
    bob.close();
  }
});
