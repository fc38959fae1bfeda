// A WebSocket stand-in for unit tests: records what the client sends and lets the test
// play the server (open, deliver messages, close).
import { Snorky } from "../../src/index.js";

export class FakeWebSocket {
  static instances = [];

  static reset() {
    FakeWebSocket.instances = [];
  }

  static get last() {
    return FakeWebSocket.instances.at(-1);
  }

  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.sent = [];
    this.closedWith = null;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    FakeWebSocket.instances.push(this);
  }

  send(text) {
    if (this.readyState !== 1) throw new Error("send on a socket that is not open");
    this.sent.push(JSON.parse(text));
  }

  close(code = 1000, reason = "") {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // --- the test plays the server ---
  serverOpen() {
    this.readyState = 1;
    this.onopen?.({});
  }

  serverSend(service, message) {
    this.onmessage?.({ data: JSON.stringify({ service, message }) });
  }

  serverSendRaw(data) {
    this.onmessage?.({ data });
  }

  serverClose(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Answers the last request sent to `service` with data. */
  respond(service, data) {
    const request = this.lastTo(service);
    this.serverSend(service, { type: "response", callId: request.message.callId, data });
  }

  fail(service, text) {
    const request = this.lastTo(service);
    this.serverSend(service, { type: "error", callId: request.message.callId, message: text });
  }

  lastTo(service) {
    const request = this.sent.filter((envelope) => envelope.service === service).at(-1);
    if (!request) throw new Error(`nothing was sent to ${service}`);
    return request;
  }
}

/** Lets promise callbacks run. */
export function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

const fastReconnect = { initialDelay: 1, maxDelay: 1, jitter: 0 };

/** A client with `services` on a FakeWebSocket, open, that reconnects within a millisecond. */
export function openFake(services) {
  const snorky = new Snorky("ws://x/ws", services, { WebSocket: FakeWebSocket, reconnect: fastReconnect });
  FakeWebSocket.last.serverOpen();
  return snorky;
}

/** The connection drops (1006); resolves with the new socket once the client reopened it. */
export async function reconnectFake() {
  const before = FakeWebSocket.instances.length;
  FakeWebSocket.last.serverClose(1006);
  await new Promise((resolve) => setTimeout(resolve, 10));
  if (FakeWebSocket.instances.length !== before + 1) throw new Error("the client opened no new socket");
  FakeWebSocket.last.serverOpen();
  return FakeWebSocket.last;
}
