import { Snorky, DataSync, DeltaProcessor, ArrayCollection } from "/lib/index.js";
import { snorkyUrl, showStatus } from "/demo_config.js";
import { TodoApi } from "./todo_api.js";

const params = new URLSearchParams(location.search);
// The to-do application (examples/todo, port 8000 by default) and the team whose list this is.
const api = new TodoApi(params.get("api") ?? `${location.protocol}//${location.hostname}:8000`, Number(params.get("team") ?? 1));
const $ = (id) => document.getElementById(id);

// The list on screen is exactly this array: the delta processor keeps it right.
const todos = [];
const processor = new DeltaProcessor({ collections: { task: new ArrayCollection(todos, { key: "id" }) } });
const snorky = new Snorky(snorkyUrl(), { datasync: new DataSync({ deltaProcessor: processor }) }, { debug: params.has("debug") });
showStatus(snorky, $("status"));
const datasync = snorky.services.datasync;

let filter = "open";
const doneFor = { open: false, done: true, all: "any" };
let token = null;
let loading = 0; // generation: a slow answer for an old filter is ignored

function showError(error) {
  $("error").textContent = error ? error.message ?? String(error) : "";
  $("error").hidden = !error;
}

function render() {
  // In the application's order (by id, as its query sorts): a row that moves out of the
  // view and back in arrives as an insert at the end of the array, yet must show where
  // a reload would show it.
  const sorted = [...todos].sort((a, b) => a.id - b.id);
  const items = sorted.map((todo) => {
    const item = document.createElement("li");
    item.className = todo.done ? "row done" : "row";
    item.dataset.id = todo.id;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !!todo.done;
    box.title = todo.done ? "Mark as open" : "Mark as done";
    box.addEventListener("change", () => api.update(todo.id, { done: box.checked }).catch(showError));
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = todo.title;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Delete";
    remove.addEventListener("click", () => api.remove(todo.id).catch(showError));
    item.append(box, title, remove);
    return item;
  });
  $("list").replaceChildren(...items);
  $("empty").hidden = todos.length > 0;
}

// Data and subscription come together from the web application, which authorized
// the subscription before it queried its database: no change can fall in between.
// One view at a time: deltas do not say which subscription they belong to, so the old
// view's subscription is cancelled before the new view's rows are shown. A load asked
// for while another runs waits for it (and only the latest one asked for runs).
let queue = Promise.resolve();
function load() {
  const generation = ++loading;
  document.body.dataset.ready = "false";
  const run = queue.then(() => (generation === loading ? loadView(generation) : undefined));
  queue = run.catch(() => {}); // a failed load (shown by the caller) must not stop the next
  return run;
}

async function loadView(generation) {
  if (token) {
    const old = token;
    token = null;
    // Awaited: deltas of the old view, sent before the cancel, arrive before its answer.
    await datasync.cancelSubscription({ token: old }).catch(() => {}); // gone already after a reconnect
  }
  const answer = await api.view(doneFor[filter]);
  // A newer load() was asked for meanwhile: it queries again (this token expires unused).
  if (generation !== loading) return;
  todos.splice(0, todos.length, ...answer.tasks);
  render();
  await datasync.acquireSubscription({ token: answer.token });
  // Kept even if a newer load() was asked for meanwhile: that one cancels it first.
  token = answer.token;
  if (generation === loading) document.body.dataset.ready = "true";
}

processor.on("change", render);
datasync.on("subscriptionsLost", () => load().catch(showError));

for (const radio of document.querySelectorAll('input[name="filter"]')) {
  radio.addEventListener("change", () => {
    filter = radio.value;
    load().catch(showError);
  });
}

$("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = $("title").value.trim();
  if (!title) return;
  try {
    await api.create(title);
    $("title").value = "";
    showError(null);
  } catch (error) {
    showError(error);
  }
});

load().catch(showError);
window.snorky = snorky;
