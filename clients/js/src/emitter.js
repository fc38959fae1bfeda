// A tiny event emitter that works the same in browsers and Node (no dependency on
// EventTarget or node:events). A throwing listener is reported, never allowed to stop
// the dispatch to the others.
export class Emitter {
  #listeners = new Map();

  /** Adds a listener; returns a function that removes it. */
  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError("listener must be a function");
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  once(event, listener) {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  off(event, listener) {
    const set = this.#listeners.get(event);
    if (!set) return;
    set.delete(listener);
    if (set.size === 0) this.#listeners.delete(event);
  }

  /** Resolves with the first argument of the next `event`. */
  waitFor(event) {
    return new Promise((resolve) => this.once(event, resolve));
  }

  listenerCount(event) {
    return this.#listeners.get(event)?.size ?? 0;
  }

  emit(event, ...args) {
    const set = this.#listeners.get(event);
    if (!set) return false;
    // Copy: a listener may remove itself (once) or others while we iterate.
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        console.error(`[snorky] listener for "${event}" threw:`, error);
      }
    }
    return true;
  }
}
