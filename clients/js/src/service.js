import { Emitter } from "./emitter.js";
import { SnorkyError, TransportError } from "./errors.js";

/**
 * Base of every connector: one named service on one Snorky connection. Subclasses
 * override onMessage (everything the service sends), and may override restore()
 * (called after a reconnection, before queued messages go out) and onDisconnected().
 */
export class Service extends Emitter {
  constructor() {
    super();
    this.name = null;
    this.snorky = null;
  }

  /** Lower runs first when restoring after a reconnect (auth uses 0). */
  get restoreOrder() {
    return 10;
  }

  attach_(name, snorky) {
    if (this.snorky) throw new Error(`connector already attached as "${this.name}"`);
    this.name = name;
    this.snorky = snorky;
  }

  /** Sends a raw message to this service (named so that connectors may offer send()). */
  transmit(message, hooks) {
    if (!this.snorky) throw new Error("connector is not attached to a Snorky connection");
    this.snorky.send(this.name, message, hooks);
  }

  onMessage(message) {
    this.emit("message", message);
  }

  restore_() {
    this.restore();
  }

  restore() {}

  disconnected_() {
    this.onDisconnected();
  }

  onDisconnected() {}
}

/**
 * Connector of an RPC service (protocol.md section 2): call() returns a promise resolved
 * with the response's data or rejected with a SnorkyError carrying the server's text.
 * A call already written when the connection drops is rejected with a TransportError
 * (its answer can never come); a call still queued waits for the next connection.
 * Notifications (messages whose type is not response/error) are emitted as events
 * named after their type, and as "notification".
 */
export class RpcService extends Service {
  constructor() {
    super();
    this.nextCallId_ = 1;
    this.pending_ = new Map(); // callId -> {resolve, reject, command, written}
  }

  call(command, params = {}) {
    return new Promise((resolve, reject) => {
      const callId = this.nextCallId_++;
      const entry = { resolve, reject, command, written: false };
      this.pending_.set(callId, entry);
      this.transmit(
        { command, params, callId },
        {
          onWrite: () => {
            entry.written = true;
          },
          onDrop: (error) => {
            this.pending_.delete(callId);
            reject(error);
          },
        },
      );
    });
  }

  onMessage(message) {
    if (message === null || typeof message !== "object") {
      this.emit("notification", message);
      return;
    }
    if (message.type === "response" || message.type === "error") {
      const entry = this.pending_.get(message.callId);
      if (!entry) {
        // An error without our callId (e.g. null) still tells the application something.
        if (message.type === "error") this.emit("error", new SnorkyError(String(message.message), { service: this.name }));
        return;
      }
      this.pending_.delete(message.callId);
      if (message.type === "response") entry.resolve(message.data ?? null);
      else {
        entry.reject(
          new SnorkyError(String(message.message), { service: this.name, command: entry.command, callId: message.callId }),
        );
      }
      return;
    }
    this.onNotification(message);
  }

  onNotification(message) {
    this.emit("notification", message);
    if (typeof message.type === "string") this.emit(message.type, message);
  }

  disconnected_() {
    for (const [callId, entry] of this.pending_) {
      if (!entry.written) continue;
      this.pending_.delete(callId);
      entry.reject(new TransportError("Connection lost before the answer"));
    }
    this.onDisconnected();
  }

  /** Runs a restoring call; a failure is reported as a "restoreFailed" event. */
  restoreCall_(command, params, onSuccess) {
    this.call(command, params).then(onSuccess, (error) =>
      this.emit("restoreFailed", { command, params, error }),
    );
  }
}
