// One client process of the churn soak: keeps `slots` sessions going, each a
// connection that authenticates, subscribes, joins, creates cursors, acquires
// DataSync subscriptions and goes away (half RST, half clean close), or one
// cut short in its handshake or right after a request. Started by soak.mjs,
// which sends {type: "start", ...} and later {type: "stop"}; reports counters.
import net from "node:net";
import { WebSocket, Backend, parseArgs, sleep, randInt, pick, nameOfBytes, nameLength, lengthBucket } from "./common.mjs";

const args = parseArgs(process.argv.slice(2));
const localAddress = args["local-address"];
const slots = Number(args.slots);
const holdMs = Number(args["hold-ms"]);
const maxName = Number(args["max-name"]);            // chat channels, cursor documents, pubsub channels
const maxParticipant = Number(args["max-participant"]); // messaging names
const shared = Number(args.shared);                  // how many shared channel/lobby/document names
let wsUrl, backend, tokens;

const stats = {
    sessions: 0, full: 0, handshakeAborts: 0, requestAborts: 0, openClose: 0, badTokens: 0,
    opened: 0, rstCloses: 0, cleanCloses: 0, requests: 0, responses: 0, expectedErrors: 0,
    notifications: 0, seqChecked: 0, subscriptions: 0, joins: 0, cursors: 0, participants: 0, acquired: 0,
    abandonedTokens: 0, names: {}, failures: 0, failureSamples: [],
};

function fail(text) {
    stats.failures++;
    if (stats.failureSamples.length < 10) stats.failureSamples.push(`${new Date().toISOString()} ${text}`);
}

function countName(bytes, max, kind) {
    const key = `${kind}:${lengthBucket(bytes, max)}`;
    stats.names[key] = (stats.names[key] || 0) + 1;
}

let stopping = false;
let stopResolve;
const stopped = new Promise((resolve) => { stopResolve = resolve; });

// A WebSocket connection with callId bookkeeping. Closing by us (RST or clean) is expected;
// any other close, or a request left unanswered, is a failure.
class Conn {
    constructor(ws) {
        this.ws = ws;
        this.pending = new Map();
        this.nextId = 1;
        this.ours = false;
        this.lastSeq = null;
        this.fired = new Set();
        this.closed = new Promise((resolve) => { this.onClosed = resolve; });
        ws.on("message", (data) => this.receive(data));
        ws.on("error", (err) => { if (!this.ours) fail(`socket error: ${err.message}`); });
        ws.on("close", (code) => {
            if (!this.ours) fail(`server closed the connection (code ${code})`);
            for (const { reject, timer } of this.pending.values()) { clearTimeout(timer); reject(new Error("closed")); }
            this.pending.clear();
            this.onClosed();
        });
    }

    receive(data) {
        let env;
        try { env = JSON.parse(data.toString("utf8")); } catch { return fail(`not JSON: ${String(data).slice(0, 80)}`); }
        const m = env.message;
        if (m && (m.type === "response" || m.type === "error") && this.pending.has(m.callId)) {
            const { resolve, timer, what } = this.pending.get(m.callId);
            clearTimeout(timer);
            this.pending.delete(m.callId);
            stats.responses++;
            return resolve(m.type === "response" ? { ok: true, data: m.data } : { ok: false, error: m.message, what });
        }
        if (m && (m.type === "response" || m.type === "error") && this.fired.delete(m.callId)) return void stats.responses++;
        if (m && (m.type === "response" || m.type === "error")) return fail(`answer to no request: ${JSON.stringify(m).slice(0, 120)}`);
        stats.notifications++;
        if (env.service === "pubsub" && m.channel === "soak-seq") {
            const seq = m.message.seq;
            if (this.lastSeq !== null && seq !== this.lastSeq + 1) fail(`churn subscriber got seq ${seq} after ${this.lastSeq}`);
            this.lastSeq = seq;
            stats.seqChecked++;
        }
    }

    // Resolves {ok, data} or {ok: false, error}; rejects when the connection goes first.
    request(service, command, params, timeoutMs = 30000) {
        const callId = this.nextId++;
        stats.requests++;
        const what = `${service}.${command}`;
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending.delete(callId);
                fail(`${what}: no answer in ${timeoutMs} ms`);
                reject(new Error("timeout"));
            }, timeoutMs);
            this.pending.set(callId, { resolve, reject, timer, what });
            this.ws.send(JSON.stringify({ service, message: { command, params, callId } }));
        });
    }

    // Sent and never waited for (the connection is about to be cut).
    fire(service, command, params) {
        stats.requests++;
        const callId = this.nextId++;
        this.fired.add(callId);
        this.ws.send(JSON.stringify({ service, message: { command, params, callId } }));
    }

    // Half the time an RST (SO_LINGER 0 then close), else the closing handshake, waited for.
    async end() {
        this.ours = true;
        for (const { reject, timer } of this.pending.values()) { clearTimeout(timer); reject(new Error("closed")); }
        this.pending.clear();
        if (Math.random() < 0.5 && this.ws._socket) {
            stats.rstCloses++;
            this.ws._socket.resetAndDestroy();
        } else {
            stats.cleanCloses++;
            this.ws.close(1000);
            const timeout = sleep(15000).then(() => "timeout");
            if ((await Promise.race([this.closed, timeout])) === "timeout") {
                fail("clean close not completed in 15 s");
                this.ws.terminate();
            }
        }
        await this.closed;
    }
}

