import { RpcService } from "../service.js";

/**
 * Messaging connector (protocol.md section 5): direct messages between named
 * participants. Emits "message" with {type, sender, dest, body}.
 * Registered names are registered again after a reconnect ("restoreFailed" if another
 * client took one meanwhile; the name is then forgotten).
 */
export class Messaging extends RpcService {
  constructor() {
    super();
    this.names_ = new Set();
  }

  get participants() {
    return [...this.names_];
  }

  async registerParticipant({ name }) {
    const data = await this.call("registerParticipant", { name });
    this.names_.add(name);
    return data;
  }

  async unregisterParticipant({ name }) {
    const data = await this.call("unregisterParticipant", { name });
    this.names_.delete(name);
    return data;
  }

  listParticipants() {
    return this.call("listParticipants", {});
  }

  send({ sender, dest, body }) {
    return this.call("send", { sender, dest, body });
  }

  restore() {
    for (const name of this.names_) {
      this.call("registerParticipant", { name }).catch((error) => {
        this.names_.delete(name);
        this.emit("restoreFailed", { command: "registerParticipant", params: { name }, error });
      });
    }
  }
}
