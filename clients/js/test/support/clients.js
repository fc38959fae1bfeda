import WebSocket from "ws";
import { Snorky, Backend } from "../../src/index.js";
import { backendKey } from "./server.js";

/** A Snorky connection over the `ws` package, resolved once connected. */
export async function connectClient(server, services, options = {}) {
  const snorky = new Snorky(server.wsUrl, services, {
    WebSocket,
    reconnect: { initialDelay: 50, maxDelay: 500 },
    ...options,
  });
  if (options.autoConnect === false) return snorky;
  await snorky.waitFor("connected");
  return snorky;
}

export function backendOf(server) {
  return new Backend(server.backendUrl, backendKey);
}

/** Collects the events `event` of `emitter` into an array. */
export function collect(emitter, event) {
  const items = [];
  emitter.on(event, (item) => items.push(item));
  return items;
}
