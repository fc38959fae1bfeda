// The to-do page's API module (web/todo/todo_api.js) against the real to-do
// application (examples/todo/app.py) and the real server: the contract the page relies
// on. Skipped while examples/todo is not in this checkout.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DataSync, DeltaProcessor, ArrayCollection } from "../../src/index.js";
import { TodoApi } from "../../../../web/todo/todo_api.js";
import { repoRoot, backendKey, listenersToml, datasyncToml, startOrSkip, eventually } from "../support/server.js";
import { connectClient } from "../support/clients.js";

const appPath = join(repoRoot, "examples/todo/app.py");
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function startApp(server) {
  const child = spawn(python, [appPath], {
    cwd: join(repoRoot, "examples/todo"),
    env: { ...process.env, SNORKY_BACKEND_KEY: backendKey, SNORKY_BACKEND_URL: server.backendUrl, TODO_PORT: "0", TODO_DB: ":memory:", TODO_QUIET: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`todo app did not start:\n${output}`)), 10000);
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+?)\/?\s/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => reject(new Error(`todo app exited (${code}):\n${output}`)));
  });
}

test("the page's API module and a live view against examples/todo", async (t) => {
  if (!existsSync(appPath)) return t.skip("examples/todo is not in this checkout");
  const server = await startOrSkip(t, listenersToml() + datasyncToml);
  if (!server) return;
  cleanups.push(() => server.dispose());
  const api = new TodoApi(await startApp(server), 7);

  const open = [];
  const processor = new DeltaProcessor({ collections: { task: new ArrayCollection(open, { key: "id" }) } });
  const snorky = await connectClient(server, { datasync: new DataSync({ deltaProcessor: processor }) });
  cleanups.push(() => snorky.close());

  const first = await api.create("before the view");
  const view = await api.view(false);
  assert.deepEqual(view.tasks.map((task) => task.title), ["before the view"]);
  open.push(...view.tasks);
  await snorky.services.datasync.acquireSubscription({ token: view.token });

  const second = await api.create("after the view");
  await eventually(() => open.length === 2, 5000, "the insert");
  await api.update(first.id, { done: true });
  await eventually(() => open.length === 1, 5000, "the done task to leave the open view");
  await new TodoApi(api.base, 8).create("another team's task");
  await api.remove(second.id);
  await eventually(() => open.length === 0, 5000, "the deletion");
  await api.update(first.id, { done: false });
  await eventually(() => open.length === 1, 5000, "the reopened task");
  assert.deepEqual(open, [{ id: first.id, title: "before the view", team: 7, done: false }]);
});
