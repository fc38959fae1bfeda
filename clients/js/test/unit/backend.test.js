import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { Backend, SnorkyError, TransportError } from "../../src/index.js";

// A stand-in backend endpoint: answers according to the request's command.
let server;
let url;
const seen = [];

before(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      seen.push({ headers: req.headers, body: JSON.parse(body) });
      const { service, message } = JSON.parse(body);
      const reply = (status, text) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(text);
      };
      if (req.headers["x-backend-key"] !== "secret") return reply(401, '{"error":"Invalid API key"}');
      switch (message.command) {
        case "ok":
          return reply(200, JSON.stringify({ service, message: { type: "response", data: { got: message.params } } }));
        case "null":
          return reply(200, JSON.stringify({ service, message: { type: "response", data: null } }));
        case "fail":
          return reply(200, JSON.stringify({ service, message: { type: "error", callId: null, message: "No such dealer" } }));
        case "junk":
          return reply(200, "<html>");
        case "slow":
          return setTimeout(() => reply(200, "{}"), 500);
        default:
          return reply(404, '{"error":"Unknown service"}');
      }
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${server.address().port}/backend`;
});

after(() => server.close());

test("returns the reply's data and sends the envelope with the key", async () => {
  const backend = new Backend(url, "secret");
  assert.deepEqual(await backend.call("svc", "ok", { a: 1 }), { got: { a: 1 } });
  const request = seen.at(-1);
  assert.deepEqual(request.body, { service: "svc", message: { command: "ok", params: { a: 1 } } });
  assert.equal(request.headers["content-type"], "application/json");
  assert.equal(request.headers.accept, "application/json");
  assert.equal(await backend.call("svc", "null"), null);
});

test("a service error throws SnorkyError with the server's text", async () => {
  await assert.rejects(new Backend(url, "secret").call("svc", "fail"), (error) => {
    assert.ok(error instanceof SnorkyError);
    assert.equal(error.message, "No such dealer");
    return true;
  });
});

test("everything else is a TransportError", async () => {
  await assert.rejects(new Backend(url, "wrong").call("svc", "ok"), (error) => {
    assert.ok(error instanceof TransportError && !(error instanceof SnorkyError));
    assert.equal(error.status, 401);
    assert.match(error.message, /401: Invalid API key/);
    return true;
  });
  await assert.rejects(new Backend(url, "secret").call("svc", "other"), { name: "TransportError", status: 404 });
  await assert.rejects(new Backend(url, "secret").call("svc", "junk"), /not a reply/);
  await assert.rejects(new Backend(url, "secret", { timeout: 50 }).call("svc", "slow"), /unreachable/);
  await assert.rejects(new Backend("http://127.0.0.1:1/backend", "secret").call("svc", "ok"), { name: "TransportError" });
});
