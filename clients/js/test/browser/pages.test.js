// The demo pages in a real browser (headless Chromium), served by the real server.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  SnorkyServer,
  repoRoot,
  listenersToml,
  pubsubToml,
  identityToml,
  chatToml,
  notificationsToml,
  datasyncToml,
  startOrSkip,
} from "../support/server.js";
import { backendOf } from "../support/clients.js";
import { launchBrowser, screenshot } from "../support/browser.js";
import { startLoginServer } from "../support/login_server.js";
import { startTodoApp } from "../support/todo_app.js";

const webDir = join(repoRoot, "web");
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function browser(t) {
  const b = await launchBrowser();
  cleanups.push(() => b.close());
  // On failure the page logs explain more than a timeout does.
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });
  return b;
}

test("announcements: a backend publication appears in the page", async (t) => {
  const server = await SnorkyServer.start(listenersToml({ staticDir: webDir }) + pubsubToml);
  cleanups.push(() => server.dispose());
  const b = await browser(t);
  const page = await b.newPage("announcements");

  // The index links to the demos; the library is served under /lib/.
  await page.goto(`${server.httpUrl}/`);
  assert.equal(await page.getAttribute('a[href="/announcements/"]', "href"), "/announcements/");
  const lib = await page.request.get(`${server.httpUrl}/lib/index.js`);
  assert.equal(lib.status(), 200);
  assert.match(lib.headers()["content-type"], /javascript/);

  await page.goto(`${server.httpUrl}/announcements/`);
  await page.waitForSelector("body[data-subscribed=true]", { timeout: 10000 });
  assert.equal(await page.textContent("#status"), "connected");
  const text = `Server maintenance at ${Date.now()}`;
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: { text, from: "ops" } });
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "plain text works too" });
  await page.waitForSelector("#feed li:nth-child(2)", { timeout: 10000 });
  const items = await page.$$eval("#feed li .text", (nodes) => nodes.map((n) => n.textContent));
  assert.deepEqual(items, ["plain text works too", text]);
  await screenshot(page, "announcements");

  // The server restarts: the page's client reconnects and subscribes again by itself.
  await page.evaluate(() => window.snorky.services.pubsub.on("resubscribed", () => (window.resubscribed = true)));
  await server.restart();
  await page.waitForFunction(() => window.resubscribed === true, null, { timeout: 15000 });
  assert.equal(await page.textContent("#status"), "connected");
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "after the restart" });
  await page.waitForSelector("#feed li:nth-child(3)", { timeout: 10000 });
  assert.equal(await page.textContent("#feed li:first-child .text"), "after the restart");
});

test("chat: two pages sign in through the demo login server and talk", async (t) => {
  // With history, as web/demo.toml: a page opened later shows the conversation.
  const chatWithHistory = chatToml.replace('registry = "frontend"', 'registry = "frontend"\nhistory_size = 50');
  const server = await startOrSkip(t, listenersToml({ staticDir: webDir }) + identityToml + chatWithHistory);
  if (!server) return;
  cleanups.push(() => server.dispose());
  const login = await startLoginServer(server, server.httpUrl);
  cleanups.push(() => login.stop());
  const b = await browser(t);
  const url = `${server.httpUrl}/chat/?login=${encodeURIComponent(login.url)}&channel=demo`;

  const ann = await b.newPage("ann");
  const bob = await b.newPage("bob");
  for (const [page, name] of [
    [ann, "Ann"],
    [bob, "Bob"],
  ]) {
    await page.goto(url);
    await page.fill("#name", name);
    await page.click("#login button");
    await page.waitForSelector(`body[data-user="${name}"]`, { timeout: 10000 });
    assert.equal(await page.isVisible("#login"), false, "the sign-in form is gone");
    assert.equal(await page.isVisible("#compose"), true);
  }
  // Ann sees Bob arrive (presence) in the member list.
  await ann.waitForFunction(() => document.querySelectorAll("#members li").length === 2, null, { timeout: 10000 });
  assert.deepEqual((await ann.$$eval("#members li", (n) => n.map((x) => x.textContent))).sort(), ["Ann", "Bob"]);

  await bob.fill("#body", "Hello Ann!");
  await bob.click("#compose button");
  await ann.waitForSelector("#messages li.message", { timeout: 10000 });
  assert.equal(await ann.textContent("#messages li.message strong"), "Bob: ");
  assert.equal(await ann.textContent("#messages li.message .body"), "Hello Ann!");
  await ann.fill("#body", "Hi Bob");
  await ann.click("#compose button");
  await bob.waitForFunction(() => document.querySelectorAll("#messages li.message").length === 2, null, { timeout: 10000 });
  assert.deepEqual(await bob.$$eval("#messages li.message .body", (n) => n.map((x) => x.textContent)), ["Hello Ann!", "Hi Bob"]);
  await screenshot(ann, "chat");

  // A third page opens: the last messages are there, in order, before anything new.
  const cy = await b.newPage("cy");
  await cy.goto(url);
  await cy.fill("#name", "Cy");
  await cy.click("#login button");
  await cy.waitForFunction(() => document.querySelectorAll("#messages li.message").length === 2, null, { timeout: 10000 });
  assert.deepEqual(await cy.$$eval("#messages li.message .body", (n) => n.map((x) => x.textContent)), ["Hello Ann!", "Hi Bob"]);

  // The login server refuses what it should.
  const refused = await fetch(login.url, { method: "POST", headers: { Origin: "http://evil.example" }, body: '{"name":"x"}' });
  assert.equal(refused.status, 403);
  const badName = await fetch(login.url, { method: "POST", body: '{"name":"<script>"}' });
  assert.equal(badName.status, 400);
});

