// The real to-do web application (examples/todo/app.py, Debian's /usr/bin/python3,
// standard library only) on a free port with a throwaway in-memory database, talking to
// the test's snorky through its backend.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, backendKey } from "./server.js";

export const todoAppPath = join(repoRoot, "examples/todo/app.py");
const python = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** Starts the app for `server` (a SnorkyServer). allowedOrigins: pages that may call
 *  its API (CORS), e.g. [server.httpUrl] for the page Snorky serves.
 *  Resolves to {url, logs(), close()}. */
export async function startTodoApp(server, { allowedOrigins = [] } = {}) {
  const child = spawn(python, [todoAppPath], {
    cwd: join(repoRoot, "examples/todo"),
    env: {
      ...process.env,
      SNORKY_BACKEND_KEY: backendKey,
      SNORKY_BACKEND_URL: server.backendUrl,
      TODO_PORT: "0",
      TODO_DB: ":memory:",
      TODO_QUIET: "1",
      TODO_ALLOWED_ORIGINS: allowedOrigins.join(","),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
  };
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the to-do app did not start:\n${output}`)), 10000);
      const started = () => {
        const match = /listening on (http:\/\/\S+?)\/?\s/.exec(output);
        if (!match) return;
        clearTimeout(timer);
        resolve(match[1]);
      };
      child.stdout.on("data", started);
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the to-do app exited (${code}):\n${output}`));
      });
    });
    return { url, logs: () => output, close };
  } catch (error) {
    await close();
    throw error;
  }
}
