// Recovery after a mass disconnect (docs/benchmarks.md): N clients subscribe
// with `recover`, all lose their connection at once, M messages are published
// meanwhile, then all reconnect at once asking for what they missed. Prints
// the time until every client has its M messages and is live again, and the
// server's CPU over that interval (utime + stime of its process; and
// redis-server's, given its pid). Checks what
// it measures: every client gets exactly the M missed messages in order, then
// one live message. Used by bench/run-recovery.sh.
// Usage: node recovery.mjs <ws url to subscribe> <ws url to reconnect to>
//                          <backend url> <backend key> <clients> <missed> <server pid> [payload bytes] [redis pid]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../clients/js/package.json", import.meta.url));
const WebSocket = require("ws");
const [firstUrl, againUrl, backendUrl, key, clientsText, missedText, pid, payloadText, redisPid] = process.argv.slice(2);
const clients = Number(clientsText);
const missed = Number(missedText);
const payload = "x".repeat(Number(payloadText || 100));
const channel = "recovery-bench";
const ticksPerSecond = 100;  // USER_HZ on Linux

function cpuSeconds(of = pid) {  // utime + stime, fields 14 and 15 of /proc/<pid>/stat
  if (!of) return 0;
  const stat = readFileSync(`/proc/${of}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

async function publish(message) {
  const body = JSON.stringify({ service: "pubsub_backend",
    message: { command: "publish", params: { channel, message } } });
  const response = await fetch(backendUrl, { method: "POST", body,
    headers: { "X-Backend-Key": key, "Content-Type": "application/json" } });
  const answer = await response.json();
  if (answer.message?.type !== "response") throw new Error(`publish failed: ${JSON.stringify(answer)}`);
}

// Opens a socket, sends one subscribe, resolves with the socket and the answer's data.
function subscribe(url, params) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const live = [];
    socket.once("error", reject);
    socket.once("open", () => socket.send(JSON.stringify({ service: "pubsub",
      message: { command: "subscribe", params: { channel, ...params }, callId: 1 } })));
    socket.on("message", (text) => {
      const { message } = JSON.parse(text);
      if (message.type === "response" && message.callId === 1) resolve({ socket, data: message.data, live });
      else if (message.type === "error") reject(new Error(JSON.stringify(message)));
      else if (message.type === "message") live.push(message);
    });
  });
}

async function inBatches(count, open) {  // at most 200 handshakes in flight
  const all = [];
  for (let i = 0; i < count; i += 200) {
    all.push(...await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => open(i + j))));
  }
  return all;
}

const first = await inBatches(clients, () => subscribe(firstUrl, { recover: true }));
if (!first[0].data) throw new Error("subscribe with recover answered null: no history on this channel (engine?)");
const since = { offset: first[0].data.offset, epoch: first[0].data.epoch };
for (const { socket } of first) socket.terminate();
await new Promise((r) => setTimeout(r, 1000));  // the server notices the closes
for (let i = 1; i <= missed; i++) await publish(`${i}:${payload}`);

const cpuBefore = cpuSeconds();
const redisBefore = cpuSeconds(redisPid);
const start = process.hrtime.bigint();
const again = await Promise.all(Array.from({ length: clients }, () => subscribe(againUrl, { since })));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = cpuSeconds() - cpuBefore;
const redisCpu = cpuSeconds(redisPid) - redisBefore;

let wrong = 0;
for (const { data } of again) {
  const got = data?.recovered ? data.publications.map((p) => Number(p.message.split(":")[0])) : [];
  if (got.length !== missed || got.some((n, i) => n !== i + 1)) wrong++;
}
const liveArrived = Promise.all(again.map(({ socket, live }) => new Promise((resolve) => {
  if (live.length) return resolve();
  socket.on("message", () => resolve());
})));
await publish("live");
await liveArrived;
for (const { socket } of again) socket.terminate();

const result = { clients, missed, payloadBytes: payload.length, seconds: Number(seconds.toFixed(3)),
  serverCpuSeconds: Number(cpu.toFixed(2)), cpuMicrosPerReplayedMessage: Number((cpu * 1e6 / (clients * missed)).toFixed(3)),
  ...(redisPid ? { redisCpuSeconds: Number(redisCpu.toFixed(2)) } : {}), clientsNotRecoveredExactly: wrong };
console.log(`RESULT ${JSON.stringify(result)}`);
if (wrong) process.exit(1);
