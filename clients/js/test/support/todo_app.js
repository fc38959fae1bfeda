// A stand-in for the to-do web application (examples/todo/app.py: same HTTP API, in
// memory, plus CORS so that the page served by Snorky may call it). Like the real one it
// authorizes the view's DataSync subscription through Snorky's backend *before* it
// reads its rows, and publishes a delta for every change.
import http from "node:http";
import { Backend } from "../../src/backend.js";

function viewFilter(team, done) {
  const byTeam = ["==", "team", team];
  return done === null ? byTeam : ["and", byTeam, ["==", "done", done]];
}

export async function startTodoApp({ backendUrl, backendKey, allowedOrigin, dealer = "tasks" }) {
  const backend = new Backend(backendUrl, backendKey);
  const rows = new Map();
  let nextId = 1;
  const publish = (delta) => backend.call("datasync_backend", "publishDeltas", { deltas: [{ model: "task", ...delta }] });

  const server = http.createServer(async (req, res) => {
    const send = (status, body) => {
      res.writeHead(status, {
        "Content-Type": "application/json",
        "Access-Control-Allow-Origin": allowedOrigin,
        "Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
      });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    let body = "";
    for await (const chunk of req) body += chunk;
    try {
      const url = new URL(req.url, "http://x");
      const input = body ? JSON.parse(body) : {};
      const id = Number(/^\/api\/tasks\/(\d+)$/.exec(url.pathname)?.[1]);
      if (req.method === "OPTIONS") return send(204);
      if (req.method === "GET" && url.pathname === "/api/tasks") {
        const team = Number(url.searchParams.get("team"));
        const done = { true: true, false: false, any: null }[url.searchParams.get("done") ?? "any"];
        if (!Number.isInteger(team) || done === undefined) return send(400, { error: "bad view" });
        const query = viewFilter(team, done);
        // Authorize first, then query: no change can fall between data and subscription.
        const token = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer, query }] });
        const tasks = [...rows.values()].filter((row) => row.team === team && (done === null || row.done === done));
        return send(200, { token, tasks });
      }
      if (req.method === "POST" && url.pathname === "/api/tasks") {
        const row = { id: nextId++, title: String(input.title), team: Number(input.team), done: false };
        rows.set(row.id, row);
        await publish({ type: "insert", data: row });
        return send(201, row);
      }
      if (req.method === "PATCH" && rows.has(id)) {
        const oldData = rows.get(id);
        const newData = { ...oldData };
        if ("done" in input) newData.done = Boolean(input.done);
        if ("title" in input) newData.title = String(input.title);
        rows.set(id, newData);
        await publish({ type: "update", oldData, newData });
        return send(200, newData);
      }
      if (req.method === "DELETE" && rows.has(id)) {
        const data = rows.get(id);
        rows.delete(id);
        await publish({ type: "delete", data });
        return send(204);
      }
      return send(404, { error: "not found" });
    } catch (error) {
      return send(500, { error: error.message });
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    rows,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
