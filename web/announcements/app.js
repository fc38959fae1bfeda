import { Snorky, PubSub } from "/lib/index.js";
import { snorkyConnection, showStatus } from "/demo_config.js";

// WebSocket, or SockJS with ?transport=sockjs (demo_config.js).
const { url, options } = await snorkyConnection();
const snorky = new Snorky(url, { pubsub: PubSub }, { ...options, debug: new URLSearchParams(location.search).has("debug") });
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
snorky.services.pubsub
  .subscribe({ channel: "announcements" })
  .then(() => document.body.setAttribute("data-subscribed", "true"))
  .catch((error) => {
    empty.textContent = `Could not subscribe: ${error.message}`;
    empty.className = "error";
  });
// Exposed for curious developers and for the browser test.
window.snorky = snorky;
