import { SnorkyError, TransportError } from "./errors.js";

export { SnorkyError, TransportError };

/**
 * Backend connector for trusted applications (Node; never in a browser, which must not
 * hold the backend key). protocol.md section 3:
 *
 *   const backend = new Backend("http://127.0.0.1:5801/backend", process.env.SNORKY_BACKEND_KEY);
 *   await backend.call("pubsub_backend", "publish", { channel: "news", message: "hi" });
 *
 * call() resolves with the reply's data, throws SnorkyError when the service answered
 * with an error, and TransportError for everything else (server down, timeout, non-200
 * status, a body that is not a reply).
 */
export class Backend {
  constructor(url, key, { fetch: fetchFn = globalThis.fetch, timeout = 10000 } = {}) {
    if (typeof fetchFn !== "function") throw new TypeError("No fetch function: pass options.fetch");
    this.url = url;
    this.key = key;
    this.fetch = fetchFn;
    this.timeout = timeout; // ms; 0 = none
  }

  async call(service, command, params = {}) {
    const body = JSON.stringify({ service, message: { command, params } });
    let response;
    let text;
    try {
      response = await this.fetch(this.url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "X-Backend-Key": this.key ?? "",
        },
        body,
        signal: this.timeout > 0 ? AbortSignal.timeout(this.timeout) : undefined,
      });
      text = await response.text();
    } catch (error) {
      throw new TransportError(`Snorky backend unreachable: ${error?.message ?? error}`, { cause: error });
    }
    let reply;
    try {
      reply = JSON.parse(text);
    } catch {
      reply = undefined;
    }
    if (response.status !== 200) {
      const detail = reply && typeof reply.error === "string" ? reply.error : text.slice(0, 200);
      throw new TransportError(`Snorky backend answered HTTP ${response.status}: ${detail}`, {
        status: response.status,
        body: text,
      });
    }
    const message = reply?.message;
    if (message?.type === "response") return message.data ?? null;
    if (message?.type === "error") throw new SnorkyError(String(message.message), { service, command });
    throw new TransportError("Snorky backend sent a body that is not a reply", { status: 200, body: text });
  }
}
