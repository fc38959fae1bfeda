// The to-do web application's HTTP API, as the page uses it. The application (not the
// browser) talks to Snorky's backend: it authorizes subscriptions and publishes deltas.
export class TodoApi {
  constructor(base) {
    this.base = base.replace(/\/$/, "");
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

  /** {items, token}: the rows of the view and a DataSync token for its changes. */
  list(filter) {
    return this.request("GET", `/api/todos?filter=${encodeURIComponent(filter)}`);
  }

  create(title) {
    return this.request("POST", "/api/todos", { title });
  }

  update(id, changes) {
    return this.request("PATCH", `/api/todos/${encodeURIComponent(id)}`, changes);
  }

  remove(id) {
    return this.request("DELETE", `/api/todos/${encodeURIComponent(id)}`);
  }
}
