import { Emitter } from "../emitter.js";

/**
 * Applies DataSync deltas (protocol.md section 7) to the collections registered for
 * their model: { todo: new ArrayCollection(items, { key: "id" }) }. Several collections
 * may share a model (pass an array). Emits "change" {delta, model} after a delta was
 * applied (re-render there) and "unknownModel" for deltas of a model it does not hold.
 */
export class DeltaProcessor extends Emitter {
  constructor({ collections = {} } = {}) {
    super();
    this.collections = new Map();
    for (const [model, collection] of Object.entries(collections)) this.addCollection(model, collection);
  }

  addCollection(model, collection) {
    const list = Array.isArray(collection) ? collection : [collection];
    this.collections.set(model, [...(this.collections.get(model) ?? []), ...list]);
    return this;
  }

  processDelta(delta) {
    const collections = this.collections.get(delta?.model);
    if (!collections) {
      this.emit("unknownModel", delta);
      return;
    }
    for (const collection of collections) {
      switch (delta.type) {
        case "insert":
          collection.insert(delta.data);
          break;
        case "update":
          collection.update(delta.oldData, delta.newData);
          break;
        case "delete":
          collection.delete(delta.data);
          break;
        default:
          throw new Error(`unknown delta type: ${delta.type}`);
      }
    }
    this.emit("change", { delta, model: delta.model });
  }
}
