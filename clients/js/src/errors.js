// Two kinds of failure, kept apart so applications can tell them apart:
// SnorkyError: the service answered with an error (its text is API, see protocol.md 8).
// TransportError: no answer from the service (socket closed, server down, bad HTTP status).

export class SnorkyError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.name = "SnorkyError";
    this.service = details.service;
    this.command = details.command;
    this.callId = details.callId;
  }
}

export class TransportError extends Error {
  constructor(message, details = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = "TransportError";
    this.status = details.status;
    this.body = details.body;
  }
}
