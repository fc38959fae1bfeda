// A real redis-server of the test's own on a free port (no persistence), for
// tests of the Redis engine. Fails (never skips) when redis-server is missing:
// `make deps` installs it.
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { sleep } from "./server.js";

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export async function startRedis() {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const cli = (...args) =>
    execFileSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  for (let i = 0; ; i++) {
    try {
      if (cli("PING") === "PONG") break;
    } catch {
      if (i > 200) throw new Error(`redis-server did not answer on port ${port}`);
    }
    await sleep(25);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    cli,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
