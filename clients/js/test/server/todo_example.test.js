// The to-do page's API module (web/todo/todo_api.js) against the real to-do
// application (examples/todo/app.py) and the real server: the contract the page relies
// on. Skipped while examples/todo is not in this checkout.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { DataSync, DeltaProcessor, ArrayCollection } from "../../src/index.js";
import { TodoApi } from "../../../../web/todo/todo_api.js";
import { listenersToml, datasyncToml, startOrSkip, eventually } from "../support/server.js";
import { startTodoApp, todoAppPath } from "../support/todo_app.js";
import { connectClient } from "../support/clients.js";

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test("the page's API module and a live view against examples/todo", async (t) => {
  if (!existsSync(todoAppPath)) return t.skip("examples/todo is not in this checkout");
  const server = await startOrSkip(t, listenersToml() + datasyncToml);
  if (!server) return;
  cleanups.push(() => server.dispose());
  const app = await startTodoApp(server);
  cleanups.push(() => app.close());
  const api = new TodoApi(app.url, 7);

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
