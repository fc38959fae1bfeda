// Runs web/chat/login-server.mjs against a test server, on a free port.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot, backendKey } from "./server.js";

export async function startLoginServer(server, allowedOrigin) {
  const child = spawn(process.execPath, [join(repoRoot, "web/chat/login-server.mjs")], {
    env: {
      ...process.env,
      SNORKY_BACKEND_URL: server.backendUrl,
      SNORKY_BACKEND_KEY: backendKey,
      LOGIN_PORT: "0",
      ALLOWED_ORIGINS: allowedOrigin,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`login server did not start:\n${output}`)), 10000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`login server exited (${code}):\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
