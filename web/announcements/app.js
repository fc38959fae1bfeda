import { Snorky, PubSub } from "/lib/index.js";
import { snorkyConnection, showStatus } from "/demo_config.js";

// WebSocket, or SockJS with ?transport=sockjs (demo_config.js).
const { url, options } = await snorkyConnection();
// recover: after a dropped connection, what was published meanwhile is replayed (docs/history.md).
const snorky = new Snorky(url, { pubsub: new PubSub({ recover: true }) }, {
  ...options,
  debug: new URLSearchParams(location.search).has("debug"),
});
showStatus(snorky, document.getElementById("status"));

const feed = document.getElementById("feed");
const empty = document.getElementById("empty");

// A message may be a string or {text, from}; anything else is shown as JSON.
function render(message) {
  const item = document.createElement("li");
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = typeof message === "string" ? message : (message?.text ?? JSON.stringify(message));
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = new Date().toLocaleTimeString() + (message?.from ? ` · ${message.from}` : "");
  item.append(text, meta);
  feed.prepend(item);
  empty.hidden = true;
}

snorky.services.pubsub.on("message", ({ message }) => render(message));
const recovery = document.getElementById("recovery");
snorky.services.pubsub.on("recovered", ({ count }) => {
  recovery.textContent = `recovered ${count} missed message${count === 1 ? "" : "s"}`;
  recovery.className = "meta";
  recovery.hidden = false;
});
snorky.services.pubsub.on("recoveryFailed", () => {
  recovery.textContent = "some messages may have been missed while disconnected";
  recovery.className = "error";
  recovery.hidden = false;
});
snorky.services.pubsub
  .subscribe({ channel: "announcements" })
  .then(() => document.body.setAttribute("data-subscribed", "true"))
  .catch((error) => {
    empty.textContent = `Could not subscribe: ${error.message}`;
    empty.className = "error";
  });
// Exposed for curious developers and for the browser test.
window.snorky = snorky;
