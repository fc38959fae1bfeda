// Two headless Chromium pages on the Django to-do (examples/django_todo): Snorky serves
// the page and runs DataSync; Django (manage.py runserver, a throwaway SQLite database)
// serves the API with snorky.backend.django. Changes made through the Django API, and
// through one page's own controls, must show in both pages' lists.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SnorkyServer, repoRoot, repoConfigToml, backendKey, eventually } from "../../../clients/js/test/support/server.js";
import { launchBrowser, screenshot } from "../../../clients/js/test/support/browser.js";

const exampleDir = join(repoRoot, "examples/django_todo");
const python = "/usr/bin/python3";
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** migrate, then runserver on a free port; resolves to {url, logs(), close()}. */
async function startDjango(snorky) {
  const dir = mkdtempSync(join(tmpdir(), "django-todo-test-"));
  const env = {
    ...process.env,
    PYTHONDONTWRITEBYTECODE: "1",
    TODO_DB: join(dir, "db.sqlite3"),
    SNORKY_BACKEND_URL: snorky.backendUrl,
    SNORKY_BACKEND_KEY: backendKey,
    TODO_ALLOWED_ORIGINS: snorky.httpUrl,
  };
  const migrate = spawnSync(python, ["manage.py", "migrate", "--noinput"], { cwd: exampleDir, env, encoding: "utf8" });
  assert.equal(migrate.status, 0, `manage.py migrate failed:\n${migrate.stdout}${migrate.stderr}`);
  const port = await freePort();
  const child = spawn(python, ["manage.py", "runserver", "--noreload", `127.0.0.1:${port}`], { cwd: exampleDir, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`Django exited:\n${output}`);
      return fetch(`${url}/api/tasks/?team=1`).then((r) => r.ok, () => false);
    }, 20000, `Django on ${url}:\n${output}`);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, logs: () => output, close };
}

test("django to-do: two pages show the changes made through the Django API", async (t) => {
  const snorky = await SnorkyServer.start(repoConfigToml("examples/django_todo/snorky.toml"), {
    args: ["--static-dir", join(exampleDir, "static"), "--static-follow-symlinks"],
  });
  cleanups.push(() => snorky.dispose());
  const django = await startDjango(snorky);
  cleanups.push(() => django.close());
  const b = await launchBrowser();
  cleanups.push(() => b.close());
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });

  async function call(method, path, body) {
    const response = await fetch(django.url + path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}\n${django.logs()}`);
    return text ? JSON.parse(text) : null;
  }

  const before = await call("POST", "/api/tasks/", { title: "Before the pages", team: 1 });
  await call("POST", "/api/tasks/", { title: "Another team's", team: 2 });

  // Page A shows team 1's open tasks (the default), page B all of them.
  const pageUrl = `${snorky.httpUrl}/?api=${encodeURIComponent(django.url)}&team=1`;
  const pages = {};
  for (const [label, filter] of [["A", "open"], ["B", "all"]]) {
    const page = await b.newBrowserPage(label);
    await page.goto(pageUrl);
    await page.waitForSelector("body[data-ready=true]", { timeout: 10000 });
    if (filter !== "open") {
      await page.check(`input[name=filter][value=${filter}]`);
      await page.waitForFunction(() => document.body.dataset.ready === "true" && window.snorky.services.datasync.subscriptions.length === 1, null, { timeout: 10000 });
    }
    // The cross-origin page could read X-Subscription-Token: it acquired it.
    assert.equal(await page.textContent("#live"), "live", `${label}: live`);
    assert.equal(await page.textContent("#status"), "connected");
    pages[label] = page;
  }

  const list = (page) => page.$$eval("#list li", (items) => items.map((li) => [li.querySelector(".title").textContent, li.querySelector("input").checked]));
  async function expectLists(a, bList, what) {
    for (const [label, expected] of [["A", a], ["B", bList]]) {
      try {
        await eventually(async () => JSON.stringify(await list(pages[label])) === JSON.stringify(expected), 10000, `${label}: ${what}`);
      } catch (error) {
        await screenshot(pages[label], `django-todo-${label}`).catch(() => {});
        assert.deepEqual(await list(pages[label]), expected, `${label}: ${what}`);
      }
    }
  }

  await expectLists([["Before the pages", false]], [["Before the pages", false]], "initial rows");

  const milk = await call("POST", "/api/tasks/", { title: "Buy milk", team: 1 });
  await expectLists([["Before the pages", false], ["Buy milk", false]], [["Before the pages", false], ["Buy milk", false]], "an insert");

  // Done: leaves A's open view (a delete there), stays in B's (an update).
  await call("PATCH", `/api/tasks/${milk.id}/`, { done: true });
  await expectLists([["Before the pages", false]], [["Before the pages", false], ["Buy milk", true]], "an update out of a filter");

  // Another team's task moving into team 1 enters both views.
  const moved = await call("POST", "/api/tasks/", { title: "Moved over", team: 3 });
  await call("PATCH", `/api/tasks/${moved.id}/`, { team: 1 });
  await expectLists(
    [["Before the pages", false], ["Moved over", false]],
    [["Before the pages", false], ["Buy milk", true], ["Moved over", false]],
    "a row entering the filter",
  );

  await call("DELETE", `/api/tasks/${before.id}/`);
  await expectLists([["Moved over", false]], [["Buy milk", true], ["Moved over", false]], "a delete");

  // Through page A's own controls: tick "Moved over" done. A click, not check(): the row
  // leaves A's open view as soon as the change comes back, and check() would wait for
  // the removed box to read as checked.
  await pages.A.click("#list li:has-text('Moved over') input");
  await expectLists([], [["Buy milk", true], ["Moved over", true]], "a change made on page A");

  // Through page B's form.
  await pages.B.fill("#title", "Typed on page B");
  await pages.B.click("#add button");
  await expectLists([["Typed on page B", false]], [["Buy milk", true], ["Moved over", true], ["Typed on page B", false]], "a task added on page B");

  // Every list equals a fresh query of the application.
  const fresh = await call("GET", "/api/tasks/?team=1&done=any");
  assert.deepEqual(await list(pages.B), fresh.map((task) => [task.title, task.done]));
});
