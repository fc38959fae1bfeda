// Type declarations of the Snorky client (written by hand; the sources are plain ES modules).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Listener<T> = (event: T) => void;

/** Known events are typed; any other name (e.g. a custom notification type) is `any`. */
export class Emitter<Events extends object = {}> {
  on<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void;
  on(event: string, listener: Listener<any>): () => void;
  once<K extends keyof Events & string>(event: K, listener: Listener<Events[K]>): () => void;
  once(event: string, listener: Listener<any>): () => void;
  off(event: string, listener: Listener<any>): void;
  waitFor<K extends keyof Events & string>(event: K): Promise<Events[K]>;
  waitFor(event: string): Promise<any>;
  listenerCount(event: string): number;
  emit(event: string, payload?: unknown): boolean;
}

/** The service answered with an error; message is the server's text (protocol.md 8). */
export class SnorkyError extends Error {
  name: "SnorkyError";
  service?: string;
  command?: string;
  callId?: Json;
}

/** No answer: socket closed or lost, queue full, backend unreachable or non-200. */
export class TransportError extends Error {
  name: "TransportError";
  status?: number;
  body?: string;
}

export interface ReconnectOptions {
  enabled?: boolean;
  /** ms before the first retry (default 500) */
  initialDelay?: number;
  /** cap of the delay in ms (default 30000) */
  maxDelay?: number;
  /** growth per attempt (default 2) */
  factor?: number;
  /** fraction of the delay that is random, 0..1 (default 0.5) */
  jitter?: number;
  /** retries after one loss before giving up (default Infinity) */
  maxAttempts?: number;
}

export const defaultReconnect: Readonly<Required<ReconnectOptions>>;
export function backoffDelay(attempt: number, options?: ReconnectOptions, random?: () => number): number;
export function jsonKey(value: unknown): string;
export function jsonEqual(a: unknown, b: unknown): boolean;

/** The constructor of a WebSocket (the browser's, or the `ws` package's in Node). */
export type WebSocketClass = new (url: string) => any;

export interface SnorkyOptions {
  WebSocket?: WebSocketClass;
  /** true logs to console.debug; a function receives the log arguments */
  debug?: boolean | ((...args: unknown[]) => void);
  reconnect?: ReconnectOptions | false;
  /** messages kept while not connected (default 1000); past it calls reject */
  maxQueuedMessages?: number;
  /** default true; otherwise call connect() */
  autoConnect?: boolean;
  /** random source for the backoff jitter (tests) */
  random?: () => number;
}

export type ConnectionState = "connecting" | "connected" | "disconnected" | "closed";

export interface SnorkyEvents {
  connecting: undefined;
  connected: { reconnect: boolean };
  disconnected: { code: number; reason: string; willReconnect: boolean };
  reconnecting: { attempt: number; delay: number };
  error: unknown;
}

export type ServiceSpec = Service | (new () => Service);
type InstanceOf<S> = S extends new () => infer I ? I : S;

export interface SendHooks {
  onWrite?: () => void;
  onDrop?: (error: TransportError) => void;
}

/** Close code of a connection the server ended for good (admin_backend disconnect): no reconnect. */
export declare const CLOSE_NO_RECONNECT: 4001;
export class Snorky<S extends Record<string, ServiceSpec> = Record<string, ServiceSpec>> extends Emitter<SnorkyEvents> {
  constructor(url: string | (() => string | Promise<string>), services?: S, options?: SnorkyOptions);
  /** The original client's argument order. */
  constructor(WebSocket: WebSocketClass, url: string, services?: S, debug?: boolean);
  readonly url: string | (() => string | Promise<string>);
  readonly services: { [K in keyof S]: InstanceOf<S[K]> };
  state: ConnectionState;
  readonly isConnected: boolean;
  addService<T extends ServiceSpec>(name: string, service: T): InstanceOf<T>;
  connect(): void;
  close(code?: number, reason?: string): void;
  send(service: string, message: Json, hooks?: SendHooks): void;
}

export interface RestoreFailed {
  command: string;
  params: Record<string, Json>;
  error: Error;
}

export class Service<Events extends object = {}> extends Emitter<Events> {
  name: string | null;
  snorky: Snorky | null;
  readonly restoreOrder: number;
  transmit(message: Json, hooks?: SendHooks): void;
  onMessage(message: Json): void;
  /** After a reconnect, before queued messages are written. */
  restore(): void;
  onDisconnected(): void;
}

export interface RpcEvents {
  /** every notification, whatever its type */
  notification: any;
  /** an error answer that matched no pending call */
  error: SnorkyError;
  restoreFailed: RestoreFailed;
}

export class RpcService<Events extends object = RpcEvents> extends Service<Events> {
  call<T = any>(command: string, params?: Record<string, unknown>): Promise<T>;
  onNotification(message: { type?: string; [key: string]: any }): void;
}

