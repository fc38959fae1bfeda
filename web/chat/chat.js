import { Snorky, Auth, Chat } from "/lib/index.js";
import { snorkyUrl, showStatus, showError, login } from "/demo_config.js";

const params = new URLSearchParams(location.search);
const channel = params.get("channel") ?? "lobby";
const $ = (id) => document.getElementById(id);

function addLine(cssClass, from, text, timestamp) {
  const item = document.createElement("li");
  item.className = cssClass;
  const who = document.createElement("strong");
  who.textContent = from ? `${from}: ` : "";
  const body = document.createElement("span");
  body.className = "body";
  body.textContent = text;
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = timestamp ? new Date(timestamp).toLocaleTimeString() : "";
  item.append(who, body, meta);
  $("messages").append(item);
  item.scrollIntoView({ block: "nearest" });
}

function renderMembers(members) {
  $("members").replaceChildren(
    ...members.map((member) => {
      const item = document.createElement("li");
      item.textContent = typeof member === "string" ? member : JSON.stringify(member);
      return item;
    }),
  );
}

async function enter(name) {
  const { token, identity } = await login(name);
  // recover: after a reconnect, what was said meanwhile comes back (docs/history.md).
  const snorky = new Snorky(snorkyUrl(), { auth: Auth, chat: new Chat({ recover: true }) }, { debug: params.has("debug") });
  showStatus(snorky, $("status"));
  const { auth, chat } = snorky.services;
  chat.on("message", (m) => addLine("message", m.from, m.body, m.timestamp));
  chat.on("presence", (p) => addLine("presence meta", "", `${p.from} ${p.status}`, p.timestamp));
  chat.on("members", ({ members }) => renderMembers(members));
  auth.on("restoreFailed", () => showError("Your session expired: reload the page to sign in again."));
  await auth.authenticate({ token });
  chat.on("recoveryFailed", () => addLine("presence meta", "", "(some messages may be missing: reload to see them)"));
  // The last messages (emitted as "message" events before live ones) when the server keeps them.
  await chat.join({ channel, history: 50 });
  $("channel").textContent = channel;
  $("login").hidden = true;
  $("room").hidden = false;
  document.body.dataset.user = identity;
  $("compose").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("body").value.trim();
    if (!text) return;
    $("body").value = "";
    try {
      await chat.send({ channel, body: text });
    } catch (error) {
      showError(error.message);
    }
  });
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
