// Operations in a real browser (headless Chromium): permessage-deflate with
// Chromium's own WebSocket, and the backend listener's status page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { SnorkyServer, listenersToml, pubsubToml, chatToml, backendKey } from "../support/server.js";
import { backendOf } from "../support/clients.js";
import { launchBrowser, screenshot } from "../support/browser.js";

let server, browser;
before(async () => {
  const toml = listenersToml().replace('path = "/ws"\n', 'path = "/ws"\ncompression = true\n') + pubsubToml + chatToml;
  server = await SnorkyServer.start(toml);
  browser = await launchBrowser();
});
after(async () => {
  if (browser?.logs.length) console.log(browser.logs.join("\n"));
  await browser?.close();
  await server?.dispose();
});

test("Chromium agrees to permessage-deflate; compressed messages flow both ways", async () => {
  const page = await browser.newPage("deflate");
  await page.goto(`${server.httpUrl}/`);  // any page of that origin: its 404 will do
  const rows = Array.from({ length: 60 }, (_, i) => ({ id: i, symbol: "ABC", price: 100 + (i % 7) }));
  const extensions = await page.evaluate(
    (url) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        window.socket = ws;
        window.received = [];
        window.closedWith = null;
        ws.onclose = (e) => (window.closedWith = e.code);
        ws.onerror = () => reject(new Error("websocket error"));
        ws.onmessage = (e) => {
          const message = JSON.parse(e.data).message;
          window.received.push(message);
          if (message.callId === 1) resolve(ws.extensions);
        };
        ws.onopen = () =>
          ws.send(JSON.stringify({ service: "pubsub", message: { command: "subscribe", params: { channel: "deflate" }, callId: 1 } }));
      }),
    server.wsUrl,
  );
  // Chromium reports the agreement in its own words and order.
  assert.match(extensions, /^permessage-deflate/);
  assert.match(extensions, /server_no_context_takeover/);
  assert.match(extensions, /client_no_context_takeover/);
  // From the backend (compressed once by the server), then twice from the page:
  // Chromium compresses what it sends, and the second message proves it kept no
  // context between messages, as the server asked.
  await backendOf(server).call("pubsub_backend", "publish", { channel: "deflate", message: rows });
  await page.evaluate((rows) => {
    for (let i = 0; i < 2; i++)
      window.socket.send(JSON.stringify({ service: "pubsub", message: { command: "publish", params: { channel: "deflate", message: rows } } }));
  }, rows);
  await page.waitForFunction(() => window.received.filter((m) => m.type === "message").length === 3 || window.closedWith !== null,
    null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.closedWith), null);
  const publications = await page.evaluate(() => window.received.filter((m) => m.type === "message"));
  for (const p of publications) assert.deepEqual(p.message, rows);
  await page.close();
});

test("status page: refused without the right key, live figures and a chart with it", async () => {
  const status = `http://127.0.0.1:${server.listener("backend").port}/status`;
  const page = await browser.newPage("status");
  await page.goto(status);
  assert.equal(await page.isVisible("#login"), true);
  assert.equal(await page.isVisible("#dashboard"), false);

  await page.fill("#key", "not-the-key");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("error").textContent === "The key was refused.");
  assert.equal(await page.isVisible("#login"), true);

  await page.fill("#key", backendKey);
  await page.click("button[type=submit]");
  // (The previous test's page has closed its socket: none is left open.)
  await page.waitForFunction(() => document.getElementById("connections").textContent === "0", null, { timeout: 5000 });
  // A client connects and subscribes: the page shows it within a couple of refreshes.
  const ws = new WebSocket(server.wsUrl);
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send(JSON.stringify({ service: "pubsub", message: { command: "subscribe", params: { channel: "s" }, callId: 1 } }));
  await page.waitForFunction(() => document.getElementById("connections").textContent === "1", null, { timeout: 5000 });
  await page.waitForFunction(() => /channels: 1, subscriptions: 1/.test(document.getElementById("services").textContent),
    null, { timeout: 5000 });
  // Messages per second: a burst of publications shows as a non-zero rate.
  for (let i = 0; i < 20; i++) ws.send(JSON.stringify({ service: "pubsub", message: { command: "publish", params: { channel: "s", message: i } } }));
  await page.waitForFunction(() => Number(document.getElementById("in-rate").textContent) > 0, null, { timeout: 5000 });
  assert.equal(await page.textContent("#engine"), "memory");
  // The chart has drawn lines (pixels of the series colours on the canvas).
  const drawn = await page.evaluate(() => {
    const canvas = document.getElementById("connections-chart");
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] === 0xcc && data[i + 1] === 0x66 && data[i + 2] === 0x33) count++;
    return count;
  });
  assert.ok(drawn > 10, `${drawn} pixels of the connections line`);
  await screenshot(page, "status-page");
  // The key stays in this tab only, and never in the address.
  assert.equal(page.url(), status);
  await page.click("#forget");
  assert.equal(await page.isVisible("#login"), true);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("snorky-status-key")), null);
  ws.close();
});