// ---- PubSub (protocol.md 4) ----
export interface PubSubMessage<M = Json, C = Json> {
  type: "message";
  channel: C;
  message: M;
  /** Its place in the channel's history; only on channels subscribed with recover. */
  offset?: number;
}
/** Where a channel's history stream is (docs/history.md). */
export interface StreamPosition {
  offset: number;
  epoch: string;
}
/** What subscribe({recover: true}) answers: null when the channel keeps no history. */
export interface PubSubSubscribed extends StreamPosition {
  recovered?: boolean;
  publications?: { offset: number; message: Json }[];
}
/** The server removed this client from a channel (pubsub_backend unsubscribe). */
export interface PubSubUnsubscribed<C = Json> {
  type: "unsubscribed";
  channel: C;
  reason: string;
}
export interface PubSubOptions {
  /**
   * Asked for a subscription token on every subscribe() without one and on every
   * re-subscribe after a reconnect; null/undefined sends none.
   */
  getToken?: (channel: Json) => string | null | undefined | Promise<string | null | undefined>;
  /** Subscribe every channel with recover (default false): missed messages come back after a reconnect. */
  recover?: boolean;
}
export class PubSub extends RpcService<
  RpcEvents & {
    message: PubSubMessage<any, any>;
    resubscribed: { channel: Json };
    unsubscribed: PubSubUnsubscribed<any>;
    /** After a reconnect: `count` missed messages were emitted as "message" events. */
    recovered: { channel: Json; count: number };
    /** After a reconnect: what was missed is no longer held; re-fetch the state. */
    recoveryFailed: { channel: Json };
  }
> {
  constructor(options?: PubSubOptions);
  readonly channels: Json[];
  /** The last position seen on a channel subscribed with recover, or null. */
  position(channel: Json): StreamPosition | null;
  /**
   * `token`: a subscription token from the application (pubsub_backend authorizeSubscription).
   * `recover`: ask for offsets, so that a reconnect recovers what was missed (PubSubOptions.recover by default).
   */
  subscribe(params: { channel: Json; token?: string; recover?: boolean }): Promise<PubSubSubscribed | null>;
  unsubscribe(params: { channel: Json }): Promise<null>;
  publish(params: { channel: Json; message: Json }): Promise<null>;
}

// ---- Messaging (protocol.md 5) ----
export interface DirectMessage<B = Json> {
  type: "message";
  sender: string;
  dest: string;
  body: B;
}
export class Messaging extends RpcService<RpcEvents & { message: DirectMessage<any> }> {
  readonly participants: string[];
  registerParticipant(params: { name: string }): Promise<null>;
  unregisterParticipant(params: { name: string }): Promise<null>;
  listParticipants(): Promise<string[]>;
  send(params: { sender: string; dest: string; body: Json }): Promise<null>;
}

// ---- Identity ----
export class Auth extends RpcService<RpcEvents & { authenticated: Json }> {
  /** The identity the server accepted, null before (or after a refused restore). */
  identity: Json;
  authenticate(params: { token: string }): Promise<Json>;
  whoami(): Promise<Json>;
}

// ---- Chat (protocol.md 6) ----
export interface ChatMessage<B = Json> {
  type: "message";
  from: Json;
  channel: Json;
  body: B;
  timestamp: string;
  /** Its place in the channel's history; only on channels joined with history or recover. */
  offset?: number;
}
/**
 * What join answers: `members`; with history or recover on a service that keeps
 * history also the position, the messages asked for (oldest first) and, after
 * `since`, whether they are all of those missed (docs/history.md).
 */
export interface ChatJoined {
  members: Json[];
  offset?: number;
  epoch?: string;
  recovered?: boolean;
  messages?: (ChatMessage<any> & { offset: number })[];
}
export interface ChatOptions {
  /** Join every channel with recover (default false): missed messages come back after a reconnect. */
  recover?: boolean;
}
export interface ChatPresence {
  type: "presence";
  from: Json;
  channel: Json;
  status: "joined" | "left";
  timestamp: string;
}
export interface ChatRead {
  type: "read";
  channel: Json;
  timestamp: string;
}
export class Chat extends RpcService<
  RpcEvents & {
    message: ChatMessage<any>;
    presence: ChatPresence;
    read: ChatRead;
    members: { channel: Json; members: Json[] };
    rejoined: { channel: Json; members: Json[] };
    /** After a reconnect: `count` missed messages were emitted as "message" events. */
    recovered: { channel: Json; count: number };
    /** After a reconnect: what was missed is no longer held; re-fetch the conversation. */
    recoveryFailed: { channel: Json };
  }
