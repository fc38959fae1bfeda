import { Emitter } from "./emitter.js";
import { TransportError } from "./errors.js";
import { backoffDelay, defaultReconnect } from "./backoff.js";

const OPEN = 1;

/**
 * One WebSocket connection to a Snorky frontend and the service connectors that talk
 * over it.
 *
 *   const snorky = new Snorky("ws://localhost:5800/ws", { pubsub: PubSub });
 *   snorky.services.pubsub.subscribe({ channel: "news" });
 *
 * Events: "connecting", "connected" ({reconnect}), "disconnected" ({code, reason,
 * willReconnect}), "reconnecting" ({attempt, delay}), "error" (Error).
 *
 * Messages sent while the socket is not open are queued (up to maxQueuedMessages) and
 * written, in order, once it opens. After a lost connection the client reconnects with
 * exponential backoff and lets every connector restore its state (subscriptions,
 * joined channels...) before the queued messages go out.
 */
export class Snorky extends Emitter {
  constructor(url, services = {}, options = {}) {
    super();
    // Also accept the original client's argument order: (WebSocketClass, url, services, debug).
    if (typeof url === "function" && typeof services === "string") {
      const [socketClass, address, serviceMap, debug] = arguments;
      url = address;
      services = serviceMap ?? {};
      options = { WebSocket: socketClass, debug: !!debug };
    }
    this.url = url;
    this.options = options;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this.WebSocket !== "function") {
      throw new TypeError("No WebSocket class: pass options.WebSocket (in Node: the 'ws' package)");
    }
    this.reconnect = { ...defaultReconnect, ...(options.reconnect === false ? { enabled: false } : options.reconnect) };
    this.maxQueuedMessages = options.maxQueuedMessages ?? 1000;
    this.random = options.random ?? Math.random;
    this.state = "disconnected"; // connecting | connected | disconnected | closed
    this.services = {};
    this.socket = null;
    this.queue_ = [];
    this.attempt_ = 0;
    this.everConnected_ = false;
    this.reconnectTimer_ = null;
    this.log_ = makeLogger(options.debug);

