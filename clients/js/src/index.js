// Snorky client library: plain ES modules, usable from a page as they are.
export { Snorky, CLOSE_NO_RECONNECT } from "./snorky.js";
export { Emitter } from "./emitter.js";
export { Service, RpcService } from "./service.js";
export { SnorkyError, TransportError } from "./errors.js";
export { backoffDelay, defaultReconnect } from "./backoff.js";
export { jsonKey, jsonEqual } from "./json_key.js";
export { PubSub } from "./services/pubsub.js";
export { Messaging } from "./services/messaging.js";
export { Chat } from "./services/chat.js";
export { Cursors } from "./services/cursors.js";
export { DataSync } from "./services/datasync.js";
export { Auth } from "./services/auth.js";
export { DeltaProcessor } from "./datasync/delta_processor.js";
export { ArrayCollection, SingleItemCollection } from "./datasync/collections.js";
export { Backend } from "./backend.js";
