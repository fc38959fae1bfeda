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
