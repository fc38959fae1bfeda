// The announcements demo over SockJS in headless Chromium (?transport=sockjs):
// the browser's sockjs-client with its default choice (websocket) and forced
// to xhr-streaming, a backend publication, then a server restart survived.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SnorkyServer, repoRoot, listenersToml, pubsubToml } from "../support/server.js";
import { backendOf } from "../support/clients.js";
import { launchBrowser } from "../support/browser.js";

const webDir = join(repoRoot, "web");
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sockjsListener = `
[[listener]]
type = "sockjs"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/sockjs"
`;

for (const transports of [null, "xhr-streaming", "xhr-polling"]) {
  test(`announcements over SockJS (${transports ?? "default transport"}): publication and restart`, async (t) => {
    const server = await SnorkyServer.start(listenersToml({ staticDir: webDir }) + sockjsListener + pubsubToml);
    cleanups.push(() => server.dispose());
    const b = await launchBrowser();
    cleanups.push(() => b.close());
    t.after(() => {
      if (b.logs.length) t.diagnostic(b.logs.join("\n"));
    });
    const page = await b.newPage("sockjs");
    const sockjs = `http://127.0.0.1:${server.listener("sockjs").port}/sockjs`;
    const query = `transport=sockjs&sockjs=${encodeURIComponent(sockjs)}` + (transports ? `&transports=${transports}` : "");
    await page.goto(`${server.httpUrl}/announcements/?${query}`);
    await page.waitForSelector("body[data-subscribed=true]", { timeout: 10000 });
    assert.equal(await page.textContent("#status"), "connected");
    assert.equal(await page.evaluate(() => window.snorky.socket.transport), transports ?? "websocket");

    await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "over SockJS \u2028é" });
    await page.waitForSelector("#feed li", { timeout: 10000 });
    assert.equal(await page.textContent("#feed li .text"), "over SockJS \u2028é");

    await page.evaluate(() => window.snorky.services.pubsub.on("resubscribed", () => (window.resubscribed = true)));
    await server.restart();
    await page.waitForFunction(() => window.resubscribed === true, null, { timeout: 15000 });
    await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "after the restart" });
    await page.waitForSelector("#feed li:nth-child(2)", { timeout: 10000 });
    assert.equal(await page.textContent("#feed li:first-child .text"), "after the restart");
  });
}
