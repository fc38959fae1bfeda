// Where the demo pages find Snorky: the WebSocket of the server that served the page,
// unless ?ws=... says otherwise.
export function snorkyUrl() {
  const override = new URLSearchParams(location.search).get("ws");
  if (override) return override;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}

/** Shows the connection's state in an element with class "status". */
export function showStatus(snorky, element) {
  const render = () => {
    element.dataset.state = snorky.state;
    element.textContent = snorky.state;
  };
  for (const event of ["connecting", "connected", "disconnected", "reconnecting"]) snorky.on(event, render);
  render();
}

/** Shows `text` in the element with id "error", or hides it when empty. */
export function showError(text) {
  const element = document.getElementById("error");
  element.textContent = text;
  element.hidden = !text;
}

/**
 * Signs in at the application's login (here the demo login server, or ?login=...) and
 * returns {token, identity}: the browser gets its identity token from the application,
 * never from the backend, whose key it must not know.
 */
export async function login(name) {
  const url =
    new URLSearchParams(location.search).get("login") ?? `${location.protocol}//${location.hostname}:5802/login`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `login failed (HTTP ${response.status})`);
  return body;
}

/**
 * The URL and Snorky options of a demo page: WebSocket by default; with
 * ?transport=sockjs, SockJS (its browser client from /vendor/) at ?sockjs=URL,
 * else port 5803 of this host (web/demo.toml); ?transports=xhr-streaming,...
 * limits the SockJS transports.
 */
export async function snorkyConnection() {
  const params = new URLSearchParams(location.search);
  if (params.get("transport") !== "sockjs") return { url: snorkyUrl(), options: {} };
  if (!window.SockJS) await loadScript("/vendor/sockjs.min.js");
  const only = params.get("transports")?.split(",");
  const SockJS = only
    ? class extends window.SockJS {
        constructor(url) {
          super(url, null, { transports: only });
        }
      }
    : window.SockJS;
  const url = params.get("sockjs") ?? `${location.protocol}//${location.hostname}:5803/sockjs`;
  return { url, options: { WebSocket: SockJS } };
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}
