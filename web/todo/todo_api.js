// The HTTP API of the to-do web application (examples/todo/app.py), as this page uses
// it. The application, not the browser, talks to Snorky's backend: it authorizes the
// view's subscription before it queries its database, and publishes a delta for every
// change. Served from another origin than this page, it must allow this page's origin
// (CORS).
export class TodoApi {
  constructor(base, team) {
    this.base = base.replace(/\/$/, "");
    this.team = team;
  }

  async request(method, path, body) {
    const response = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(data?.error ?? `HTTP ${response.status}`);
    return data;
  }

  /** {tasks, token}: the rows of a view and a DataSync token for its changes.
   *  done: true, false or "any". */
  view(done) {
    return this.request("GET", `/api/tasks?team=${this.team}&done=${done}`);
  }

  create(title) {
    return this.request("POST", "/api/tasks", { title, team: this.team });
  }

  update(id, changes) {
    return this.request("PATCH", `/api/tasks/${encodeURIComponent(id)}`, changes);
  }

  remove(id) {
    return this.request("DELETE", `/api/tasks/${encodeURIComponent(id)}`);
  }
}
