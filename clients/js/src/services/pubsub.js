import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";

/**
 * PubSub connector (protocol.md section 4). Emits "message" with
 * {type, channel, message} for every publication on a subscribed channel.
 * Subscribed channels are re-subscribed after a reconnect ("resubscribed" {channel}
 * once the server confirmed, "restoreFailed" if it refused).
 */
export class PubSub extends RpcService {
  constructor() {
    super();
    this.channels_ = new Map(); // canonical JSON -> channel
  }

  /** Channels this client is subscribed to (as confirmed by the server). */
  get channels() {
    return [...this.channels_.values()];
  }

  async subscribe({ channel }) {
    const data = await this.call("subscribe", { channel });
    this.channels_.set(jsonKey(channel), channel);
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
    for (const channel of this.channels_.values()) {
      this.restoreCall_("subscribe", { channel }, () => this.emit("resubscribed", { channel }));
    }
  }
}
