import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";

/**
 * Chat connector (protocol.md section 6; the connection needs an identity). Events:
 * "message" {type, from, channel, body, timestamp}, "presence" {type, from, channel,
 * status, timestamp}, "read" {type, channel, timestamp}, "members" {channel, members}
 * whenever a channel's member list changes (join, presence, re-join after reconnect).
 */
export class Chat extends RpcService {
  constructor() {
    super();
    this.joined_ = new Map(); // canonical channel -> {channel, members}
  }

  get channels() {
    return [...this.joined_.values()].map((entry) => entry.channel);
  }

  /** Identities in a joined channel, as last known (join answer + presence). */
  members(channel) {
    return [...(this.joined_.get(jsonKey(channel))?.members ?? [])];
  }

  async join({ channel }) {
    const data = await this.call("join", { channel });
    this.setMembers_(channel, data?.members ?? []);
    return data;
  }

  async leave({ channel }) {
    const data = await this.call("leave", { channel });
    this.joined_.delete(jsonKey(channel));
    return data;
  }

  send({ channel, body }) {
    return this.call("send", { channel, body });
  }

  read({ channel }) {
    return this.call("read", { channel });
  }

  onNotification(message) {
    if (message.type === "presence") {
      const entry = this.joined_.get(jsonKey(message.channel));
      if (entry) {
        const key = jsonKey(message.from);
        const others = entry.members.filter((member) => jsonKey(member) !== key);
        entry.members = message.status === "joined" ? [...others, message.from] : others;
      }
    }
    super.onNotification(message);
    if (message.type === "presence") this.emitMembers_(message.channel);
  }

  restore() {
    for (const { channel } of this.joined_.values()) {
      this.restoreCall_("join", { channel }, (data) => {
        this.setMembers_(channel, data?.members ?? []);
        this.emit("rejoined", { channel, members: this.members(channel) });
      });
    }
  }

  setMembers_(channel, members) {
    this.joined_.set(jsonKey(channel), { channel, members: [...members] });
    this.emitMembers_(channel);
  }

  emitMembers_(channel) {
    if (this.joined_.has(jsonKey(channel))) this.emit("members", { channel, members: this.members(channel) });
  }
}