test("notifications: the backend notifies one signed-in user, the other page sees nothing", async (t) => {
  const server = await startOrSkip(t, listenersToml({ staticDir: webDir }) + identityToml + notificationsToml);
  if (!server) return;
  cleanups.push(() => server.dispose());
  const login = await startLoginServer(server, server.httpUrl);
  cleanups.push(() => login.stop());
  const b = await browser(t);
  const url = `${server.httpUrl}/notifications/?login=${encodeURIComponent(login.url)}`;
  const ann = await b.newPage("ann");
  const bob = await b.newPage("bob");
  for (const [page, name] of [
    [ann, "Ann"],
    [bob, "Bob"],
  ]) {
    await page.goto(url);
    await page.fill("#name", name);
    await page.click("#login button");
    await page.waitForSelector(`body[data-user="${name}"]`, { timeout: 10000 });
    assert.equal(await page.textContent("#channel"), `user:${name}`);
  }
  const backend = backendOf(server);
  await backend.call("notifications_backend", "publish", { channel: "user:Ann", message: { text: "Your invoice is ready" } });
  await backend.call("notifications_backend", "publish", { channel: "user:Bob", message: "Only for Bob" });
  await ann.waitForSelector("#feed li", { timeout: 10000 });
  await bob.waitForSelector("#feed li", { timeout: 10000 });
  // Bob's own notification came after Ann's on the same server: had Ann's reached him, it would be here.
  assert.deepEqual(await ann.$$eval("#feed li .text", (n) => n.map((x) => x.textContent)), ["Your invoice is ready"]);
  assert.deepEqual(await bob.$$eval("#feed li .text", (n) => n.map((x) => x.textContent)), ["Only for Bob"]);
  // Bob cannot listen in on Ann's channel, even by hand.
  const refused = await bob.evaluate(() =>
    window.snorky.services.notifications.subscribe({ channel: "user:Ann" }).then(() => "subscribed", (e) => e.message),
  );
  assert.equal(refused, "Not authorized");
  // The page shows the curl that notifies this user.
  assert.match(await ann.textContent("#curl"), /"channel":"user:Ann"/);
  await screenshot(ann, "notifications");
});

test("to-do: the filtered live list follows changes made in another tab (real to-do app)", async (t) => {
  const server = await startOrSkip(t, listenersToml({ staticDir: webDir }) + datasyncToml);
  if (!server) return;
  cleanups.push(() => server.dispose());
  const app = await startTodoApp(server, { allowedOrigins: [server.httpUrl] });
  cleanups.push(() => app.close());
  const b = await browser(t);
  const url = `${server.httpUrl}/todo/?api=${encodeURIComponent(app.url)}`;
  const viewer = await b.newPage("viewer");
  const editor = await b.newPage("editor");
  await viewer.goto(url);
  await editor.goto(url);
  await viewer.waitForSelector("body[data-ready=true]", { timeout: 10000 });
  await editor.waitForSelector("body[data-ready=true]", { timeout: 10000 });
  const titles = (page) => page.$$eval("#list li .title", (nodes) => nodes.map((n) => n.textContent.trim()));

  for (const [i, title] of ["Buy milk", "Write tests", "Water plants"].entries()) {
    await editor.fill("#title", title);
    await editor.click("#add button");
    // The editor's own list grows through the delta; then the input is free again.
    await editor.waitForFunction((n) => document.querySelectorAll("#list li").length === n, i + 1, { timeout: 10000 });
    await editor.waitForFunction(() => document.getElementById("title").value === "", null, { timeout: 10000 });
  }
  await viewer.waitForFunction(() => document.querySelectorAll("#list li").length === 3, null, { timeout: 10000 });
  assert.deepEqual(await titles(viewer), ["Buy milk", "Write tests", "Water plants"]);

  // Done in the editor: it leaves the viewer's "open" list (an update routed as a delete).
  await editor.click('#list li:has-text("Write tests") input[type=checkbox]');
  await viewer.waitForFunction(() => document.querySelectorAll("#list li").length === 2, null, { timeout: 10000 });
  assert.deepEqual(await titles(viewer), ["Buy milk", "Water plants"]);

  // The viewer switches to "done": fresh data and a fresh subscription.
  await viewer.check('input[name=filter][value=done]');
  await viewer.waitForFunction(() => document.body.dataset.ready === "true" && document.querySelectorAll("#list li").length === 1, null, { timeout: 10000 });
  assert.deepEqual(await titles(viewer), ["Write tests"]);
  // Re-opened in the editor: it leaves the viewer's "done" list; a deletion too.
  await editor.check('input[name=filter][value=all]');
  await editor.waitForFunction(() => document.body.dataset.ready === "true" && document.querySelectorAll("#list li").length === 3, null, { timeout: 10000 });
  await editor.click('#list li:has-text("Write tests") input[type=checkbox]');
  await viewer.waitForFunction(() => document.querySelectorAll("#list li").length === 0, null, { timeout: 10000 });
  await editor.click('#list li:has-text("Buy milk") input[type=checkbox]');
  await viewer.waitForFunction(() => document.querySelectorAll("#list li").length === 1, null, { timeout: 10000 });
  await editor.click('#list li:has-text("Buy milk") button');
  await viewer.waitForFunction(() => document.querySelectorAll("#list li").length === 0, null, { timeout: 10000 });
  await editor.waitForFunction(() => document.querySelectorAll("#list li").length === 2, null, { timeout: 10000 });
  assert.deepEqual(await titles(editor), ["Write tests", "Water plants"]);
  await screenshot(editor, "todo");
});
