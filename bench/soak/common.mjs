// Shared pieces of the churn soak (bench/soak.sh): the `ws` package of the JS
// client, a keep-alive backend caller, random names of an exact UTF-8 length.
import { createRequire } from "node:module";
import fs from "node:fs";
import http from "node:http";

const require = createRequire(new URL("../../clients/js/package.json", import.meta.url));
export const WebSocket = require("ws");

export function parseArgs(argv) {
    const args = {};
    for (let i = 0; i < argv.length; ++i) {
        const key = argv[i];
        if (!key.startsWith("--")) throw new Error(`unexpected argument ${key}`);
        args[key.slice(2)] = argv[i + 1];
        ++i;
    }
    return args;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const randInt = (n) => Math.floor(Math.random() * n);
export const pick = (list) => list[randInt(list.length)];

export function shuffle(list) {
    for (let i = list.length - 1; i > 0; --i) {
        const j = randInt(i + 1);
        [list[i], list[j]] = [list[j], list[i]];
    }
    return list;
}

// Keep-alive HTTP connections to the backend (one by default: calls are then answered in order).
export class Backend {
    constructor(url, key, localAddress, maxSockets = 1) {
        this.url = new URL(url);
        this.key = key;
        this.agent = new http.Agent({ keepAlive: true, maxSockets, localAddress });
        this.nextId = 1;
    }

    call(service, command, params, timeoutMs = 30000) {
        const body = JSON.stringify({ service, message: { command, params, callId: this.nextId++ } });
        return new Promise((resolve, reject) => {
            const req = http.request(
                {
                    host: this.url.hostname, port: this.url.port, path: this.url.pathname, method: "POST",
                    agent: this.agent, timeout: timeoutMs,
                    headers: { "X-Backend-Key": this.key, "Content-Type": "application/json",
                               "Content-Length": Buffer.byteLength(body) },
                },
                (res) => {
                    const chunks = [];
                    res.on("data", (c) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        if (res.statusCode !== 200) return reject(new Error(`${service}.${command}: HTTP ${res.statusCode} ${text}`));
                        let reply;
                        try { reply = JSON.parse(text).message; } catch { return reject(new Error(`${service}.${command}: bad reply ${text}`)); }
                        if (reply.type === "response") resolve(reply.data);
                        else reject(new Error(`${service}.${command}: ${reply.message}`));
                    });
                    res.on("error", reject);
                });
            req.on("timeout", () => req.destroy(new Error(`${service}.${command}: no answer in ${timeoutMs} ms`)));
            req.on("error", reject);
            req.end(body);
        });
    }

    close() { this.agent.destroy(); }
}

// Characters by UTF-8 length, so that a name of exactly N bytes mixes 1- to 4-byte characters.
const CHARS = [null, "abcdefghijklmnopqrstuvwxyz0123456789-_ .", "éßжλñü", "€中あ한", "😀𝄞🚀"];
const CHAR_LISTS = CHARS.map((s) => (s ? [...s] : null));

export function nameOfBytes(bytes) {
    let out = "";
    let left = bytes;
    while (left > 0) {
        const size = 1 + randInt(Math.min(4, left));
        out += pick(CHAR_LISTS[size]);
        left -= size;
    }
    return out;
}

// A length in 1..max: the edges often, otherwise log-uniform so every order of magnitude is hit.
export function nameLength(max) {
    const r = Math.random();
    if (r < 0.04) return 1;
    if (r < 0.08) return max;
    if (r < 0.10) return Math.max(1, max - randInt(4));
    return Math.min(max, Math.max(1, Math.floor(Math.exp(Math.random() * Math.log(max + 1)))));
}

// Histogram buckets of name lengths: 1, 2-9, 10-99, ..., and "max".
export function lengthBucket(bytes, max) {
    if (bytes === max) return "max";
    if (bytes === 1) return "1";
    const digits = String(bytes).length;
    return `${digits === 1 ? 2 : 10 ** (digits - 1)}-${10 ** digits - 1}`;
}

// The server's resident memory and open descriptors; null when the process is gone.
export function readProc(pid) {
    try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
        const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
        return { rssKb, fds };
    } catch {
        return null;
    }
}
