#include "transport/status_page.hpp"

namespace snorky {

namespace {

// Self-contained (no CDN, no file on disk): inline style and script, allowed
// by the page's Content-Security-Policy, and fetches to this listener only.
// The key lives in sessionStorage (this tab only) and travels in the
// X-Backend-Key header, never in a URL that a log or a Referer could keep.
constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Snorky status</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #222; }
header { background: #233; color: #fff; padding: 10px 20px; display: flex; justify-content: space-between; }
main { padding: 16px 20px; max-width: 1000px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.tile { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px #0002; }
.tile b { display: block; font-size: 24px; font-variant-numeric: tabular-nums; }
.tile span { color: #666; }
canvas { background: #fff; border-radius: 6px; box-shadow: 0 1px 2px #0002; width: 100%; height: 180px; margin-top: 12px; }
table { border-collapse: collapse; background: #fff; margin-top: 12px; min-width: 50%; }
td, th { padding: 4px 12px; border-bottom: 1px solid #eee; text-align: left; }
#error { color: #b00; min-height: 1.4em; }
#login[hidden], #dashboard[hidden] { display: none; }
.legend i { display: inline-block; width: 12px; height: 3px; margin: 0 4px 3px 10px; }
</style>
</head>
<body>
<header><strong>Snorky status</strong><span id="updated"></span></header>
<main>
<p id="error" role="alert"></p>
<form id="login">
  <label>Backend key <input id="key" type="password" autocomplete="off" required></label>
  <button type="submit">Show</button>
</form>
<section id="dashboard" hidden>
  <div class="tiles">
    <div class="tile"><b id="connections">-</b><span>connections open</span></div>
    <div class="tile"><b id="in-rate">-</b><span>messages in / s</span></div>
    <div class="tile"><b id="out-rate">-</b><span>frames out / s</span></div>
    <div class="tile"><b id="slow">-</b><span>slow consumers cut off</span></div>
    <div class="tile"><b id="engine">-</b><span>engine</span></div>
  </div>
  <canvas id="rates" width="960" height="180"></canvas>
  <div class="legend"><i style="background:#2a7"></i>in / s<i style="background:#37c"></i>out / s (last 5 minutes)</div>
  <canvas id="connections-chart" width="960" height="180"></canvas>
  <div class="legend"><i style="background:#c63"></i>connections (last 5 minutes)</div>
  <table><thead><tr><th>service</th><th>counts</th></tr></thead><tbody id="services"></tbody></table>
  <p><button id="forget" type="button">Forget the key</button></p>
</section>
</main>
<script>
"use strict";
const HISTORY = 300;  // one sample a second: five minutes
const $ = (id) => document.getElementById(id);
const samples = { in: [], out: [], connections: [] };
let key = sessionStorage.getItem("snorky-status-key");
let previous = null;
let timer = null;

function push(series, value) {
  series.push(value);
  if (series.length > HISTORY) series.shift();
}

// A line chart of the series on one scale from 0 to their largest value.
function draw(canvas, series) {
  const g = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 24;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  g.strokeStyle = "#ddd";
  g.fillStyle = "#888";
  g.font = "11px system-ui, sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = pad + ((h - 2 * pad) * i) / 4;
    g.beginPath(); g.moveTo(40, y); g.lineTo(w - 8, y); g.stroke();
    const label = (max * (4 - i)) / 4;
    g.fillText(max < 8 ? label.toFixed(1) : String(Math.round(label)), 4, y + 4);
  }
  for (const s of series) {
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    s.values.forEach((v, i) => {
      const x = w - 8 - ((s.values.length - 1 - i) * (w - 48)) / (HISTORY - 1);
      const y = h - pad - ((h - 2 * pad) * v) / max;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
}

function show(data) {
  const now = performance.now();
  const counters = data.counters;
  $("connections").textContent = data.connections;
  $("slow").textContent = counters.slow_consumers;
  $("engine").textContent = data.engine.engine + (data.engine.redis ? " (" + data.engine.redis + ")" : "");
  if (previous) {
    const seconds = Math.max(0.001, (now - previous.at) / 1000);
    const inRate = (counters.messages_received - previous.counters.messages_received) / seconds;
    const outRate = (counters.frames_sent - previous.counters.frames_sent) / seconds;
    $("in-rate").textContent = Math.round(inRate);
    $("out-rate").textContent = Math.round(outRate);
    push(samples.in, inRate);
    push(samples.out, outRate);
  }
  push(samples.connections, data.connections);
  previous = { at: now, counters };
  draw($("rates"), [{ values: samples.in, color: "#2a7" }, { values: samples.out, color: "#37c" }]);
  draw($("connections-chart"), [{ values: samples.connections, color: "#c63" }]);
  const rows = Object.entries(data.services).map(([name, counts]) => {
    const tr = document.createElement("tr");
    const n = document.createElement("td");
    n.textContent = name;
    const c = document.createElement("td");
    c.textContent = Object.entries(counts).map(([k, v]) => k + ": " + v).join(", ");
    tr.append(n, c);
    return tr;
  });
  $("services").replaceChildren(...rows);
  $("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

async function poll() {
  try {
    const reply = await fetch("/status.json", { headers: { "X-Backend-Key": key }, cache: "no-store" });
    if (reply.status === 401) return logout("The key was refused.");
    if (!reply.ok) throw new Error("HTTP " + reply.status);
    show(await reply.json());
    $("error").textContent = "";
  } catch (e) {
    $("error").textContent = "Cannot reach the server: " + e.message;
  }
}

function start() {
  $("login").hidden = true;
  $("dashboard").hidden = false;
  poll();
  timer = setInterval(poll, 1000);
}

function logout(message) {
  clearInterval(timer);
  sessionStorage.removeItem("snorky-status-key");
  key = null;
  previous = null;
  for (const s of Object.values(samples)) s.length = 0;
  $("dashboard").hidden = true;
  $("login").hidden = false;
  $("error").textContent = message;
}

$("login").addEventListener("submit", (event) => {
  event.preventDefault();
  key = $("key").value;
  $("key").value = "";
  sessionStorage.setItem("snorky-status-key", key);
  start();
});
$("forget").addEventListener("click", () => logout(""));
if (key) start();
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view statusPageHtml() { return kPage; }

std::string statusJson(const Metrics& metrics, const json::object& engine, json::object services) {
    json::object counters{
        {"connections_opened", metrics.connectionsOpened.load()},
        {"connections_closed", metrics.connectionsClosed.load()},
        {"messages_received", metrics.messagesReceived.load()},
        {"messages_dropped", metrics.messagesDropped.load()},
        {"frames_sent", metrics.framesSent.load()},
        {"slow_consumers", metrics.slowConsumers.load()},
        {"rate_limited", metrics.rateLimited.load()},
        {"backend_requests", metrics.backendRequests.load()},
        {"engine_published", metrics.enginePublished.load()},
        {"engine_received", metrics.engineReceived.load()},
        {"engine_dropped", metrics.engineDropped.load()},
        {"engine_disconnects", metrics.engineDisconnects.load()},
    };
    json::object out{{"connections", metrics.connectionsOpen()}, {"counters", std::move(counters)},
                     {"engine", engine}, {"services", std::move(services)}};
    return json::serialize(out);
}

}  // namespace snorky