    for (const [name, service] of Object.entries(services)) this.addService(name, service);
    if (options.autoConnect !== false) this.connect();
  }

  get isConnected() {
    return this.state === "connected";
  }

  /** Adds a connector: a class (constructed with no arguments) or an instance. */
  addService(name, service) {
    const instance = typeof service === "function" ? new service() : service;
    if (!instance || typeof instance.attach_ !== "function") {
      throw new TypeError(`service "${name}" is not a Snorky service connector`);
    }
    instance.attach_(name, this);
    this.services[name] = instance;
    return instance;
  }

  /** Opens the socket (the constructor does it unless autoConnect is false). */
  connect() {
    if (this.state === "connecting" || this.state === "connected") return;
    this.clearReconnectTimer_();
    this.state = "connecting";
    this.emit("connecting");
    let url;
    try {
      url = typeof this.url === "function" ? this.url() : this.url;
    } catch (error) {
      this.connectFailed_(error);
      return;
    }
    if (typeof url?.then !== "function") {
      this.openSocket_(url);
      return;
    }
    url.then(
      (resolved) => {
        if (this.state === "connecting" && this.socket === null) this.openSocket_(resolved);
      },
      (error) => {
        if (this.state === "connecting" && this.socket === null) this.connectFailed_(error);
      },
    );
  }

  connectFailed_(error) {
    this.emit("error", error);
    this.onSocketClosed_(null, { code: 1006, reason: String(error?.message ?? error) });
  }

  openSocket_(url) {
    let socket;
    try {
      socket = new this.WebSocket(url);
    } catch (error) {
      this.connectFailed_(error);
      return;
    }
    this.log_("connecting to", redact(String(url)));
    this.socket = socket;
    socket.onopen = () => this.onSocketOpen_(socket);
    socket.onmessage = (event) => this.onSocketMessage_(socket, event);
    socket.onerror = (event) => {
      if (socket !== this.socket) return;
      this.log_("socket error", event?.message ?? "");
    };
    socket.onclose = (event) => this.onSocketClosed_(socket, event);
  }

  /** Closes the connection for good: no reconnection; queued messages are dropped. */
  close(code = 1000, reason = "") {
    this.clearReconnectTimer_();
    const wasOpen = this.state === "connected";
    this.state = "closed";
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code, reason);
      } catch {
        // Already closing: nothing to do.
      }
    }
    this.dropQueue_(new TransportError("Connection closed"));
    this.notifyServicesDisconnected_();
    if (wasOpen || socket) this.emit("disconnected", { code, reason, willReconnect: false });
  }

  /**
   * Sends one envelope to `service`. Queued while not connected. `hooks.onWrite` runs
   * when the message reaches the socket, `hooks.onDrop(error)` if it never will.
   */
  send(service, message, hooks = {}) {
    if (this.state === "closed") {
      hooks.onDrop?.(new TransportError("Connection closed"));
      return;
    }
    if (this.state === "connected" && this.socket?.readyState === OPEN) {
      this.write_(service, message, hooks);
      return;
    }
    if (this.queue_.length >= this.maxQueuedMessages) {
      hooks.onDrop?.(new TransportError("Send queue full"));
      this.log_("queue full, dropped a message for", service);
      return;
    }
    this.log_("queued for", service, message);
    this.queue_.push({ service, message, hooks });
  }

  write_(service, message, hooks) {
    const text = JSON.stringify({ service, message });
    this.log_("send", redact(text));
    try {
      this.socket.send(text);
    } catch (error) {
      hooks.onDrop?.(new TransportError("Send failed", { cause: error }));
      return;
    }
    hooks.onWrite?.();
  }

  onSocketOpen_(socket) {
    if (socket !== this.socket) return;
    const reconnect = this.everConnected_;
    this.everConnected_ = true;
    this.attempt_ = 0;
    this.state = "connected";
    this.log_(reconnect ? "reconnected" : "connected");
    // Connectors restore their state first, auth before everything that needs an
    // identity, so that messages queued while offline apply on top of it.
    if (reconnect) {
      const services = Object.values(this.services).sort((a, b) => a.restoreOrder - b.restoreOrder);
      for (const service of services) {
        try {
          service.restore_();
        } catch (error) {
          this.emit("error", error);
        }
      }
    }
    const queued = this.queue_;
    this.queue_ = [];
    for (const { service, message, hooks } of queued) {
      if (this.state !== "connected") {
        this.queue_.push({ service, message, hooks });
        continue;
      }
      this.write_(service, message, hooks);
    }
    this.emit("connected", { reconnect });
  }

  onSocketMessage_(socket, event) {
    if (socket !== this.socket) return;
    const text = decodeData(event.data);
    this.log_("recv", text);
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch {
      this.log_("dropped a message that is not JSON");
      return;
    }
    if (envelope === null || typeof envelope !== "object" || typeof envelope.service !== "string") {
      this.log_("dropped a message that is not an envelope");
      return;
    }
    const service = this.services[envelope.service];
    if (!service) {
      this.log_("dropped a message for unknown service", envelope.service);
      return;
    }
    try {
      service.onMessage(envelope.message);
    } catch (error) {
      this.emit("error", error);
    }
  }

  onSocketClosed_(socket, event) {
    if (socket !== this.socket) return; // a socket we already abandoned
    if (this.state === "closed") return;
    this.socket = null;
    const wasConnected = this.state === "connected";
    this.state = "disconnected";
    this.notifyServicesDisconnected_();
    const code = event?.code ?? 1006;
    // The server closed us for good (admin_backend disconnect): coming back would be refused or unwelcome.
    const willReconnect = code !== CLOSE_NO_RECONNECT && this.reconnect.enabled && this.attempt_ < this.reconnect.maxAttempts;
    const reason = event?.reason ?? "";
    this.log_("closed", code, reason, willReconnect ? "(will reconnect)" : "");
    // Once per loss: not again for every failed retry.
    if (wasConnected || (!this.everConnected_ && this.attempt_ === 0)) {
      this.emit("disconnected", { code, reason, willReconnect });
    }
    if (willReconnect) {
      const delay = backoffDelay(this.attempt_, this.reconnect, this.random);
      this.attempt_ += 1;
      this.emit("reconnecting", { attempt: this.attempt_, delay });
      this.reconnectTimer_ = setTimeout(() => {
        this.reconnectTimer_ = null;
        this.connect();
      }, delay);
    } else {
      this.dropQueue_(new TransportError("Connection lost"));
    }
  }

  notifyServicesDisconnected_() {
    for (const service of Object.values(this.services)) {
      try {
        service.disconnected_();
      } catch (error) {
        this.emit("error", error);
      }
    }
  }

  dropQueue_(error) {
    const queued = this.queue_;
    this.queue_ = [];
    for (const { hooks } of queued) hooks.onDrop?.(error);
  }

  clearReconnectTimer_() {
    if (this.reconnectTimer_ !== null) {
      clearTimeout(this.reconnectTimer_);
      this.reconnectTimer_ = null;
    }
  }
}

/** Close code of a connection the server ended for good: the client does not reconnect. */
export const CLOSE_NO_RECONNECT = 4001;

function decodeData(data) {
  if (typeof data === "string") return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data);
  return String(data);
}

// Debug logs end up in consoles and bug reports: identity and subscription tokens
// (params named "token", ?token= in the URL) are not written there.
function redact(text) {
  return text.replace(/("token"\s*:\s*)"[^"]*"/g, '$1"***"').replace(/([?&]token=)[^&#]*/g, "$1***");
}

function makeLogger(debug) {
  if (typeof debug === "function") return debug;
  if (debug) return (...args) => console.debug("[snorky]", ...args);
  return () => {};
}
