// History and recovery in the announcements demo (docs/history.md), in headless
// Chromium against the real server: on the Redis engine the page loses nothing
// while its node restarts; on the memory engine a restart loses the history
// and the page says so.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { SnorkyServer, repoRoot, listenersToml, pubsubToml, sleep } from "../support/server.js";
import { backendOf } from "../support/clients.js";
import { launchBrowser, screenshot } from "../support/browser.js";
import { startRedis } from "../support/redis.js";

const webDir = join(repoRoot, "web");
const toml =
  listenersToml({ staticDir: webDir }) + pubsubToml.replace("client_publish = true", "client_publish = true\nhistory_size = 100");
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function openAnnouncements(t, server) {
  const b = await launchBrowser();
  cleanups.push(() => b.close());
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });
  const page = await b.newPage("recovery");
  await page.goto(`${server.httpUrl}/announcements/`);
  await page.waitForSelector("body[data-subscribed=true]", { timeout: 10000 });
  return page;
}

const feed = (page) => page.$$eval("#feed li .text", (nodes) => nodes.map((n) => n.textContent).reverse());

test("announcements on Redis: the page's node restarts while another node publishes; every message is shown once, in order", async (t) => {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const nodeA = await SnorkyServer.start(toml, { args: ["--engine", redis.url] });
  cleanups.push(() => nodeA.dispose());
  const nodeB = await SnorkyServer.start(toml, { args: ["--engine", redis.url] });
  cleanups.push(() => nodeB.dispose());
  const page = await openAnnouncements(t, nodeA);
  const publish = (message) => backendOf(nodeB).call("pubsub_backend", "publish", { channel: "announcements", message });

  await publish("m1");
  await page.waitForSelector("#feed li:nth-child(1)", { timeout: 10000 });
  // Publishing goes on through node B before, during and after node A's restart.
  const expected = ["m1"];
  let publishing = true;
  const publisher = (async () => {
    for (let i = 2; publishing || i <= 10; i++) {
      await publish(`m${i}`);
      expected.push(`m${i}`);
      await sleep(50);
    }
  })();
  await sleep(200);
  await nodeA.restart();
  await page.waitForFunction(() => !document.getElementById("recovery").hidden, null, { timeout: 15000 });
  await sleep(300);
  publishing = false;
  await publisher;
  await page.waitForFunction((n) => document.querySelectorAll("#feed li").length >= n, expected.length, { timeout: 10000 });
  await sleep(200);  // a duplicate would arrive now
  assert.deepEqual(await feed(page), expected);
  assert.match(await page.textContent("#recovery"), /^recovered \d+ missed messages?$/);
  await screenshot(page, "announcements-recovered");
});

test("announcements on the memory engine: a restart loses the history and the page says messages may be missing", async (t) => {
  const server = await SnorkyServer.start(toml);
  cleanups.push(() => server.dispose());
  const page = await openAnnouncements(t, server);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "before" });
  await page.waitForSelector("#feed li:nth-child(1)", { timeout: 10000 });
  await server.restart();
  await page.waitForFunction(() => !document.getElementById("recovery").hidden, null, { timeout: 15000 });
  assert.equal(await page.textContent("#recovery"), "some messages may have been missed while disconnected");
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "after" });
  await page.waitForSelector("#feed li:nth-child(2)", { timeout: 10000 });
  assert.deepEqual(await feed(page), ["before", "after"]);
});
