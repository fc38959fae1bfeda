// A stand-in for the to-do web application (the API web/todo/todo_api.js uses), in
// memory: it authorizes a DataSync subscription through Snorky's backend *before* it
// reads its rows, and publishes a delta for every change.
import http from "node:http";
import { Backend } from "../../src/backend.js";

const filters = {
  open: ["==", "done", false],
  done: ["==", "done", true],
  all: ["or", ["==", "done", true], ["==", "done", false]],
};

export async function startTodoApp({ backendUrl, backendKey, allowedOrigin, dealer = "todos" }) {
  const backend = new Backend(backendUrl, backendKey);
  const rows = new Map();
  let nextId = 1;
  const publish = (delta) => backend.call("datasync_backend", "publishDeltas", { deltas: [{ model: "todo", ...delta }] });

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
      const id = Number(url.pathname.split("/")[3]);
      if (req.method === "OPTIONS") return send(204);
      if (req.method === "GET" && url.pathname === "/api/todos") {
        const query = filters[url.searchParams.get("filter") ?? "open"];
        if (!query) return send(400, { error: "Unknown filter" });
        const token = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer, query }] });
        const items = [...rows.values()].filter((row) => matches(query, row));
        return send(200, { items, token });
      }
      if (req.method === "POST" && url.pathname === "/api/todos") {
        const row = { id: nextId++, title: String(input.title), done: false };
        rows.set(row.id, row);
        await publish({ type: "insert", data: row });
        return send(201, row);
      }
      if (req.method === "PATCH" && rows.has(id)) {
        const oldData = rows.get(id);
        const newData = { ...oldData, ...("done" in input ? { done: !!input.done } : {}), ...("title" in input ? { title: String(input.title) } : {}) };
        rows.set(id, newData);
        await publish({ type: "update", oldData, newData });
        return send(200, newData);
      }
      if (req.method === "DELETE" && rows.has(id)) {
        const data = rows.get(id);
        rows.delete(id);
        await publish({ type: "delete", data });
        return send(200, null);
      }
      return send(404, { error: "Not found" });
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

function matches(query, row) {
  const [op, ...args] = query;
  if (op === "==") return row[args[0]] === args[1];
  if (op === "or") return args.some((q) => matches(q, row));
  throw new Error(`stand-in filter: ${op}`);
}
