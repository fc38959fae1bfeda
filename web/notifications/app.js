import { Snorky, Auth, PubSub } from "/lib/index.js";
import { snorkyUrl, showStatus, showError, login } from "/demo_config.js";

const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

// A notification may be a string or {text}; anything else is shown as JSON.
function render(message) {
  const item = document.createElement("li");
  const text = document.createElement("div");
  text.className = "text";
  text.textContent = typeof message === "string" ? message : (message?.text ?? JSON.stringify(message));
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = new Date().toLocaleTimeString();
  item.append(text, meta);
  $("feed").prepend(item);
  $("empty").hidden = true;
}

function curlFor(channel) {
  const envelope = { service: "notifications_backend", message: { command: "publish", params: { channel, message: "Hello!" } } };
  return `curl -s -H 'X-Backend-Key: '"$SNORKY_BACKEND_KEY" \\\n  -d '${JSON.stringify(envelope).replaceAll("'", "'\\''")}' \\\n  http://127.0.0.1:5801/backend`;
}

async function enter(name) {
  const { token, identity } = await login(name);
  const snorky = new Snorky(snorkyUrl(), { auth: Auth, notifications: PubSub }, { debug: params.has("debug") });
  showStatus(snorky, $("status"));
  const { auth, notifications } = snorky.services;
  notifications.on("message", ({ message }) => render(message));
  notifications.on("unsubscribed", ({ reason }) => showError(`Notifications stopped: ${reason}`));
  auth.on("restoreFailed", () => showError("Your session expired: reload the page to sign in again."));
  await auth.authenticate({ token });
  const channel = `user:${identity}`;
  await notifications.subscribe({ channel });
  $("channel").textContent = channel;
  $("curl").textContent = curlFor(channel);
  $("login").hidden = true;
  $("inbox").hidden = false;
  document.body.dataset.user = identity;
  // Exposed for curious developers and for the browser test.
  window.snorky = snorky;
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const button = event.submitter ?? $("login").querySelector("button");
  button.disabled = true;
  try {
    await enter($("name").value.trim());
  } catch (error) {
    showError(error.message);
    button.disabled = false;
  }
});
