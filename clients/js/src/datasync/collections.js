import { jsonEqual } from "../json_key.js";

/**
 * Collections a DeltaProcessor applies deltas to. A collection has insert(data),
 * update(oldData, newData) and delete(data), with the model data of the delta.
 */

/**
 * A list of items kept in a plain array (the one passed in, so a UI may render it).
 * Options:
 *   transform(data) -> item      what is stored for a model row (default: the data)
 *   key: "id" | (data) -> key    rows are the same when their keys are equal
 *   equals(item, data) -> bool   custom matching of a stored item and a row
 * Without key/equals, an item matches a row when it deep-equals transform(row).
 * With key/equals an insert of a row already held replaces it: deltas buffered between
 * a subscription's authorization and its acquisition may repeat what the initial data
 * already shows, and must not duplicate it.
 */
export class ArrayCollection {
  constructor(items = [], { transform = (data) => data, key, equals } = {}) {
    this.items = items;
    this.transform = transform;
    this.keyed = Boolean(equals) || key !== undefined;
    if (equals) this.equals = equals;
    else if (key !== undefined) {
      const keyOf = typeof key === "function" ? key : (value) => value?.[key];
      // Stored items may be transformed: compare with the key of the transformed row.
      this.equals = (item, data) => jsonEqual(keyOf(item), keyOf(this.transform(data)));
    } else this.equals = (item, data) => jsonEqual(item, this.transform(data));
  }

  indexOf(data) {
    return this.items.findIndex((item) => this.equals(item, data));
  }

  insert(data) {
    const index = this.keyed ? this.indexOf(data) : -1;
    if (index >= 0) this.items[index] = this.transform(data);
    else this.items.push(this.transform(data));
  }

  update(oldData, newData) {
    const index = this.indexOf(oldData);
    // Not there (e.g. it arrived before the initial data): the row is in the view now.
    if (index < 0) this.items.push(this.transform(newData));
    else this.items[index] = this.transform(newData);
  }

  delete(data) {
    const index = this.indexOf(data);
    if (index >= 0) this.items.splice(index, 1);
  }
}

/** A view of at most one row (e.g. "the current user's profile"): item is null when none. */
export class SingleItemCollection {
  constructor(item = null, { transform = (data) => data } = {}) {
    this.item = item;
    this.transform = transform;
  }

  insert(data) {
    this.item = this.transform(data);
  }

  update(_oldData, newData) {
    this.item = this.transform(newData);
  }

  delete() {
    this.item = null;
  }
}
