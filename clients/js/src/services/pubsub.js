import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";
import { settleHistory } from "../history.js";

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
 *
 * History (docs/history.md): subscribe({channel, recover: true}), or
 * new PubSub({recover: true}) for every channel, asks the server for offsets. The
 * connector then remembers the last offset and epoch of the channel and, after a
 * reconnect, re-subscribes from there: what was published meanwhile is emitted as
 * "message" events first (in order, each once), then "recovered" {channel, count};
 * or, when the server no longer holds it, "recoveryFailed" {channel} (re-fetch the
 * state). Without recover the wire is the original protocol.
 */
export class PubSub extends RpcService {
  constructor({ getToken, recover = false } = {}) {
    super();
    if (getToken != null && typeof getToken !== "function") throw new TypeError("getToken must be a function");
    this.getToken_ = getToken ?? null;
    this.recover_ = Boolean(recover);
    // canonical JSON -> {channel, token given to subscribe(), recover, position: {offset, epoch} | null}
    this.channels_ = new Map();
    // canonical JSON -> live messages that arrived while a history answer was awaited
    this.waiting_ = new Map();
    this.connection_ = 0; // counts disconnects: a token asked for before one is not used after it
  }

  /** Channels this client is subscribed to (as confirmed by the server). */
  get channels() {
    return [...this.channels_.values()].map((entry) => entry.channel);
  }

  /** The last {offset, epoch} seen on a channel subscribed with recover, or null. */
  position(channel) {
    return this.channels_.get(jsonKey(channel))?.position ?? null;
  }

  async subscribe({ channel, token, recover }) {
    const wants = recover ?? this.recover_;
    const sent = token ?? (this.getToken_ ? await this.getToken_(channel) : null);
    const params = withToken(channel, sent);
    if (wants) params.recover = true;
    const key = jsonKey(channel);
    if (wants) this.waiting_.set(key, []);
    let data;
    try {
      data = await this.call("subscribe", params);
    } catch (error) {
      this.waiting_.delete(key);
      throw error;
    }
    const entry = { channel, token: token ?? null, recover: Boolean(wants), position: null };
    this.channels_.set(key, entry);
    if (wants) this.settle_(key, entry, data, false);
    return data;
  }

  async unsubscribe({ channel }) {
    const data = await this.call("unsubscribe", { channel });
    this.channels_.delete(jsonKey(channel));
    this.waiting_.delete(jsonKey(channel));
    return data;
  }

  publish({ channel, message }) {
    return this.call("publish", { channel, message });
  }

  restore() {
    const connection = this.connection_;
    for (const entry of this.channels_.values()) {
      const { channel, token } = entry;
      // Without getToken the call goes out at once, before queued messages.
      if (!this.getToken_) {
        this.resubscribe_(entry, token);
        continue;
      }
      Promise.resolve()
        .then(() => this.getToken_(channel))
        .then(
          // The connection dropped meanwhile: the next restore() subscribes, this one would twice.
          (fresh) => connection === this.connection_ && this.resubscribe_(entry, fresh ?? null),
          (error) =>
            connection === this.connection_ &&
            this.emit("restoreFailed", { command: "subscribe", params: { channel }, error }),
        );
    }
  }

  resubscribe_(entry, token) {
    const { channel } = entry;
    const params = withToken(channel, token);
    const key = jsonKey(channel);
    if (entry.recover) {
      if (entry.position) params.since = { offset: entry.position.offset, epoch: entry.position.epoch };
      else params.recover = true;
      this.waiting_.set(key, []);
    }
    this.call("subscribe", params).then(
      (data) => {
        // After a reconnect anything but a recovery (no position to ask from, no history) may have lost messages.
        if (entry.recover && this.channels_.get(key) === entry) this.settle_(key, entry, data, true);
        this.emit("resubscribed", { channel });
      },
      (error) => {
        this.waiting_.delete(key);
        this.emit("restoreFailed", { command: "subscribe", params, error });
      },
    );
  }

  onDisconnected() {
    this.connection_ += 1;
    // What was held came on the old connection; the next restore asks from the last position.
    this.waiting_.clear();
  }

  // A history answer: replays what was missed, then the live messages held meanwhile.
  settle_(key, entry, data, recovering) {
    const held = this.waiting_.get(key) ?? [];
    this.waiting_.delete(key);
    const { channel } = entry;
    settleHistory(this, {
      channel,
      entry,
      data,
      held,
      recovering,
      listedOf: (answer) => (answer.recovered === true && Array.isArray(answer.publications) ? answer.publications : []),
      emitListed: (p) => super.onNotification({ type: "message", channel, message: p.message, offset: p.offset }),
      handle: (message) => this.deliver_(entry, message),
    });
  }

  deliver_(entry, message) {
    if (entry.position && typeof message.offset === "number") entry.position.offset = message.offset;
    super.onNotification(message);
  }

  onNotification(message) {
    if (message.type === "unsubscribed") {
      this.channels_.delete(jsonKey(message.channel));
      this.waiting_.delete(jsonKey(message.channel));
    }
    if (message.type === "message") {
      const key = jsonKey(message.channel);
      const held = this.waiting_.get(key);
      if (held) {
        held.push(message);
        return;
      }
      const entry = this.channels_.get(key);
      if (entry) {
        this.deliver_(entry, message);
        return;
      }
    }
    super.onNotification(message);
  }
}

function withToken(channel, token) {
  return token == null ? { channel } : { channel, token };
}
