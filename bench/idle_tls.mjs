// Memory per idle connection, plain ws:// next to wss://: opens N connections
// with the `ws` package (clients/js's), waits until the server's RSS settles,
// and prints the growth per connection. Used by bench/run-idle-tls.sh.
// Usage: node idle_tls.mjs <url> <count> <server pid> [ca file]
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(new URL("../clients/js/package.json", import.meta.url));
const WebSocket = require("ws");
const [url, countText, pid, caFile] = process.argv.slice(2);
const count = Number(countText);
const ca = caFile ? readFileSync(caFile) : undefined;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;

async function settledRss() {
  let last = rss();
  for (;;) {
    await sleep(1000);
    const now = rss();
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
}

const before = await settledRss();
const sockets = [];
for (let i = 0; i < count; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(count, i + 100); j++) {
    const socket = new WebSocket(url, { ca, perMessageDeflate: false });
    sockets.push(socket);
    batch.push(new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); }));
  }
  await Promise.all(batch);
}
const after = await settledRss();
const result = { url: url.split(":")[0], connections: count, rssBefore: before, rssAfter: after,
  bytesPerConnection: Math.round((after - before) / count) };
console.log(`RESULT ${JSON.stringify(result)}`);
for (const socket of sockets) socket.terminate();
