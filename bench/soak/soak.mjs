// Controller of the churn soak (run by bench/soak.sh against a running server):
// mints identity tokens through the backend, opens the watcher connection,
// publishes a numbered sequence at a steady rate (PubSub and DataSync) and
// checks that the watcher gets every number in order, forks the client
// processes that churn, samples the server's RSS and descriptors, and at the
// end waits for the descriptors to come back to the baseline.
// Writes samples.csv and summary.json to --out; exit 0 only when all held.
import { fork } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { WebSocket, Backend, parseArgs, sleep, randInt, pick, nameOfBytes, readProc } from "./common.mjs";

const args = parseArgs(process.argv.slice(2));
const ready = JSON.parse(fs.readFileSync(args.ready, "utf8"));
const pid = ready.pid;
const seconds = Number(args.seconds);
const clients = Number(args.clients);
const workerCount = Number(args.workers);
const rate = Number(args.rate);
const sampleMs = Number(args["sample-seconds"] || 2) * 1000;
const rssCheck = args["rss-check"] === "1";
const outDir = args.out;
const frontend = ready.listeners.find((l) => l.type === "websocket");
const backendListener = ready.listeners.find((l) => l.type === "backend");
const wsUrl = `ws://127.0.0.1:${frontend.port}${frontend.path}`;
const backendUrl = `http://127.0.0.1:${backendListener.port}${backendListener.path}`;

