// Compiled by `npm run test:types` against the package's own exports: the declarations
// must accept the documented usage and reject misuse (@ts-expect-error lines).
import { Snorky, CLOSE_NO_RECONNECT, PubSub, Chat, Cursors, DataSync, Auth, DeltaProcessor, ArrayCollection, SingleItemCollection, SnorkyError } from "snorky-client";
import { Backend, TransportError } from "snorky-client/backend";

declare const WebSocketImpl: new (url: string) => unknown;

const snorky = new Snorky(
  "ws://localhost:5800/ws",
  { pubsub: PubSub, chat: Chat, cursors: Cursors, auth: Auth, datasync: new DataSync() },
  { WebSocket: WebSocketImpl, debug: true, reconnect: { initialDelay: 100 } },
);
snorky.on("connected", ({ reconnect }) => console.log(reconnect ? "back" : "up"));
snorky.on("disconnected", ({ code, willReconnect }) => console.log(code === CLOSE_NO_RECONNECT, willReconnect));

const pubsub: PubSub = snorky.services.pubsub;
pubsub.on("message", (m) => console.log(m.channel, m.message));
// @ts-expect-error a publication has no such field
pubsub.on("message", (m) => console.log(m.sender));
pubsub.on("customNotification", (m) => console.log(m.anything));
snorky.services.chat.on("presence", (p) => console.log(p.status === "joined"));
async function use(): Promise<void> {
  await pubsub.subscribe({ channel: "announcements" });
  // @ts-expect-error channel is required
  await pubsub.subscribe({});
  await pubsub.subscribe({ channel: "doc:1", token: "from-the-application" });
  const privateChannels = new PubSub({ getToken: async (channel) => (channel === "news" ? null : "token") });
  privateChannels.on("unsubscribed", (u) => console.log(u.channel, u.reason.length));
  // @ts-expect-error a token is a string
  await pubsub.subscribe({ channel: "doc:1", token: 42 });
  // @ts-expect-error getToken is a function
  new PubSub({ getToken: "token" });
  const recovering = new PubSub({ recover: true });
  recovering.on("recovered", ({ channel, count }) => console.log(channel, count + 1));
  recovering.on("recoveryFailed", ({ channel }) => console.log(channel));
  recovering.on("message", (m) => console.log(m.offset ?? 0));
  const answer = await recovering.subscribe({ channel: "news", recover: true });
  if (answer) console.log(answer.epoch.length, answer.offset, answer.recovered, answer.publications?.length);
  const position = recovering.position("news");
  if (position) console.log(position.offset + 1, position.epoch);
  // @ts-expect-error recover is a boolean
  await recovering.subscribe({ channel: "news", recover: "yes" });
  const members = (await snorky.services.chat.join({ channel: "lobby" })).members;
  console.log(members.length);
  const chatting = new Chat({ recover: true });
  const joined = await chatting.join({ channel: "lobby", history: 20 });
  for (const m of joined.messages ?? []) console.log(m.offset + 1, m.body, m.from);
  console.log(joined.epoch?.length, joined.recovered);
  chatting.on("recovered", ({ channel, count }) => console.log(channel, count + 1));
  chatting.on("recoveryFailed", ({ channel }) => console.log(channel));
  chatting.on("message", (m) => console.log(m.offset ?? 0));
  console.log(chatting.position("lobby")?.offset);
  // @ts-expect-error history is a number
  await chatting.join({ channel: "lobby", history: "20" });
  const handle: number = await snorky.services.cursors.createCursor({ document: "d", position: 1 });
  console.log(handle);
  await snorky.services.auth.authenticate({ token: "t" });
  snorky.services.datasync.on("subscriptionsLost", ({ tokens }) => console.log(tokens.join()));
  try {
    await new Backend("http://127.0.0.1:5801/backend", "key").call<null>("pubsub_backend", "publish", { channel: "a", message: 1 });
  } catch (error) {
    if (error instanceof SnorkyError) console.log(error.message);
    else if (error instanceof TransportError) console.log(error.status);
  }
}
void use;

interface Todo {
  id: number;
  title: string;
}
const todos: Todo[] = [];
const processor = new DeltaProcessor({
  collections: { todo: new ArrayCollection<Todo>(todos, { key: "id" }), me: new SingleItemCollection() },
});
processor.on("change", ({ model }) => console.log(model));
processor.processDelta({ type: "update", model: "todo", oldData: {}, newData: {} });
// @ts-expect-error an update has oldData/newData
processor.processDelta({ type: "update", model: "todo", data: {} });
