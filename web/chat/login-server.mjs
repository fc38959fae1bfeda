#!/usr/bin/env node
// Demo login server for the chat page. A browser must never hold the Snorky backend
// key, so the page asks this server for an identity token, and this server mints it
// through Snorky's backend (auth_backend.mintToken). It checks no password: it is a
// demo. A real application mints the token in its own login handler, after checking
// the user's credentials, exactly as done below.
//
//   SNORKY_BACKEND_KEY=... node web/chat/login-server.mjs
//
// Environment: SNORKY_BACKEND_URL (default http://127.0.0.1:5801/backend),
// SNORKY_BACKEND_KEY (required), LOGIN_PORT (default 5802; 0 = any free port),
// LOGIN_ADDRESS (default 127.0.0.1), ALLOWED_ORIGINS (comma-separated origins of the
// chat page; default http://localhost:5800,http://127.0.0.1:5800), TOKEN_LIFETIME (s, default 3600).
import http from "node:http";
import { Backend, SnorkyError } from "../lib/backend.js";

const backendUrl = process.env.SNORKY_BACKEND_URL ?? "http://127.0.0.1:5801/backend";
const key = process.env.SNORKY_BACKEND_KEY;
if (!key) {
  console.error("login-server: set SNORKY_BACKEND_KEY (the key of Snorky's backend listener)");
  process.exit(2);
}
const port = Number(process.env.LOGIN_PORT ?? 5802);
const address = process.env.LOGIN_ADDRESS ?? "127.0.0.1";
const allowedOrigins = new Set(
  (process.env.ALLOWED_ORIGINS ?? "http://localhost:5800,http://127.0.0.1:5800").split(",").map((o) => o.trim()),
);
const lifetime = Number(process.env.TOKEN_LIFETIME ?? 3600);
const backend = new Backend(backendUrl, key);

// Display names: short, printable, no markup.
const NAME = /^[\p{L}\p{N} _.-]{1,32}$/u;
const MAX_BODY = 1024;

function reply(res, status, body, origin) {
  const headers = { "Content-Type": "application/json", "Cache-Control": "no-store" };
  if (origin) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Access-Control-Allow-Headers"] = "Content-Type";
    headers["Access-Control-Allow-Methods"] = "POST, OPTIONS";
    headers.Vary = "Origin";
  }
  res.writeHead(status, headers);
  res.end(body === null ? "" : JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const origin = allowedOrigins.has(req.headers.origin) ? req.headers.origin : null;
  if (req.headers.origin && !origin) return reply(res, 403, { error: "Origin not allowed" }, null);
  if (req.method === "OPTIONS") return reply(res, 204, null, origin);
  if (req.url !== "/login") return reply(res, 404, { error: "Not found" }, origin);
  if (req.method !== "POST") return reply(res, 405, { error: "Method not allowed" }, origin);
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => {
    body += chunk;
    if (body.length > MAX_BODY) {
      reply(res, 413, { error: "Body too large" }, origin);
      req.destroy();
    }
  });
  req.on("end", async () => {
    if (res.headersSent) return;
    let name;
    try {
      name = JSON.parse(body).name;
    } catch {
      return reply(res, 400, { error: "Invalid JSON" }, origin);
    }
    if (typeof name !== "string" || !NAME.test(name.trim())) {
      return reply(res, 400, { error: "A name is 1 to 32 letters, digits, spaces, _ . or -" }, origin);
    }
    const identity = name.trim();
    try {
      const token = await backend.call("auth_backend", "mintToken", { identity, lifetime });
      reply(res, 200, { identity, token }, origin);
    } catch (error) {
      console.error("login-server: mintToken failed:", error.message);
      reply(res, error instanceof SnorkyError ? 400 : 502, { error: error.message }, origin);
    }
  });
});

server.listen(port, address, () => {
  // The tests read this line for the port.
  console.log(`login-server listening on http://${address}:${server.address().port}/login`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.close(() => process.exit(0)));
