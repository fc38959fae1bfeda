// The to-do page: rows and a subscription come from the Django API in one request
// (X-Snorky: Subscribe -> X-Subscription-Token), then the JS client's DeltaProcessor
// keeps the list equal to the database as deltas arrive.
import { Snorky, DataSync, DeltaProcessor, ArrayCollection } from "./lib/index.js";

const params = new URLSearchParams(location.search);
// The Django application (port 8000 by default; ?api= elsewhere) and the team whose list this is.
const api = (params.get("api") ?? `${location.protocol}//${location.hostname}:8000`).replace(/\/$/, "");
const team = Number(params.get("team") ?? 1);
// Snorky served this page: its WebSocket is on the same host and port.
const wsUrl = params.get("ws") ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const $ = (id) => document.getElementById(id);

const todos = [];
const processor = new DeltaProcessor({ collections: { task: new ArrayCollection(todos, { key: "id" }) } });
const snorky = new Snorky(wsUrl, { datasync: new DataSync({ deltaProcessor: processor }) });
const datasync = snorky.services.datasync;
for (const event of ["connecting", "connected", "disconnected", "reconnecting"]) {
  snorky.on(event, () => { $("status").textContent = $("status").dataset.state = snorky.state; });
}

async function request(method, path, body, headers = {}) {
  const response = await fetch(api + path, {
    method,
    headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error(data ? JSON.stringify(data) : `HTTP ${response.status}`);
  return { data, response };
}

function showError(error) {
  $("error").textContent = error ? error.message ?? String(error) : "";
  $("error").hidden = !error;
}

function render() {
  const items = [...todos].sort((a, b) => a.id - b.id).map((todo) => {
    const item = document.createElement("li");
    item.className = todo.done ? "done" : "";
    item.dataset.id = todo.id;
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = todo.done;
    box.addEventListener("change", () => request("PATCH", `/api/tasks/${todo.id}/`, { done: box.checked }).catch(showError));
    const title = document.createElement("span");
    title.className = "title";
    title.textContent = todo.title;
    const remove = document.createElement("button");
    remove.textContent = "Delete";
    remove.addEventListener("click", () => request("DELETE", `/api/tasks/${todo.id}/`).catch(showError));
    item.append(box, title, remove);
    return item;
  });
  $("list").replaceChildren(...items);
}

const doneFor = { open: "false", done: "true", all: "any" };
let filter = "open";
let token = null;
let loading = 0;

// One view at a time: the old subscription is cancelled before the new rows are shown
// (deltas do not say which subscription they belong to). Loads run one after the
// other, and only the latest one asked for runs.
let queue = Promise.resolve();
function load() {
  const generation = ++loading;
  document.body.dataset.ready = "false";
  const run = queue.then(() => (generation === loading ? loadView(generation) : undefined));
  queue = run.catch(() => {});
  return run;
}

async function loadView(generation) {
  if (token) {
    const old = token;
    token = null;
    await datasync.cancelSubscription({ token: old }).catch(() => {}); // gone already after a reconnect
  }
  const { data, response } = await request("GET", `/api/tasks/?team=${team}&done=${doneFor[filter]}`, undefined, { "X-Snorky": "Subscribe" });
  if (generation !== loading) return;
  todos.splice(0, todos.length, ...data);
  render();
  const newToken = response.headers.get("X-Subscription-Token");
  if (newToken) {
    // Changes committed since Django authorized it were buffered by Snorky: nothing is lost.
    await datasync.acquireSubscription({ token: newToken });
    token = newToken;
  }
  $("live").textContent = token ? "live" : "not live (Snorky unreachable): reload later";
  if (generation === loading) document.body.dataset.ready = "true";
}

processor.on("change", render);
datasync.on("subscriptionsLost", () => load().catch(showError));
for (const radio of document.querySelectorAll('input[name="filter"]')) {
  radio.addEventListener("change", () => { filter = radio.value; load().catch(showError); });
}
$("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await request("POST", "/api/tasks/", { title: $("title").value.trim(), team });
    $("title").value = "";
    showError(null);
  } catch (error) {
    showError(error);
  }
});

load().catch(showError);
window.snorky = snorky;
