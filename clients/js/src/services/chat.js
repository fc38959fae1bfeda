import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";
import { settleHistory } from "../history.js";

/**
 * Chat connector (protocol.md section 6; the connection needs an identity). Events:
 * "message" {type, from, channel, body, timestamp}, "presence" {type, from, channel,
 * status, timestamp}, "read" {type, channel, timestamp}, "members" {channel, members}
 * whenever a channel's member list changes (join, presence, re-join after reconnect).
 *
 * History (docs/history.md): join({channel, history: N}) gets the channel's last N
 * messages (in the answer's `messages`, and emitted as "message" events before any
 * live one); join({channel, recover: true}), or new Chat({recover: true}) for every
 * channel, only asks for offsets. Either way the connector remembers the channel's
 * last offset and epoch and, after a reconnect, rejoins from there: what was sent
 * meanwhile is emitted as "message" events first (in order, each once), then
 * "recovered" {channel, count}; or, when the server no longer holds it,
 * "recoveryFailed" {channel}. Without these params the wire is the original protocol.
 */
export class Chat extends RpcService {
  constructor({ recover = false } = {}) {
    super();
    this.recover_ = Boolean(recover);
    // canonical channel -> {channel, members, tracked: asked for offsets, position: {offset, epoch} | null}
    this.joined_ = new Map();
    // canonical channel -> live messages that arrived while a history answer was awaited
    this.waiting_ = new Map();
  }

  get channels() {
    return [...this.joined_.values()].map((entry) => entry.channel);
  }

  /** Identities in a joined channel, as last known (join answer + presence). */
  members(channel) {
    return [...(this.joined_.get(jsonKey(channel))?.members ?? [])];
  }

  /** The last {offset, epoch} seen on a channel joined with history or recover, or null. */
  position(channel) {
    return this.joined_.get(jsonKey(channel))?.position ?? null;
  }

  async join({ channel, history, recover }) {
    const params = { channel };
    if (history != null) params.history = history;
    else if (recover ?? this.recover_) params.recover = true;
    const tracked = params.history != null || params.recover === true;
    const key = jsonKey(channel);
    if (tracked) this.waiting_.set(key, []);
    let data;
    try {
      data = await this.call("join", params);
    } catch (error) {
      this.waiting_.delete(key);
      throw error;
    }
    const entry = { channel, members: [], tracked, position: null };
    this.joined_.set(key, entry);
    this.setMembers_(channel, data?.members ?? []);
    if (tracked) this.settle_(key, entry, data, false);
    return data;
  }

  async leave({ channel }) {
    const data = await this.call("leave", { channel });
    this.joined_.delete(jsonKey(channel));
    this.waiting_.delete(jsonKey(channel));
    return data;
  }

  send({ channel, body }) {
    return this.call("send", { channel, body });
  }

  read({ channel }) {
    return this.call("read", { channel });
  }

  onNotification(message) {
    // While a history answer is awaited, messages and presences wait too (in order).
    if (message.type === "message" || message.type === "presence") {
      const held = this.waiting_.get(jsonKey(message.channel));
      if (held) {
        held.push(message);
        return;
      }
    }
    this.handle_(message);
  }

  handle_(message) {
    const entry = this.joined_.get(jsonKey(message.channel));
    if (message.type === "message" && entry?.position && typeof message.offset === "number") {
      entry.position.offset = message.offset;
    }
    if (message.type === "presence" && entry) {
      const key = jsonKey(message.from);
      const others = entry.members.filter((member) => jsonKey(member) !== key);
      entry.members = message.status === "joined" ? [...others, message.from] : others;
    }
    super.onNotification(message);
    if (message.type === "presence") this.emitMembers_(message.channel);
  }

  restore() {
    for (const [key, entry] of this.joined_) {
      const { channel } = entry;
      const params = { channel };
      if (entry.tracked) {
        if (entry.position) params.since = { offset: entry.position.offset, epoch: entry.position.epoch };
        else params.recover = true;
        this.waiting_.set(key, []);
      }
      this.call("join", params).then(
        (data) => {
          if (this.joined_.get(key) !== entry) return; // left meanwhile
          this.setMembers_(channel, data?.members ?? []);
          if (entry.tracked) this.settle_(key, entry, data, true);
          this.emit("rejoined", { channel, members: this.members(channel) });
        },
        (error) => {
          this.waiting_.delete(key);
          this.emit("restoreFailed", { command: "join", params, error });
        },
      );
    }
  }

  onDisconnected() {
    // What was held came on the old connection; the next restore asks from the last position.
    this.waiting_.clear();
  }

  // A history answer: the messages it lists, then what was held meanwhile (messages not listed, presences).
  settle_(key, entry, data, recovering) {
    const held = this.waiting_.get(key) ?? [];
    this.waiting_.delete(key);
    settleHistory(this, {
      channel: entry.channel,
      entry,
      data,
      held,
      recovering,
      listedOf: (answer) => (Array.isArray(answer.messages) && answer.recovered !== false ? answer.messages : []),
      emitListed: (message) => super.onNotification(message),
      handle: (message) => this.handle_(message),
    });
  }

  setMembers_(channel, members) {
    const entry = this.joined_.get(jsonKey(channel));
    if (!entry) return;
    entry.members = [...members];
    this.emitMembers_(channel);
  }

  emitMembers_(channel) {
    if (this.joined_.has(jsonKey(channel))) this.emit("members", { channel, members: this.members(channel) });
  }
}