function open(url) {
    return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { localAddress, perMessageDeflate: false, handshakeTimeout: 30000 });
        const onError = (err) => reject(err);
        ws.once("error", onError);
        ws.once("unexpected-response", (req, res) => {
            req.destroy();
            reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode }));
        });
        ws.once("open", () => {
            ws.off("error", onError);
            stats.opened++;
            resolve(new Conn(ws));
        });
    });
}

function expectOk(result, allowed = []) {
    if (result.ok) return true;
    if (allowed.includes(result.error)) { stats.expectedErrors++; return false; }
    fail(`${result.what}: unexpected error "${result.error}"`);
    return false;
}

// A channel/document name: a shared one (so that others are there) or one of random length.
function sharedOrRandom(prefix, kind) {
    if (Math.random() < 0.4) return `${prefix}-${randInt(shared)}`;
    const bytes = nameLength(maxName);
    countName(bytes, maxName, kind);
    return nameOfBytes(bytes);
}

async function datasyncToken() {
    const items = Math.random() < 0.5
        ? [{ dealer: "tasks", query: ["and", ["==", "team", randInt(1000)], ["==", "done", false]] }]
        : [{ dealer: "byOwner", query: randInt(1000) }, { dealer: "tasks", query: [">=", "priority", 9] }];
    return backend.call("datasync_backend", "authorizeSubscription", { items });
}

// Holds the session for a random time (exponential around holdMs), or until stop.
async function hold(conn) {
    const ms = -Math.log(1 - Math.random()) * holdMs;
    await Promise.race([sleep(ms), stopped, conn.closed]);
}

async function fullSession() {
    stats.full++;
    const identity = pick(tokens);
    const viaQuery = Math.random() < 0.5;
    const conn = await open(viaQuery ? `${wsUrl}?token=${identity.token}` : wsUrl);
    try {
        if (!viaQuery && !expectOk(await conn.request("auth", "authenticate", { token: identity.token }))) return conn;
        const steps = [];
        const channels = new Set();
        for (let i = 1 + randInt(3); i > 0; --i)
            channels.add(Math.random() < 0.05 ? "soak-seq" : sharedOrRandom("ch", "pubsub"));
        for (const channel of channels)
            steps.push(conn.request("pubsub", "subscribe", { channel }).then((r) => expectOk(r) && stats.subscriptions++));
        const lobbies = new Set();
        for (let i = 1 + randInt(2); i > 0; --i) lobbies.add(sharedOrRandom("lobby", "chat"));
        for (const channel of lobbies)
            steps.push(conn.request("chat", "join", { channel }).then(async (r) => {
                if (!expectOk(r)) return;
                stats.joins++;
                if (Math.random() < 0.15) expectOk(await conn.request("chat", "send", { channel, body: { text: "hi" } }));
                if (Math.random() < 0.05) expectOk(await conn.request("chat", "read", { channel }));
            }));
        const document = sharedOrRandom("doc", "cursors");
        steps.push(conn.request("cursors", "join", { document }).then(async (r) => {
            if (!expectOk(r)) return;
            for (let h = 0, n = randInt(3); h < n; ++h) {
                const created = await conn.request("cursors", "createCursor",
                    { privateHandle: h, document, position: { x: randInt(100), y: randInt(100) }, status: "editing" });
                if (!expectOk(created)) continue;
                stats.cursors++;
                if (Math.random() < 0.5)
                    expectOk(await conn.request("cursors", "updateCursor", { privateHandle: h, newData: { position: { x: 1, y: 2 } } }));
            }
        }));
        if (Math.random() < 0.3) {
            const bytes = nameLength(maxParticipant);
            countName(bytes, maxParticipant, "messaging");
            steps.push(conn.request("messaging", "registerParticipant", { name: nameOfBytes(bytes) }).then((r) => {
                // Short random names collide with other clients' names now and then.
                if (expectOk(r, bytes < 16 ? ["Name already registered"] : [])) stats.participants++;
            }));
        }
        if (Math.random() < 0.5) {
            steps.push(datasyncToken().then(async (token) => {
                if (Math.random() < 0.1) { stats.abandonedTokens++; return; }  // expires after acquire_timeout
                if (!expectOk(await conn.request("datasync", "acquireSubscription", { token }))) return;
                stats.acquired++;
                if (Math.random() < 0.2) expectOk(await conn.request("datasync", "cancelSubscription", { token }));
            }, (err) => fail(`authorizeSubscription: ${err.message}`)));
        }
        await Promise.all(steps);
        await hold(conn);
        // Sometimes leave explicitly first, so both paths (leave, then disconnect) run.
        if (Math.random() < 0.1 && !stopping) {
            const [channel] = channels;
            expectOk(await conn.request("pubsub", "unsubscribe", { channel }));
            const [lobby] = lobbies;
            expectOk(await conn.request("chat", "leave", { channel: lobby }));
            expectOk(await conn.request("cursors", "leave", { document }));
        }
    } catch (err) {
        if (err.message !== "closed" && err.message !== "timeout") fail(`session: ${err.stack}`);
    }
    return conn;
}

