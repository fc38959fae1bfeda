// The to-do page: two views, each a filter over the task table, kept live.
"use strict";

let snorkyUrl = null;

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok && response.status !== 204) {
    const detail = await response.json().catch(() => ({}));
    throw new Error(detail.error || response.statusText);
  }
  return response.status === 204 ? null : response.json();
}

// Applying a delta is idempotent (an insert of a known id replaces it, a
// delete of an unknown id does nothing), so a view stays right even if a
// change were both in the query's rows and in a delta.
function applyDelta(tasks, delta) {
  if (delta.model !== "task") return null;
  if (delta.type === "insert") { tasks.set(delta.data.id, delta.data); return delta.data.id; }
  if (delta.type === "update") { tasks.set(delta.newData.id, delta.newData); return delta.newData.id; }
  if (delta.type === "delete") { tasks.delete(delta.data.id); return null; }
  return null;
}

function createView(root, team, done) {
  root.innerHTML = `
    <h2>View</h2>
    <label>Team <select class="team"><option>1</option><option>2</option><option>3</option></select></label>
    <label>Show <select class="done">
      <option value="false">open</option><option value="true">done</option><option value="any">all</option>
    </select></label>
    <div class="status">connecting</div>
    <ul></ul>`;
  const teamSelect = root.querySelector(".team"), doneSelect = root.querySelector(".done");
  const status = root.querySelector(".status"), list = root.querySelector("ul");
  teamSelect.value = String(team);
  doneSelect.value = done;
  let tasks = new Map(), live = null, generation = 0;

  function render(flashId) {
    list.innerHTML = "";
    for (const task of [...tasks.values()].sort((a, b) => a.id - b.id)) {
      const item = document.createElement("li");
      item.className = (task.done ? "done" : "") + (task.id === flashId ? " flash" : "");
      item.innerHTML = `<input type="checkbox"><span></span>
        <select><option>1</option><option>2</option><option>3</option></select><button>✕</button>`;
      item.querySelector("span").textContent = task.title;
      const checkbox = item.querySelector("input"), move = item.querySelector("select");
      checkbox.checked = task.done;
      move.value = String(task.team);
      checkbox.onchange = () => api("PATCH", `/api/tasks/${task.id}`, { done: checkbox.checked }).catch(alert);
      move.onchange = () => api("PATCH", `/api/tasks/${task.id}`, { team: Number(move.value) }).catch(alert);
      item.querySelector("button").onclick = () => api("DELETE", `/api/tasks/${task.id}`).catch(alert);
      list.appendChild(item);
    }
  }

  async function load() {
    const mine = ++generation;
    if (live) live.close();
    live = null;
    status.textContent = "loading";
    status.className = "status";
    try {
      // The application authorizes the subscription, then queries: rows + token.
      const view = await api("GET", `/api/tasks?team=${teamSelect.value}&done=${doneSelect.value}`);
      if (mine !== generation) return;  // the user changed the filter meanwhile
      tasks = new Map(view.tasks.map((t) => [t.id, t]));
      render();
      live = openLiveView(snorkyUrl, view.token,
        (delta) => render(applyDelta(tasks, delta)),
        (text) => { status.textContent = text; status.className = "status " + (text === "live" ? "live" : text.startsWith("error") ? "error" : ""); });
    } catch (error) {
      status.textContent = "error: " + error.message;
      status.className = "status error";
    }
  }

  teamSelect.onchange = load;
  doneSelect.onchange = load;
  load();
}

async function main() {
  snorkyUrl = (await api("GET", "/api/config")).snorkyUrl;
  // "{host}" stands for the host that served this page.
  snorkyUrl = snorkyUrl.replace("{host}", location.hostname);
  createView(document.getElementById("viewA"), 1, "false");
  createView(document.getElementById("viewB"), 1, "any");
  document.getElementById("add").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      await api("POST", "/api/tasks", { title: form.title.value, team: Number(form.team.value) });
      form.title.value = "";
    } catch (error) { alert(error.message); }
  };
}

main();
