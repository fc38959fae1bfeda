import { RpcService } from "../service.js";

/**
 * DataSync connector (protocol.md section 7). The application gets data and a
 * subscription token from its own web application, then acquires the token here; deltas
 * arrive as "delta" events (the delta object) and go to the deltaProcessor if one is set.
 *
 * Tokens are single-use and the server drops subscriptions with the connection, so after
 * a reconnect the subscriptions cannot be restored here: "subscriptionsLost" {tokens}
 * tells the application to ask its web application for fresh data and a fresh token.
 */
export class DataSync extends RpcService {
  constructor({ deltaProcessor = null } = {}) {
    super();
    this.deltaProcessor = deltaProcessor;
    this.tokens_ = new Set();
  }

  get subscriptions() {
    return [...this.tokens_];
  }

  async acquireSubscription({ token }) {
    const data = await this.call("acquireSubscription", { token });
    this.tokens_.add(token);
    return data;
  }

  async cancelSubscription({ token }) {
    const data = await this.call("cancelSubscription", { token });
    this.tokens_.delete(token);
    return data;
  }

  onNotification(message) {
    if (message.type !== "delta") {
      super.onNotification(message);
      return;
    }
    // Applications want the delta itself, not the notification around it.
    if (this.deltaProcessor) this.deltaProcessor.processDelta(message.delta);
    this.emit("notification", message);
    this.emit("delta", message.delta);
  }

  restore() {
    if (this.tokens_.size === 0) return;
    const tokens = [...this.tokens_];
    this.tokens_.clear();
    this.emit("subscriptionsLost", { tokens });
  }
}
