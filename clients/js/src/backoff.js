// Reconnection delays: exponential growth capped at maxDelay, with jitter so that many
// browsers dropped by one server restart do not all come back in the same instant.

export const defaultReconnect = Object.freeze({
  enabled: true,
  initialDelay: 500, // ms before the first retry
  maxDelay: 30000, // cap of the exponential growth
  factor: 2,
  jitter: 0.5, // fraction of the delay that is randomized (0 = none, 1 = full jitter)
  maxAttempts: Infinity, // retries after one loss before giving up
});

/** Delay in ms before retry number `attempt` (0-based). `random` returns [0, 1). */
export function backoffDelay(attempt, options = defaultReconnect, random = Math.random) {
  const o = { ...defaultReconnect, ...options };
  const base = Math.min(o.maxDelay, o.initialDelay * Math.pow(o.factor, attempt));
  const jitter = Math.min(Math.max(o.jitter, 0), 1);
  return Math.round(base * (1 - jitter * random()));
}
