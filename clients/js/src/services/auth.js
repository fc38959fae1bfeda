import { RpcService } from "../service.js";

/**
 * Connector of the identity service (type "auth"): proves an identity with a token the
 * application's backend minted (backend service "auth_backend", command mintToken).
 * The token is kept and presented again first thing after a reconnect, so that Chat and
 * Cursors find the connection authenticated when they re-join. If it was refused then
 * (e.g. expired), "restoreFailed" is emitted and identity becomes null: get a fresh
 * token and call authenticate() again.
 */
export class Auth extends RpcService {
  constructor() {
    super();
    this.token_ = null;
    this.identity = null;
  }

  get restoreOrder() {
    return 0;
  }

  async authenticate({ token }) {
    const identity = await this.call("authenticate", { token });
    this.token_ = token;
    this.identity = identity;
    this.emit("authenticated", identity);
    return identity;
  }

  whoami() {
    return this.call("whoami", {});
  }

  onDisconnected() {
    // The server forgets a connection's identity with the connection.
  }

  restore() {
    if (this.token_ === null) return;
    const token = this.token_;
    this.call("authenticate", { token }).then(
      (identity) => {
        this.identity = identity;
        this.emit("authenticated", identity);
      },
      (error) => {
        this.token_ = null;
        this.identity = null;
        this.emit("restoreFailed", { command: "authenticate", params: {}, error });
      },
    );
  }
}