const failures = [];
function fail(text) {
    if (failures.length < 50) failures.push(text);
    console.error(`FAIL: ${text}`);
}
const log = (text) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${text}`);
let t0 = Date.now();

// ---- identities: numbers, strings (multi-byte too) and objects, minted by the backend
const backend = new Backend(backendUrl, args.key, "127.0.0.1");
const noise = new Backend(backendUrl, args.key, "127.0.0.1");
const tokens = [];
for (let i = 0; i < 300; ++i) {
    const identity = i % 3 === 0 ? i : i % 3 === 1 ? `user-${i}-${nameOfBytes(1 + randInt(40))}` : { id: i, name: nameOfBytes(i % 30 === 2 ? 1900 : 1 + randInt(60)) };
    tokens.push({ identity, token: await backend.call("auth_backend", "mintToken", { identity, lifetime: 86400 }) });
}

// ---- the watcher: PubSub "soak-seq" and a DataSync broadcast subscription on model "seq"
const watch = { pubsub: { next: 0, got: 0 }, datasync: { next: 0, got: 0 } };
function checkSeq(stream, seq) {
    const s = watch[stream];
    if (seq !== s.next) fail(`watcher (${stream}) expected seq ${s.next}, got ${seq}`);
    s.next = seq + 1;
    s.got++;
}
const watcher = new WebSocket(`${wsUrl}?token=${tokens[0].token}`, { localAddress: "127.0.0.1", perMessageDeflate: false });
const watcherAnswers = new Map();
let watcherClosedByUs = false;
watcher.on("message", (data) => {
    const env = JSON.parse(data.toString("utf8"));
    const m = env.message;
    if (m.type === "response" || m.type === "error") return watcherAnswers.get(m.callId)?.(m);
    if (env.service === "pubsub" && m.type === "message") checkSeq("pubsub", m.message.seq);
    else if (env.service === "datasync" && m.type === "delta") checkSeq("datasync", m.delta.data.seq);
});
watcher.on("close", (code) => { if (!watcherClosedByUs) fail(`the watcher connection was closed (code ${code})`); });
watcher.on("error", (err) => fail(`watcher: ${err.message}`));
await new Promise((resolve, reject) => { watcher.once("open", resolve); watcher.once("error", reject); });
let watcherCall = 0;
const watcherRequest = (service, command, params) => new Promise((resolve, reject) => {
    const callId = ++watcherCall;
    watcherAnswers.set(callId, (m) => (m.type === "response" ? resolve(m.data) : reject(new Error(`${service}.${command}: ${m.message}`))));
    watcher.send(JSON.stringify({ service, message: { command, params, callId } }));
});
await watcherRequest("pubsub", "subscribe", { channel: "soak-seq" });
const seqToken = await backend.call("datasync_backend", "authorizeSubscription", { items: [{ dealer: "seqAll", query: true }] });
await watcherRequest("datasync", "acquireSubscription", { token: seqToken });
await noise.call("pubsub_backend", "publish", { channel: "ch-0", message: "warm-up" });

// ---- samples of the server process
const samples = [];
// With --heap-file: the server's heap bytes in use and held, as bench/soak/heapstats.c writes them.
function readHeap() {
    if (!args["heap-file"]) return {};
    try {
        const [inUse, held] = fs.readFileSync(args["heap-file"], "utf8").trim().split(" ").map(Number);
        return { heapKb: Math.round(inUse / 1024), heapHeldKb: Math.round(held / 1024) };
    } catch {
        return {};
    }
}
async function sample() {
    const s = await readProc(pid);
    if (!s) return null;
    const row = { t: (Date.now() - t0) / 1000, ...s, ...readHeap(), connects: totals().opened || 0 };
    samples.push(row);
    return row;
}
if (args["heap-file"]) await sleep(1500);  // a fresh figure from the reporter thread
const baseline = { ...(await readProc(pid)), ...readHeap() };
if (!baseline.fds) { fail("the server is not running"); process.exit(1); }

// ---- the workers
const workerStats = new Array(workerCount).fill(null);
const finals = new Array(workerCount).fill(false);
function totals() {
    const sum = { names: {}, failureSamples: [] };
    for (const s of workerStats) {
        if (!s) continue;
        for (const [k, v] of Object.entries(s)) {
            if (k === "names") for (const [n, c] of Object.entries(v)) sum.names[n] = (sum.names[n] || 0) + c;
            else if (k === "failureSamples") sum.failureSamples.push(...v);
            else sum[k] = (sum[k] || 0) + v;
        }
    }
    return sum;
}
const slotsPer = Math.ceil(clients / workerCount);
const shared = Math.max(10, Math.floor(clients / 15));
const workers = [];
const workerExits = [];
t0 = Date.now();
for (let i = 0; i < workerCount; ++i) {
    const child = fork(path.join(path.dirname(new URL(import.meta.url).pathname), "worker.mjs"), [
        "--local-address", `127.0.0.${10 + i}`, "--slots", String(slotsPer), "--hold-ms", String(Number(args["hold-seconds"]) * 1000),
        "--max-name", args["max-name"], "--max-participant", args["max-participant"], "--shared", String(shared),
    ]);
    child.on("message", (msg) => {
        workerStats[i] = msg.stats;
        if (msg.type === "final") finals[i] = true;
    });
    workerExits.push(new Promise((resolve) => child.on("exit", (code) => {
        if (code !== 0) fail(`client process ${i} exited with ${code}`);
        resolve();
    })));
    child.send({ type: "start", wsUrl, backendUrl, key: args.key, tokens });
    workers.push(child);
}
log(`churn: ${clients} clients in ${workerCount} processes (127.0.0.10..${9 + workerCount}), ${seconds} s, sequence at ${rate}/s; server pid ${pid}, baseline RSS ${baseline.rssKb} kB, ${baseline.fds} descriptors`);

// ---- the publisher: seq n is due at n / rate seconds; one keep-alive connection, in order
let publishing = true;
let published = 0;
let maxLagMs = 0;
const publisher = (async () => {
    const start = Date.now();
    while (publishing) {
        const due = start + (published * 1000) / rate;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
        else maxLagMs = Math.max(maxLagMs, -wait);
        const seq = published;
        try {
            await backend.call("pubsub_backend", "publish", { channel: "soak-seq", message: { seq } });
            await backend.call("datasync_backend", "publishDeltas", { deltas: [{ type: "insert", model: "seq", data: { seq } }] });
        } catch (err) {
            fail(`publish of seq ${seq}: ${err.message}`);
            return;
        }
        published++;
    }
})();
// Traffic for the churning clients: their shared channels and DataSync views.
const noiser = (async () => {
    while (publishing) {
        await sleep(1000 / rate);
        try {
            await noise.call("pubsub_backend", "publish", { channel: `ch-${randInt(shared)}`, message: { n: randInt(1e6) } });
            const row = (done) => ({ id: randInt(1e6), team: randInt(1000), done, priority: randInt(10), owner: { id: randInt(1000) } });
            const old = row(false);
            await noise.call("datasync_backend", "publishDeltas", { deltas: [
                { type: "insert", model: "task", data: row(false) },
                { type: "update", model: "task", newData: { ...old, done: Math.random() < 0.5 }, oldData: old },
            ] });
        } catch (err) {
            fail(`noise publish: ${err.message}`);
            return;
        }
    }
})();

// ---- sampling until the end of the churn
let serverGone = false;
const end = t0 + seconds * 1000;
let lastLog = 0;
while (Date.now() < end) {
    await sleep(Math.min(sampleMs, Math.max(0, end - Date.now())));
    const s = await sample();
    if (!s) { serverGone = true; fail("the server process is gone"); break; }
    const tot = totals();
    if (tot.failures && failures.length === 0) fail(`client failures, first: ${tot.failureSamples[0]}`);
    if (s.t - lastLog >= 30) {
        lastLog = s.t;
        log(`RSS ${(s.rssKb / 1024).toFixed(1)} MB${s.heapKb ? ` (heap in use ${(s.heapKb / 1024).toFixed(1)} MB)` : ""}, ${s.fds} fds, ${tot.opened || 0} connections so far, seq ${published} published / ${watch.pubsub.got} + ${watch.datasync.got} received, client failures ${tot.failures || 0}`);
    }
    if (failures.length && args["stop-on-failure"] === "1") break;
}
const churnSeconds = (Date.now() - t0) / 1000;
const atChurnEnd = totals();

// ---- stop: every remaining client goes (half RST), then the sequence must be complete
for (const w of workers) if (w.connected) w.send({ type: "stop" });
await Promise.race([Promise.all(workerExits), sleep(120000)]);
if (finals.some((f) => !f)) fail("a client process did not finish within 120 s of the stop");
for (const w of workers) if (w.exitCode === null) w.kill("SIGKILL");
publishing = false;
await publisher;
await noiser;
const seqDeadline = Date.now() + 20000;
while ((watch.pubsub.next < published || watch.datasync.next < published) && Date.now() < seqDeadline && !serverGone) await sleep(100);
if (watch.pubsub.got !== published) fail(`watcher (pubsub) received ${watch.pubsub.got} of ${published} published`);
if (watch.datasync.got !== published) fail(`watcher (datasync) received ${watch.datasync.got} of ${published} published`);

// ---- descriptors back to the baseline (the watcher and the publisher's connection are still open, as then)
let after = null;
const fdDeadline = Date.now() + 30000;
while (!serverGone && Date.now() < fdDeadline) {
    after = await sample();
    if (!after) { serverGone = true; fail("the server process is gone"); break; }
    if (after.fds <= baseline.fds) break;
    await sleep(500);
}
if (after && args["heap-file"]) { await sleep(1500); Object.assign(after, readHeap()); }
if (after && after.fds > baseline.fds) fail(`descriptor leak: ${after.fds} open 30 s after the churn stopped, baseline ${baseline.fds}`);

// ---- RSS: the second minute against the last minute of churn
const churn = samples.filter((s) => s.t <= churnSeconds);
const mean = (rows, key = "rssKb") => (rows.length ? rows.reduce((a, s) => a + s[key], 0) / rows.length : NaN);
const minute2 = mean(churn.filter((s) => s.t > 60 && s.t <= 120));
const lastMinute = mean(churn.filter((s) => s.t > churnSeconds - 60));
const growth = (lastMinute - minute2) / minute2;
if (rssCheck) {
    if (churnSeconds < 180) fail("the RSS check needs at least 3 minutes of churn");
    else if (!(growth <= 0.05)) fail(`RSS grew ${(growth * 100).toFixed(1)}% from minute 2 to the last minute`);
}

watcherClosedByUs = true;
watcher.close();
backend.close();
noise.close();

const tot = totals();
const summary = {
    clients, workers: workerCount, seconds: Math.round(churnSeconds), connections: tot.opened || 0,
    connectsPerSecond: Math.round((atChurnEnd.opened || 0) / churnSeconds),
    sessionsPerSecond: Math.round((atChurnEnd.sessions || 0) / churnSeconds),
    sessions: tot.sessions, full: tot.full, handshakeAborts: tot.handshakeAborts, requestAborts: tot.requestAborts,
    openClose: tot.openClose, badTokens: tot.badTokens, rstCloses: tot.rstCloses, cleanCloses: tot.cleanCloses,
    requests: tot.requests, responses: tot.responses, expectedErrors: tot.expectedErrors, notifications: tot.notifications,
    subscriptions: tot.subscriptions, chatJoins: tot.joins, cursors: tot.cursors, participants: tot.participants,
    datasyncAcquired: tot.acquired, abandonedTokens: tot.abandonedTokens, churnSeqChecked: tot.seqChecked,
    sequencePublished: published, watcherPubsub: watch.pubsub.got, watcherDatasync: watch.datasync.got,
    publisherMaxLagMs: Math.round(maxLagMs), nameLengths: tot.names,
    rssBaselineKb: baseline.rssKb, rssMinute2Kb: Math.round(minute2), rssLastMinuteKb: Math.round(lastMinute),
    rssPeakKb: Math.max(...samples.map((s) => s.rssKb)), rssGrowthPercent: Number((growth * 100).toFixed(2)),
    rssChecked: rssCheck, fdsBaseline: baseline.fds, fdsPeak: Math.max(...samples.map((s) => s.fds)), fdsAfter: after ? after.fds : null,
    ...(args["heap-file"] ? {
        heapBaselineKb: baseline.heapKb, heapMinute2Kb: Math.round(mean(churn.filter((s) => s.t > 60 && s.t <= 120), "heapKb")),
        heapLastMinuteKb: Math.round(mean(churn.filter((s) => s.t > churnSeconds - 60), "heapKb")),
        heapAfterKb: after ? after.heapKb : null, heapHeldKb: after ? after.heapHeldKb : null,
    } : {}),
    clientFailures: tot.failures || 0, clientFailureSamples: tot.failureSamples, failures,
};
if (summary.clientFailures && !failures.some((f) => f.startsWith("client failures"))) fail(`client failures, first: ${tot.failureSamples[0]}`);
summary.failures = failures;
fs.writeFileSync(path.join(outDir, "summary.json"), JSON.stringify(summary, null, 2));
fs.writeFileSync(path.join(outDir, "samples.csv"), "t_s,rss_kb,fds,connections,heap_in_use_kb,heap_held_kb\n" +
    samples.map((s) => `${s.t.toFixed(1)},${s.rssKb},${s.fds},${s.connects},${s.heapKb ?? ""},${s.heapHeldKb ?? ""}`).join("\n") + "\n");
process.exit(failures.length ? 1 : 0);
