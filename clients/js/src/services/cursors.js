import { RpcService } from "../service.js";
import { jsonKey } from "../json_key.js";

/**
 * Cursors connector (protocol.md section 6; joining needs an identity). Keeps, per
 * joined document, the foreign cursors (others', keyed by public handle) and this
 * client's own cursors (keyed by private handle). Events: "cursorAdded",
 * "cursorUpdated", "cursorRemoved" (the server's notifications, after the local state is
 * updated) and "cursors" {document, cursors} whenever a document's foreign cursors
 * change. After a reconnect, documents are joined again and own cursors re-created
 * (they get new public handles).
 */
export class Cursors extends RpcService {
  constructor() {
    super();
    this.documents_ = new Map(); // canonical document -> {document, foreign: Map(publicHandle -> cursor)}
    this.own_ = new Map(); // privateHandle -> {privateHandle, publicHandle, document, position, status}
    this.nextPrivateHandle_ = 1;
  }

  get documents() {
    return [...this.documents_.values()].map((entry) => entry.document);
  }

  /** Cursors of other clients in a joined document. */
  foreignCursors(document) {
    return [...(this.documents_.get(jsonKey(document))?.foreign.values() ?? [])];
  }

  /** This client's cursors, in one document or in all. */
  ownCursors(document) {
    const all = [...this.own_.values()].map((cursor) => ({ ...cursor }));
    return document === undefined ? all : all.filter((cursor) => jsonKey(cursor.document) === jsonKey(document));
  }

  async join({ document }) {
    const data = await this.call("join", { document });
    this.setForeign_(document, data?.cursors ?? []);
    return data;
  }

  async leave({ document }) {
    const data = await this.call("leave", { document });
    this.forgetDocument_(document);
    return data;
  }

  /** privateHandle may be omitted: one is chosen. Resolves with the public handle. */
  async createCursor({ privateHandle, document, position = null, status = null }) {
    const handle = privateHandle ?? this.freePrivateHandle_();
    const publicHandle = await this.call("createCursor", { privateHandle: handle, document, position, status });
    this.own_.set(handle, { privateHandle: handle, publicHandle, document, position, status });
    return publicHandle;
  }

  async updateCursor({ privateHandle, newData }) {
    const data = await this.call("updateCursor", { privateHandle, newData });
    const cursor = this.own_.get(privateHandle);
    if (cursor) {
      if ("position" in newData) cursor.position = newData.position;
      if ("status" in newData) cursor.status = newData.status;
    }
    return data;
  }

  async removeCursor({ privateHandle }) {
    const data = await this.call("removeCursor", { privateHandle });
    this.own_.delete(privateHandle);
    return data;
  }

  onNotification(message) {
    const cursor = message.cursor;
    const entry = cursor ? this.documents_.get(jsonKey(cursor.document)) : undefined;
    if (entry) {
      if (message.type === "cursorAdded" || message.type === "cursorUpdated") entry.foreign.set(cursor.publicHandle, cursor);
      else if (message.type === "cursorRemoved") entry.foreign.delete(cursor.publicHandle);
    }
    super.onNotification(message);
    if (entry) this.emit("cursors", { document: entry.document, cursors: this.foreignCursors(entry.document) });
  }

  restore() {
    for (const { document } of this.documents_.values()) {
      this.restoreCall_("join", { document }, (data) => {
        this.setForeign_(document, data?.cursors ?? []);
        this.emit("rejoined", { document, cursors: this.foreignCursors(document) });
      });
      for (const cursor of this.own_.values()) {
        if (jsonKey(cursor.document) !== jsonKey(document)) continue;
        const { privateHandle, position, status } = cursor;
        this.call("createCursor", { privateHandle, document, position, status }).then(
          (publicHandle) => {
            cursor.publicHandle = publicHandle;
          },
          (error) => {
            this.own_.delete(privateHandle);
            this.emit("restoreFailed", { command: "createCursor", params: { privateHandle, document }, error });
          },
        );
      }
    }
  }

  setForeign_(document, cursors) {
    const foreign = new Map(cursors.map((cursor) => [cursor.publicHandle, cursor]));
    this.documents_.set(jsonKey(document), { document, foreign });
    this.emit("cursors", { document, cursors: this.foreignCursors(document) });
  }

  forgetDocument_(document) {
    const key = jsonKey(document);
    this.documents_.delete(key);
    for (const [handle, cursor] of this.own_) if (jsonKey(cursor.document) === key) this.own_.delete(handle);
  }

  freePrivateHandle_() {
    while (this.own_.has(this.nextPrivateHandle_)) this.nextPrivateHandle_ += 1;
    return this.nextPrivateHandle_++;
  }
}
