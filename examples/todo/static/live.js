// A live DataSync view over a plain WebSocket (protocol.md sections 1, 2, 7).
//
// SWITCH HERE to the Snorky JS client library (clients/js) when it lands:
// app.js only calls openLiveView(url, token, onDelta, onStatus) and the
// returned object's close(), so this file is the only one to rewrite.
//
// One WebSocket per view: deltas do not say which subscription they are for,
// so a connection carrying two views could not tell them apart.
"use strict";

function openLiveView(url, token, onDelta, onStatus) {
  const socket = new WebSocket(url);
  let closedByUs = false;
  socket.onopen = () => {
    onStatus("acquiring");
    socket.send(JSON.stringify({
      service: "datasync",
      message: { command: "acquireSubscription", params: { token }, callId: 1 },
    }));
  };
  socket.onmessage = (event) => {
    const envelope = JSON.parse(event.data);
    if (envelope.service !== "datasync") return;
    const message = envelope.message;
    if (message.type === "response" && message.callId === 1) onStatus("live");
    else if (message.type === "error") onStatus("error: " + message.message);
    else if (message.type === "delta") onDelta(message.delta);
  };
  socket.onclose = () => { if (!closedByUs) onStatus("disconnected"); };
  return {
    // Closing the connection cancels its subscriptions on the server.
    close() { closedByUs = true; socket.close(); },
  };
}
