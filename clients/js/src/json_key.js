// Canonical JSON text of a value: object keys sorted, so that two JSON values that are
// equal (protocol.md: channels compare as JSON values, key order aside) get one key.
export function jsonKey(value) {
  return JSON.stringify(canonical(value));
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical(value[key]);
    return out;
  }
  return value;
}

export function jsonEqual(a, b) {
  return jsonKey(a) === jsonKey(b);
}
