// Two browsers on the to-do page (web/todo/, served by snorky itself with the to-do
// example's own config) show different filtered views of the real to-do application
// (examples/todo/app.py). A seeded random sequence of changes, made through the app's
// HTTP API and through the pages' own controls, must reach each page as exactly the
// deltas that keep its list equal to a fresh query of the application.
// TODO_SEED=<n> replays another sequence.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { TodoApi } from "../../../../web/todo/todo_api.js";
import { repoRoot, repoConfigToml, startOrSkip, eventually, sleep } from "../support/server.js";
import { launchBrowser, screenshot } from "../support/browser.js";
import { startTodoApp, todoAppPath } from "../support/todo_app.js";

const seed = Number(process.env.TODO_SEED ?? 20261128);
const changeCount = 40;
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A small seeded PRNG (mulberry32): the same seed, the same sequence of changes. */
function random(seedValue) {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const doneFor = { open: false, done: true, all: "any" };

test("to-do: two browsers' filtered views stay equal to a fresh query through random changes", async (t) => {
  if (!existsSync(todoAppPath)) return t.skip("examples/todo is not in this checkout");
  t.diagnostic(`seed ${seed} (TODO_SEED replays another sequence)`);
  const server = await startOrSkip(t, repoConfigToml("examples/todo/snorky.toml"), { args: ["--static-dir", join(repoRoot, "web"), "--static-follow-symlinks"] });
  if (!server) return;
  cleanups.push(() => server.dispose());
  const app = await startTodoApp(server, { allowedOrigins: [server.httpUrl] });
  cleanups.push(() => app.close());
  const b = await launchBrowser();
  cleanups.push(() => b.close());
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });

  const rand = random(seed);
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const words = ["Buy milk", "Write tests", "Water plants", "Call Ann", "Fix the <b>bold</b> bug", 'Quote "this" & that', "Café ☕", "Read the spec"];
  let titleCount = 0;
  const newTitle = () => `${pick(words)} ${++titleCount}`;
  const apiOf = (team) => new TodoApi(app.url, team);

  // The test's own model of the database, kept from the application's answers.
  const rows = new Map();
  // Tasks before the pages open: they reach the pages as initial data, not deltas.
  for (const team of [1, 1, 1, 2, 1, 3]) {
    const task = await apiOf(team).create(newTitle());
    rows.set(task.id, task);
  }
  const sorted = () => [...rows.values()].sort((x, y) => x.id - y.id);

  // The pages: team 1's open tasks (the default filter) and team 1's tasks whatever
  // their state (chosen with the page's radio button; "done" later on).
  const views = [
    { label: "team1-open", team: 1, filter: "open" },
    { label: "team1-all-then-done", team: 1, filter: "all" },
  ];
  const inView = (view, task) => task.team === view.team && (view.filter === "all" || task.done === doneFor[view.filter]);
  const domList = (view) =>
    view.page.$$eval("#list li", (items) =>
      items.map((li) => {
        const box = li.querySelector("input[type=checkbox]");
        return { id: Number(li.dataset.id), title: li.querySelector(".title").textContent, done: box.checked, shownDone: li.classList.contains("done") };
      }),
    );
  const asShown = (tasks) => tasks.map((task) => ({ id: task.id, title: task.title, done: task.done, shownDone: task.done }));

  // Filter chosen on the page; then a fresh delta log in the page and in the test.
  async function showFilter(view, filter) {
    if (filter !== "open") await view.page.check(`input[name=filter][value=${filter}]`);
    view.filter = filter;
    await view.page.waitForFunction(
      (f) => document.body.dataset.ready === "true" && document.querySelector("input[name=filter]:checked").value === f && window.snorky.services.datasync.subscriptions.length === 1,
      filter,
      { timeout: 10000 },
    );
    await view.page.evaluate(() => {
      window.deltas = [];
      if (!window.recording) window.snorky.services.datasync.on("delta", (delta) => window.deltas.push(delta));
      window.recording = true;
    });
    view.expected = [];
  }

  const pageUrl = (team) => `${server.httpUrl}/todo/?api=${encodeURIComponent(app.url)}&team=${team}`;
  for (const view of views) {
    view.page = await b.newBrowserPage(view.label);
    view.seen = { insert: 0, update: 0, delete: 0 };
    await view.page.goto(pageUrl(view.team));
    await view.page.waitForSelector("body[data-ready=true]", { timeout: 10000 });
    await showFilter(view, view.filter);
    assert.equal(await view.page.textContent("#status"), "connected");
    assert.deepEqual(await domList(view), asShown(sorted().filter((task) => inView(view, task))), `${view.label}: initial list`);
  }

  // Every change becomes, for each view, the delta DataSync must route to it
  // (protocol.md section 7): insert/update/delete by old and new row.
  function changed(oldRow, newRow) {
    if (newRow) rows.set(newRow.id, newRow);
    else rows.delete(oldRow.id);
    for (const view of views) {
      const before = oldRow !== null && inView(view, oldRow);
      const now = newRow !== null && inView(view, newRow);
      let delta = null;
      if (before && now) delta = { type: "update", model: "task", oldData: oldRow, newData: newRow };
      else if (now) delta = { type: "insert", model: "task", data: newRow };
      else if (before) delta = { type: "delete", model: "task", data: oldRow };
      if (!delta) continue;
      view.expected.push(delta);
      view.seen[delta.type]++;
    }
  }

  // The page received exactly the expected deltas and shows the model's rows.
  async function settled(view, what) {
    await eventually(() => view.page.evaluate(() => window.deltas.length).then((n) => n >= view.expected.length), 10000, `${view.label}: ${view.expected.length} deltas (${what})`);
    assert.deepEqual(await view.page.evaluate(() => window.deltas), view.expected, `${view.label}: the deltas received (${what})`);
    assert.deepEqual(await domList(view), asShown(sorted().filter((task) => inView(view, task))), `${view.label}: the list (${what})`);
  }

  // Intermediate and final check: every page equals a fresh query of the application.
  async function checkpoint(what) {
    for (const view of views) {
      await settled(view, what);
      const fresh = await apiOf(view.team).view(doneFor[view.filter]);
      assert.deepEqual(await domList(view), asShown(fresh.tasks), `${view.label}: the list against a fresh query (${what})`);
    }
  }

  // Clicks on a page's own controls, answered by the application's HTTP API.
  async function throughPage(view, method, action) {
    const [response] = await Promise.all([
      view.page.waitForResponse((r) => r.request().method() === method && r.url().startsWith(`${app.url}/api/tasks`), { timeout: 10000 }),
      action(),
    ]);
    assert.ok(response.ok(), `${view.label}: ${method} answered ${response.status()}`);
    return response.status() === 204 ? null : response.json();
  }

  const kinds = ["create", "create", "toggle", "toggle", "rename", "move", "edit", "delete", "page-add", "page-toggle", "page-toggle", "page-delete"];
  const made = {};
  for (let i = 1; i <= changeCount; i++) {
    let kind = pick(kinds);
    const view = pick(views);
    const visible = sorted().filter((task) => inView(view, task));
    if (kind.startsWith("page-") && kind !== "page-add" && visible.length === 0) kind = "page-add";
    if (!kind.startsWith("page-") && kind !== "create" && rows.size === 0) kind = "create";
    made[kind] = (made[kind] ?? 0) + 1;
    // Mostly rows a page shows (else few changes would concern the pages), some others.
    const target = kind.startsWith("page-") || (visible.length > 0 && rand() < 0.6) ? pick(visible) : pick(sorted());
    const team = () => pick([1, 1, 1, 2, 2, 3]);

    if (kind === "create") {
      changed(null, await apiOf(team()).create(newTitle()));
    } else if (kind === "toggle") {
      const task = await apiOf(target.team).update(target.id, { done: !target.done });
      assert.deepEqual(task, { ...target, done: !target.done });
      changed(target, task);
    } else if (kind === "rename") {
      const task = await apiOf(target.team).update(target.id, { title: newTitle() });
      changed(target, task);
    } else if (kind === "move") {
      const task = await apiOf(target.team).update(target.id, { team: target.team === 1 ? pick([2, 3]) : 1 });
      changed(target, task);
    } else if (kind === "edit") {
      // Several fields at once; done may stay as it was (an update that changes nothing
      // of the filter's fields).
      const task = await apiOf(target.team).update(target.id, { title: newTitle(), done: rand() < 0.5, team: team() });
      changed(target, task);
    } else if (kind === "delete") {
      await apiOf(target.team).remove(target.id);
      changed(target, null);
    } else {
      // A user acts on what the page shows: it must be up to date first.
      await settled(view, `before ${kind} #${i}`);
      if (kind === "page-add") {
        const title = newTitle();
        await view.page.fill("#title", title);
        const task = await throughPage(view, "POST", () => view.page.click("#add button"));
        assert.deepEqual(task, { id: task.id, title, team: view.team, done: false });
        // The page empties its input after the answer: only then may it be filled again.
        await view.page.waitForFunction(() => document.getElementById("title").value === "", null, { timeout: 10000 });
        changed(null, task);
      } else if (kind === "page-toggle") {
        const task = await throughPage(view, "PATCH", () => view.page.click(`#list li[data-id="${target.id}"] input[type=checkbox]`));
        assert.deepEqual(task, { ...target, done: !target.done });
        changed(target, task);
      } else {
        await throughPage(view, "DELETE", () => view.page.click(`#list li[data-id="${target.id}"] button`));
        changed(target, null);
      }
    }

    if (i % 10 === 0) await checkpoint(`after change #${i}`);
    // Halfway, the second page switches to the done tasks: a new subscription.
    if (i === changeCount / 2) {
      await showFilter(views[1], "done");
      await checkpoint("after the switch to done");
    }
  }

  // Nothing more may arrive: no stray or repeated delta.
  await sleep(300);
  await checkpoint("at the end");
  t.diagnostic(`changes: ${JSON.stringify(made)}; deltas: ${views.map((v) => `${v.label} ${JSON.stringify(v.seen)}`).join(", ")}`);
  // The sequence exercised every kind of delta in every view (else the seed is too tame).
  for (const view of views) for (const type of ["insert", "update", "delete"]) assert.ok(view.seen[type] > 0, `${view.label} saw no ${type}`);
  for (const view of views) await screenshot(view.page, `todo-${view.label}`);
});