> {
  constructor(options?: ChatOptions);
  readonly channels: Json[];
  members(channel: Json): Json[];
  /** The last position seen on a channel joined with history or recover, or null. */
  position(channel: Json): StreamPosition | null;
  /**
   * `history`: the channel's last N messages (also emitted as "message" events, before
   * live ones); `recover`: offsets only (ChatOptions.recover by default). Either way a
   * reconnect recovers what was missed.
   */
  join(params: { channel: Json; history?: number; recover?: boolean }): Promise<ChatJoined>;
  leave(params: { channel: Json }): Promise<null>;
  send(params: { channel: Json; body: Json }): Promise<null>;
  read(params: { channel: Json }): Promise<null>;
}

// ---- Cursors (protocol.md 6) ----
export interface Cursor {
  publicHandle: number;
  document: Json;
  position: Json;
  status: Json;
  owner: Json;
}
export interface OwnCursor {
  privateHandle: Json;
  publicHandle: number;
  document: Json;
  position: Json;
  status: Json;
}
export class Cursors extends RpcService<
  RpcEvents & {
    cursorAdded: { type: "cursorAdded"; cursor: Cursor };
    cursorUpdated: { type: "cursorUpdated"; cursor: Cursor };
    cursorRemoved: { type: "cursorRemoved"; cursor: { publicHandle: number; document: Json } };
    cursors: { document: Json; cursors: Cursor[] };
    rejoined: { document: Json; cursors: Cursor[] };
  }
> {
  readonly documents: Json[];
  foreignCursors(document: Json): Cursor[];
  ownCursors(document?: Json): OwnCursor[];
  join(params: { document: Json }): Promise<{ cursors: Cursor[] }>;
  leave(params: { document: Json }): Promise<null>;
  /** Resolves with the public handle. privateHandle is chosen when omitted. */
  createCursor(params: { privateHandle?: Json; document: Json; position?: Json; status?: Json }): Promise<number>;
  updateCursor(params: { privateHandle: Json; newData: { position?: Json; status?: Json } }): Promise<null>;
  removeCursor(params: { privateHandle: Json }): Promise<null>;
}

// ---- DataSync (protocol.md 7) ----
export type Delta =
  | { type: "insert"; model: string; data: any }
  | { type: "delete"; model: string; data: any }
  | { type: "update"; model: string; oldData: any; newData: any };

export interface Collection {
  insert(data: any): void;
  update(oldData: any, newData: any): void;
  delete(data: any): void;
}

export interface ArrayCollectionOptions<Row, Item> {
  transform?: (row: Row) => Item;
  /** a field name, or a function computing the key of a row or item */
  key?: string | ((value: any) => unknown);
  equals?: (item: Item, row: Row) => boolean;
}

export class ArrayCollection<Row = any, Item = Row> implements Collection {
  constructor(items?: Item[], options?: ArrayCollectionOptions<Row, Item>);
  items: Item[];
  transform: (row: Row) => Item;
  equals: (item: Item, row: Row) => boolean;
  /** true when key or equals was given: inserts of a held row replace it */
  keyed: boolean;
  indexOf(row: Row): number;
  insert(data: Row): void;
  update(oldData: Row, newData: Row): void;
  delete(data: Row): void;
}

export class SingleItemCollection<Row = any, Item = Row> implements Collection {
  constructor(item?: Item | null, options?: { transform?: (row: Row) => Item });
  item: Item | null;
  insert(data: Row): void;
  update(oldData: Row, newData: Row): void;
  delete(data?: Row): void;
}

export class DeltaProcessor extends Emitter<{ change: { delta: Delta; model: string }; unknownModel: Delta }> {
  constructor(options?: { collections?: Record<string, Collection | Collection[]> });
  collections: Map<string, Collection[]>;
  addCollection(model: string, collection: Collection | Collection[]): this;
  processDelta(delta: Delta): void;
}

export class DataSync extends RpcService<
  RpcEvents & { delta: Delta; subscriptionsLost: { tokens: string[] } }
> {
  constructor(options?: { deltaProcessor?: DeltaProcessor | null });
  deltaProcessor: DeltaProcessor | null;
  readonly subscriptions: string[];
  acquireSubscription(params: { token: string }): Promise<null>;
  cancelSubscription(params: { token: string }): Promise<null>;
}

// ---- Backend connector (Node; never in a browser) ----
export interface BackendOptions {
  fetch?: typeof fetch;
  /** ms per call, 0 = none (default 10000) */
  timeout?: number;
}

export class Backend {
  constructor(url: string, key: string, options?: BackendOptions);
  url: string;
  /** Resolves with the reply's data; SnorkyError for a service error, TransportError otherwise. */
  call<T = any>(service: string, command: string, params?: Record<string, unknown>): Promise<T>;
}
