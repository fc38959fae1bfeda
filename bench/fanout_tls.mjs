// Server CPU per delivery over wss:// (or ws://): N clients of the `ws`
// package subscribe to one channel, the backend publishes M messages in
// bursts, and the server's utime+stime over the run (from /proc/<pid>/stat)
// is divided by the deliveries. Used by bench/run-fanout-tls.sh.
// Usage: node fanout_tls.mjs <ws url> <backend url> <clients> <messages> <server pid> [ca file]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../clients/js/package.json", import.meta.url));
const WebSocket = require("ws");
const [url, backend, clientsText, messagesText, pid, caFile] = process.argv.slice(2);
const clients = Number(clientsText);
const messages = Number(messagesText);
const ca = caFile ? readFileSync(caFile) : undefined;
const ticks = () => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return Number(fields[11]) + Number(fields[12]);  // utime + stime, clock ticks (100/s)
};

let received = 0;
let allReceived;
const done = new Promise((resolve) => { allReceived = resolve; });
const sockets = [];
for (let i = 0; i < clients; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(clients, i + 50); j++) {
    const socket = new WebSocket(url, { ca, perMessageDeflate: false });
    sockets.push(socket);
    batch.push(new Promise((resolve, reject) => {
      socket.once("error", reject);
      socket.once("open", () => {
        socket.send(JSON.stringify({ service: "pubsub", message: { command: "subscribe", params: { channel: "fan" }, callId: 1 } }));
      });
      socket.on("message", (data) => {
        const envelope = JSON.parse(data);
        if (envelope.message.type === "response") return resolve();
        if (++received === clients * messages) allReceived();
      });
    }));
  }
  await Promise.all(batch);
}
const payload = "x".repeat(100);
const start = ticks();
const begun = process.hrtime.bigint();
for (let m = 0; m < messages; m++) {
  await fetch(backend, {
    method: "POST",
    headers: { "X-Backend-Key": process.env.BACKEND_KEY },
    body: JSON.stringify({ service: "pubsub_backend", message: { command: "publish", params: { channel: "fan", message: `${m}:${payload}` }, callId: 1 } }),
  });
}
await done;
const cpuTicks = ticks() - start;
const seconds = Number(process.hrtime.bigint() - begun) / 1e9;
const result = { url: url.split(":")[0], clients, messages, deliveries: received, seconds: +seconds.toFixed(2),
  serverCpuSeconds: cpuTicks / 100, microsecondsPerDelivery: +((cpuTicks / 100) * 1e6 / received).toFixed(2) };
console.log(`RESULT ${JSON.stringify(result)}`);
for (const socket of sockets) socket.terminate();