test("to-do: a filter chosen while the page acquires the previous one leaves one live view", async (t) => {
  if (!existsSync(todoAppPath)) return t.skip("examples/todo is not in this checkout");
  const server = await startOrSkip(t, repoConfigToml("examples/todo/snorky.toml"), { args: ["--static-dir", join(repoRoot, "web"), "--static-follow-symlinks"] });
  if (!server) return;
  cleanups.push(() => server.dispose());
  const app = await startTodoApp(server, { allowedOrigins: [server.httpUrl] });
  cleanups.push(() => app.close());
  const b = await launchBrowser();
  cleanups.push(() => b.close());
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });
  const api = new TodoApi(app.url, 4);
  const open = await api.create("still open");
  const done = await api.update((await api.create("done already")).id, { done: true });

  const page = await b.newPage("filters");
  await page.goto(`${server.httpUrl}/todo/?api=${encodeURIComponent(app.url)}&team=4`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 10000 });
  // The user picks "done", then "all" while the page is acquiring the "done" view's
  // subscription (the click happens inside the acquisition, deterministically).
  await page.evaluate(() => {
    const datasync = window.snorky.services.datasync;
    const acquire = datasync.acquireSubscription.bind(datasync);
    datasync.acquireSubscription = (args) => {
      datasync.acquireSubscription = acquire;
      document.querySelector("input[name=filter][value=all]").click();
      return acquire(args);
    };
    window.deltas = [];
    datasync.on("delta", (delta) => window.deltas.push(delta));
    document.querySelector("input[name=filter][value=done]").click();
  });
  await page.waitForFunction(() => document.body.dataset.ready === "true" && document.querySelectorAll("#list li").length === 2, null, { timeout: 10000 });
  await sleep(300);
  assert.equal(await page.evaluate(() => window.snorky.services.datasync.subscriptions.length), 1, "one live view, not the abandoned one too");

  // Only the "all" view's deltas arrive: the done task reopened is an update, not a delete.
  const reopened = await api.update(done.id, { done: false });
  const closed = await api.update(open.id, { done: true });
  const expected = [
    { type: "update", model: "task", oldData: done, newData: reopened },
    { type: "update", model: "task", oldData: open, newData: closed },
  ];
  await eventually(() => page.evaluate(() => window.deltas.length).then((n) => n >= 2), 10000, "two deltas");
  await sleep(300);
  assert.deepEqual(await page.evaluate(() => window.deltas), expected);
  const shown = await page.$$eval("#list li", (items) => items.map((li) => [Number(li.dataset.id), li.querySelector("input").checked]));
  assert.deepEqual(shown, [
    [open.id, true],
    [done.id, false],
  ]);

  // A load that fails (the application unreachable once) shows its error and does not
  // keep the next one from running.
  let refused = 0;
  await page.route(`${app.url}/api/tasks?*`, (route) => (refused++ === 0 ? route.abort() : route.continue()));
  await page.check("input[name=filter][value=open]");
  await page.waitForSelector("#error:not([hidden])", { timeout: 10000 });
  await page.check("input[name=filter][value=done]");
  await page.waitForFunction(() => document.body.dataset.ready === "true", null, { timeout: 10000 });
  assert.deepEqual(await page.$$eval("#list li", (items) => items.map((li) => Number(li.dataset.id))), [open.id]);
  assert.equal(await page.evaluate(() => window.snorky.services.datasync.subscriptions.length), 1);
});
