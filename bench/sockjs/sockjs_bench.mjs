// SockJS next to plain WebSocket on one server thread: CPU per delivery for a
// fan-out (N subscribers of one channel, the backend publishing R/s for D s),
// and memory per idle session. Clients are raw sockets (no client library in
// the measured path): each counts the deliveries it received by a marker.
//   node bench/sockjs/sockjs_bench.mjs --binary build/snorky --mode ws|sockjs-ws|xhr-streaming \
//        [--subscribers 1000] [--rate 20] [--duration 10] [--idle 0]
// --idle N: open N idle sessions instead and print the server's RSS per session.
import net from "node:net";
import http from "node:http";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    binary: { type: "string", default: "build/snorky" },
    mode: { type: "string", default: "ws" },
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "20" },
    duration: { type: "string", default: "10" },
    idle: { type: "string", default: "0" },
  },
});
const N = Number(opt.subscribers), RATE = Number(opt.rate), DURATION = Number(opt.duration), IDLE = Number(opt.idle);
const KEY = "bench-key";
const MARKER = "bench-payload-";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const config = `
[server]
threads = 1
log_level = "warn"
memory_trim_interval = 0
[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
rate_limit = 0
[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
key = "${KEY}"
[[listener]]
type = "sockjs"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/sockjs"
rate_limit = 0
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
`;

async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "snorky-sockjs-bench-"));
  writeFileSync(join(dir, "snorky.toml"), config);
  const ready = join(dir, "ready.json");
  const child = spawn(opt.binary, ["--config", join(dir, "snorky.toml"), "--ready-file", ready], { stdio: "inherit" });
  for (let i = 0; i < 400 && !existsSync(ready); i++) await sleep(25);
  await sleep(50);
  const listeners = JSON.parse(readFileSync(ready, "utf8")).listeners;
  const port = (type) => listeners.find((l) => l.type === type).port;
  return { child, ws: port("websocket"), backend: port("backend"), sockjs: port("sockjs") };
}

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime + stime, USER_HZ = 100
}
function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);
}

// A masked client text frame (zero mask key: the payload goes as it is).
function clientFrame(text) {
  const payload = Buffer.from(text);
  let header;
  if (payload.length < 126) header = Buffer.from([0x81, 0x80 | payload.length]);
  else {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payload.length, 2);
  }
  return Buffer.concat([header, Buffer.alloc(4), payload]);
}

const subscribe = JSON.stringify({ service: "pubsub", message: { command: "subscribe", params: { channel: "bench" }, callId: 1 } });
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

function post(port, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// One subscriber; `count` is the number of marker occurrences received.
function connect(server, mode, index) {
  return new Promise((resolve, reject) => {
    const client = { count: 0, subscribed: false, tail: "" };
    const port = mode === "ws" ? server.ws : server.sockjs;
    const socket = net.connect(port, "127.0.0.1");
    client.socket = socket;
    const id = `s${index}`;
    let head = true;
    socket.setEncoding("latin1");
    socket.on("error", reject);
    socket.on("connect", () => {
      if (mode === "xhr-streaming") {
        socket.write(`POST /sockjs/0/${id}/xhr_streaming HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`);
      } else {
        const path = mode === "ws" ? "/ws" : `/sockjs/0/${id}/websocket`;
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      }
    });
    socket.on("data", (chunk) => {
      const text = client.tail + chunk;
      if (head) {
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) return void (client.tail = text);
        head = false;
        client.tail = "";
        if (mode === "ws") socket.write(clientFrame(subscribe));
        else if (mode === "sockjs-ws") socket.write(clientFrame(JSON.stringify([subscribe])));
        else post(server.sockjs, `/sockjs/0/${id}/xhr_send`, JSON.stringify([subscribe])).catch(reject);
        resolve(client);
        return;
      }
      let at = 0;
      for (;;) {
        const found = text.indexOf(MARKER, at);
        if (found < 0) break;
        client.count++;
        at = found + MARKER.length;
      }
      if (!client.subscribed && text.includes("response")) client.subscribed = true;
      client.tail = text.slice(Math.max(at, text.length - MARKER.length));
    });
  });
}

async function main() {
  const server = await startServer();
  const pid = server.child.pid;
  try {
    if (IDLE > 0) {
      const before = rssKiB(pid);
      const clients = [];
      for (let i = 0; i < IDLE; i++) clients.push(await connect(server, opt.mode, i));
      await sleep(2000);
      const after = rssKiB(pid);
      console.log(JSON.stringify({ mode: opt.mode, idle: IDLE, rssKiB: after - before, bytesPerSession: Math.round(((after - before) * 1024) / IDLE) }));
      return;
    }
    const clients = [];
    for (let i = 0; i < N; i++) clients.push(await connect(server, opt.mode, i));
    const deadline = Date.now() + 20000;
    while (clients.some((c) => !c.subscribed) && Date.now() < deadline) await sleep(20);
    // Warm-up publication: every subscriber has it before measuring.
    const publish = (n) => post(server.backend, "/backend",
      JSON.stringify({ service: "pubsub_backend", message: { command: "publish", params: { channel: "bench", message: MARKER + n } } }),
      { "X-Backend-Key": KEY, "Content-Type": "application/json" });
    await publish(0);
    while (clients.some((c) => c.count < 1) && Date.now() < deadline) await sleep(20);
    const startCount = clients.reduce((s, c) => s + c.count, 0);
    const cpu0 = cpuSeconds(pid);
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < DURATION * 1000) {
      sent++;
      await publish(sent);
      const next = start + (sent * 1000) / RATE;
      await sleep(Math.max(0, next - Date.now()));
    }
    const expected = startCount + sent * N;
    const wait = Date.now() + 10000;
    while (clients.reduce((s, c) => s + c.count, 0) < expected && Date.now() < wait) await sleep(20);
    const cpu = cpuSeconds(pid) - cpu0;
    const delivered = clients.reduce((s, c) => s + c.count, 0) - startCount;
    console.log(JSON.stringify({
      mode: opt.mode, subscribers: N, rate: RATE, publishes: sent, delivered, expected: sent * N,
      serverCpuSeconds: cpu, usPerDelivery: Number(((cpu * 1e6) / delivered).toFixed(2)),
    }));
  } finally {
    server.child.kill("SIGTERM");
  }
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
