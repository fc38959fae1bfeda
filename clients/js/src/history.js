/**
 * The answer to a subscribe or join that asked for history (docs/history.md), applied
 * to a tracked channel `entry` ({position}) by PubSub and Chat alike: the position is
 * taken from it, the messages it lists are emitted first (`emitListed`), then what was
 * held while it was awaited (`handle`), without the messages already listed. After a
 * reconnect (`recovering`) anything but `recovered: true` is a "recoveryFailed".
 */
export function settleHistory(service, { channel, entry, data, held, recovering, listedOf, emitListed, handle }) {
  if (data === null || typeof data !== "object" || typeof data.epoch !== "string") {
    // The service keeps no history (or the server is older than history).
    entry.position = null;
    if (recovering) service.emit("recoveryFailed", { channel });
    for (const message of held) handle(message);
    return;
  }
  entry.position = { offset: Number(data.offset), epoch: data.epoch };
  if (recovering && data.recovered !== true) service.emit("recoveryFailed", { channel });
  const listed = listedOf(data);
  for (const item of listed) emitListed(item);
  if (recovering && data.recovered === true) service.emit("recovered", { channel, count: listed.length });
  const last = listed.reduce((top, item) => (item.offset > top ? item.offset : top), entry.position.offset);
  entry.position.offset = last;
  for (const message of held) {
    if (message.type !== "message" || typeof message.offset !== "number" || message.offset > last) handle(message);
  }
}