// A raw TCP connection that sends part (or all) of an upgrade request, then goes.
async function handshakeAbort() {
    stats.handshakeAborts++;
    const url = new URL(wsUrl);
    const request = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress });
    await new Promise((resolve, reject) => { socket.once("connect", resolve); socket.once("error", reject); });
    socket.on("error", () => {});
    socket.on("data", () => {});
    const cut = Math.random() < 0.3 ? request.length : randInt(request.length);
    socket.write(request.slice(0, cut));
    if (Math.random() < 0.5) await sleep(randInt(200));
    const closed = new Promise((resolve) => socket.once("close", resolve));
    if (Math.random() < 0.5) { stats.rstCloses++; socket.resetAndDestroy(); }
    else { stats.cleanCloses++; socket.end(); setTimeout(() => socket.destroy(), 5000).unref(); }
    await closed;
}

// Opens, fires a few requests without waiting, and goes at once.
async function requestAbort() {
    stats.requestAborts++;
    const identity = pick(tokens);
    const conn = await open(`${wsUrl}?token=${identity.token}`);
    const token = Math.random() < 0.3 ? await datasyncToken().catch((err) => fail(`authorizeSubscription: ${err.message}`)) : null;
    const document = sharedOrRandom("doc", "cursors");
    conn.fire("cursors", "join", { document });
    conn.fire("cursors", "createCursor", { privateHandle: 1, document, position: 0, status: null });
    conn.fire("chat", "join", { channel: sharedOrRandom("lobby", "chat") });
    conn.fire("pubsub", "subscribe", { channel: sharedOrRandom("ch", "pubsub") });
    if (token) conn.fire("datasync", "acquireSubscription", { token });
    if (Math.random() < 0.3) await sleep(randInt(20));
    await conn.end();
}

async function session() {
    stats.sessions++;
    const r = Math.random();
    let conn = null;
    try {
        if (r < 0.70) conn = await fullSession();
        else if (r < 0.80) return await handshakeAbort();
        else if (r < 0.90) return await requestAbort();
        else if (r < 0.96) { stats.openClose++; conn = await open(`${wsUrl}?token=${pick(tokens).token}`); }
        else {
            stats.badTokens++;
            try {
                conn = await open(`${wsUrl}?token=not.a.token`);
                fail("a forged token was accepted");
            } catch (err) {
                if (err.status !== 401) throw err;
                stats.expectedErrors++;
            }
        }
    } catch (err) {
        fail(`connect: ${err.message}`);
    }
    if (conn && !conn.ours) await conn.end();
}

async function slot(index) {
    // Ramp up at about 50 new sessions a second per process (over 5 s at least) rather than all at
    // once: 1,500 upgrades within 5 s had some cut off by an ASan server on a busy machine.
    await Promise.race([sleep((index / slots) * Math.max(5000, slots * 20)), stopped]);
    while (!stopping) await session();
}

process.on("message", async (msg) => {
    if (msg.type === "start") {
        wsUrl = msg.wsUrl;
        tokens = msg.tokens;
        backend = new Backend(msg.backendUrl, msg.key, localAddress, 4);
        const report = setInterval(() => process.send({ type: "stats", stats }), 2000);
        const runs = [];
        for (let i = 0; i < slots; ++i) runs.push(slot(i));
        await Promise.all(runs);
        clearInterval(report);
        backend.close();
        process.send({ type: "final", stats }, () => process.exit(0));
    } else if (msg.type === "stop") {
        stopping = true;
        stopResolve();
    }
});
process.on("disconnect", () => process.exit(1));
