// Starts the real `snorky` binary for tests: a TOML config whose listeners use port 0,
// the ports read from the --ready-file JSON. SNORKY_BINARY overrides the binary path
// (default: <repo>/build/snorky).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const binary = process.env.SNORKY_BINARY ? resolve(process.env.SNORKY_BINARY) : join(repoRoot, "build/snorky");
export const backendKey = "test-backend-key";
export const identitySecret = "test-identity-secret-0123456789abcdef";

/** The server could not start because this build lacks a service type. */
export class MissingServiceType extends Error {}

export class SnorkyServer {
  /** toml: the config text; `port = 0` lines are replaced by known ports on restart().
   *  args: more command-line arguments (e.g. ["--static-dir", dir]). */
  constructor(toml, { args = [] } = {}) {
    this.toml = toml;
    this.args = args;
    this.dir = mkdtempSync(join(tmpdir(), "snorky-js-test-"));
    this.logs = "";
    this.child = null;
    this.listeners = [];
  }

  static async start(toml, options) {
    const server = new SnorkyServer(toml, options);
    await server.launch_(toml);
    return server;
  }

  port(i) {
    return this.listeners[i].port;
  }

  listener(type) {
    const found = this.listeners.find((l) => l.type === type);
    if (!found) throw new Error(`no ${type} listener`);
    return found;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.listener("websocket").port}/ws`;
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.listener("websocket").port}`;
  }

  get backendUrl() {
    return `http://127.0.0.1:${this.listener("backend").port}/backend`;
  }

  async launch_(toml) {
    if (!existsSync(binary)) throw new Error(`snorky binary not found at ${binary} (build it, or set SNORKY_BINARY)`);
    const config = join(this.dir, "snorky.toml");
    const ready = join(this.dir, "ready.json");
    rmSync(ready, { force: true });
    writeFileSync(config, toml);
    const child = spawn(binary, ["--config", config, "--ready-file", ready, ...this.args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, SNORKY_BACKEND_KEY: backendKey },
    });
    this.child = child;
    child.stdout.on("data", (d) => (this.logs += d));
    child.stderr.on("data", (d) => (this.logs += d));
    const exited = new Promise((resolveExit) => child.once("exit", (code, signal) => resolveExit({ code, signal })));
    this.exited_ = exited;
    const deadline = Date.now() + 15000;
    for (;;) {
      const done = await Promise.race([exited, sleep(25).then(() => null)]);
      if (done) {
        const missing = /unknown service type '([^']+)'/.exec(this.logs);
        if (missing) throw new MissingServiceType(`this snorky build has no service type '${missing[1]}'`);
        throw new Error(`snorky exited (${done.code ?? done.signal}) before it was ready:\n${this.logs}`);
      }
      if (existsSync(ready)) {
        try {
          this.listeners = JSON.parse(readFileSync(ready, "utf8")).listeners;
          return;
        } catch {
          // Being written: read it again.
        }
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`snorky was not ready within 15 s:\n${this.logs}`);
      }
    }
  }

  /** Stops the server (SIGTERM, SIGKILL after 5 s). */
  async stop() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited_;
    clearTimeout(timer);
  }

  /** Freezes the process (SIGSTOP): the kernel still accepts data, nothing answers.
   *  Resolves once every thread is stopped (the signal takes effect asynchronously). */
  async pause() {
    this.child.kill("SIGSTOP");
    const tasks = `/proc/${this.child.pid}/task`;
    const stopped = () =>
      readdirSync(tasks).every((tid) => {
        const stat = readFileSync(`${tasks}/${tid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2)[0] === "T";
      });
    await eventually(stopped, 5000, "the server to stop");
  }

  async kill() {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGKILL");
    await this.exited_;
  }

  /** Starts the server again on the same ports (after stop() or kill()). */
  async restart() {
    await this.stop();
    let i = 0;
    const toml = this.toml.replace(/^port\s*=\s*0\s*$/gm, () => `port = ${this.listeners[i++].port}`);
    // The old socket may linger a moment in the kernel: retry while the port is busy.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.launch_(toml);
        return;
      } catch (error) {
        if (attempt >= 20 || !/in use|bind/i.test(String(error.message))) throw error;
        await sleep(100);
      }
    }
  }

  async dispose() {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Starts a server, or skips the test when this build lacks a service type (unless
 *  SNORKY_REQUIRE_ALL=1, which CI sets once every service is merged). */
export async function startOrSkip(t, toml, options) {
  try {
    return await SnorkyServer.start(toml, options);
  } catch (error) {
    if (error instanceof MissingServiceType && process.env.SNORKY_REQUIRE_ALL !== "1") {
      t.skip(error.message);
      return null;
    }
    throw error;
  }
}

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function eventually(check, ms = 5000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---- config pieces ----

/** A config file of the repository (e.g. examples/todo/snorky.toml) on free ports of
 *  127.0.0.1: every `port = N` becomes `port = 0`, every address 127.0.0.1. */
export function repoConfigToml(path) {
  return readFileSync(join(repoRoot, path), "utf8")
    .replace(/^port\s*=\s*\d+\s*$/gm, "port = 0")
    .replace(/^address\s*=\s*"[^"]*"\s*$/gm, 'address = "127.0.0.1"');
}

export const listenersToml = ({ staticDir } = {}) => `
[server]
threads = 1
log_level = "info"

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
${staticDir ? `static_dir = ${JSON.stringify(staticDir)}\nstatic_follow_symlinks = true  # web/lib links to clients/js/src` : ""}

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
`;

export const pubsubToml = `
[[service]]
name = "pubsub"
type = "pubsub"
registry = "frontend"
client_publish = true

[[service]]
name = "pubsub_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "pubsub"
`;

export const identityToml = `
[[service]]
name = "auth"
type = "auth"
registry = "frontend"
secret = "${identitySecret}"

[[service]]
name = "auth_backend"
type = "auth_backend"
registry = "backend"
auth = "auth"
`;

// The notifications demo's private PubSub (as in web/demo.toml).
export const notificationsToml = `
[[service]]
name = "notifications"
type = "pubsub"
registry = "frontend"
client_publish = false

[[service.namespace]]
prefix = "user:"
subscribe = "owner"

[[service]]
name = "notifications_backend"
type = "pubsub_backend"
registry = "backend"
pubsub = "notifications"
`;

export const messagingToml = `
[[service]]
name = "messaging"
type = "messaging"
registry = "frontend"
`;

export const chatToml = `
[[service]]
name = "chat"
type = "chat"
registry = "frontend"
`;

export const cursorsToml = `
[[service]]
name = "cursors"
type = "cursors"
registry = "frontend"
`;

export const datasyncToml = `
[[service]]
name = "datasync"
type = "datasync"
registry = "frontend"

[[service.dealer]]
name = "todos"
model = "todo"
kind = "filter"

[[service.dealer]]
name = "todosByOwner"
model = "todo"
kind = "simple"
key = "owner"

# As in examples/todo/snorky.toml (the web/todo page's application).
[[service.dealer]]
name = "tasks"
model = "task"
kind = "filter"

[[service]]
name = "datasync_backend"
type = "datasync_backend"
registry = "backend"
datasync = "datasync"
`;
