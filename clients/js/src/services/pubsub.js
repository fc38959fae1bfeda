import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";

/**
 * PubSub connector (protocol.md section 4). Emits "message" with
 * {type, channel, message} for every publication on a subscribed channel.
 * Subscribed channels are re-subscribed after a reconnect ("resubscribed" {channel}
 * once the server confirmed, "restoreFailed" if it refused).
 *
 * Private channels (docs/channel-authorization.md): subscribe({channel, token}) sends
 * a subscription token from the application; or give `getToken(channel)` (may be
 * async; null/undefined for "no token") and it is asked on every subscribe and again
 * on every re-subscribe after a reconnect, so an expired token is never reused.
 * When the server removes this client from a channel it emits "unsubscribed"
 * {type, channel, reason} and the channel is not re-subscribed.
 */
export class PubSub extends RpcService {
  constructor({ getToken } = {}) {
    super();
    if (getToken != null && typeof getToken !== "function") throw new TypeError("getToken must be a function");
    this.getToken_ = getToken ?? null;
    this.channels_ = new Map(); // canonical JSON -> {channel, token given to subscribe()}
    this.connection_ = 0; // counts disconnects: a token asked for before one is not used after it
  }

  /** Channels this client is subscribed to (as confirmed by the server). */
  get channels() {
    return [...this.channels_.values()].map((entry) => entry.channel);
  }

  async subscribe({ channel, token }) {
    const sent = token ?? (this.getToken_ ? await this.getToken_(channel) : null);
    const data = await this.call("subscribe", withToken(channel, sent));
    this.channels_.set(jsonKey(channel), { channel, token: token ?? null });
    return data;
  }

  async unsubscribe({ channel }) {
    const data = await this.call("unsubscribe", { channel });
    this.channels_.delete(jsonKey(channel));
    return data;
  }

  publish({ channel, message }) {
    return this.call("publish", { channel, message });
  }

  restore() {
    const connection = this.connection_;
    for (const { channel, token } of this.channels_.values()) {
      // Without getToken the call goes out at once, before queued messages.
      if (!this.getToken_) {
        this.resubscribe_(channel, token);
        continue;
      }
      Promise.resolve()
        .then(() => this.getToken_(channel))
        .then(
          // The connection dropped meanwhile: the next restore() subscribes, this one would twice.
          (fresh) => connection === this.connection_ && this.resubscribe_(channel, fresh ?? null),
          (error) =>
            connection === this.connection_ &&
            this.emit("restoreFailed", { command: "subscribe", params: { channel }, error }),
        );
    }
  }

  onDisconnected() {
    this.connection_ += 1;
  }

  resubscribe_(channel, token) {
    this.restoreCall_("subscribe", withToken(channel, token), () => this.emit("resubscribed", { channel }));
  }

  onNotification(message) {
    if (message.type === "unsubscribed") this.channels_.delete(jsonKey(message.channel));
    super.onNotification(message);
  }
}

function withToken(channel, token) {
  return token == null ? { channel } : { channel, token };
}
