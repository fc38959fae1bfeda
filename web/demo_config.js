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
