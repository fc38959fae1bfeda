import { test } from "node:test";
import assert from "node:assert/strict";
import { DeltaProcessor, ArrayCollection, SingleItemCollection } from "../../src/index.js";

const insert = (model, data) => ({ type: "insert", model, data });
const update = (model, oldData, newData) => ({ type: "update", model, oldData, newData });
const remove = (model, data) => ({ type: "delete", model, data });

test("an array collection applies inserts, updates and deletes by deep equality", () => {
  const items = [{ id: 1, color: "red" }];
  const p = new DeltaProcessor({ collections: { player: new ArrayCollection(items) } });
  p.processDelta(insert("player", { id: 2, color: "blue" }));
  p.processDelta(update("player", { color: "red", id: 1 }, { id: 1, color: "green" })); // key order does not matter
  p.processDelta(remove("player", { id: 2, color: "blue" }));
  p.processDelta(remove("player", { id: 3, color: "none" })); // not there: nothing happens
  assert.deepEqual(items, [{ id: 1, color: "green" }]);
});

test("a key matches rows whose other fields changed", () => {
  const items = [];
  const p = new DeltaProcessor({ collections: { todo: new ArrayCollection(items, { key: "id" }) } });
  p.processDelta(insert("todo", { id: 1, title: "milk", done: false }));
  p.processDelta(insert("todo", { id: 2, title: "eggs", done: false }));
  // The stored row is stale (title edited elsewhere): matching on id still finds it.
  p.processDelta(update("todo", { id: 1, title: "MILK", done: false }, { id: 1, title: "MILK", done: true }));
  p.processDelta(remove("todo", { id: 2 }));
  assert.deepEqual(items, [{ id: 1, title: "MILK", done: true }]);
});

test("items are transformed, and a custom equality sees the stored item", () => {
  const items = [];
  const collection = new ArrayCollection(items, {
    transform: (row) => ({ label: row.name.toUpperCase(), id: row.id }),
    equals: (item, row) => item.id === row.id,
  });
  const p = new DeltaProcessor({ collections: { user: collection } });
  p.processDelta(insert("user", { id: 5, name: "ann" }));
  p.processDelta(update("user", { id: 5, name: "ann" }, { id: 5, name: "anna" }));
  assert.deepEqual(items, [{ label: "ANNA", id: 5 }]);
  p.processDelta(remove("user", { id: 5, name: "anna" }));
  assert.deepEqual(items, []);
});

test("with a transform and no equality, rows are compared after transforming", () => {
  const items = [];
  const p = new DeltaProcessor({ collections: { n: new ArrayCollection(items, { transform: (row) => row.v * 10 }) } });
  p.processDelta(insert("n", { v: 1 }));
  p.processDelta(insert("n", { v: 2 }));
  p.processDelta(remove("n", { v: 1 }));
  assert.deepEqual(items, [20]);
});

test("an update of a row not held (it moved into a filtered view) is added", () => {
  const items = [];
  const p = new DeltaProcessor({ collections: { todo: new ArrayCollection(items, { key: "id" }) } });
  p.processDelta(update("todo", { id: 9, done: true }, { id: 9, done: false }));
  assert.deepEqual(items, [{ id: 9, done: false }]);
});

test("a single-item collection holds the last row", () => {
  const profile = new SingleItemCollection(null, { transform: (row) => row.name });
  const p = new DeltaProcessor({ collections: { profile } });
  p.processDelta(insert("profile", { name: "ann" }));
  assert.equal(profile.item, "ann");
  p.processDelta(update("profile", { name: "ann" }, { name: "anna" }));
  assert.equal(profile.item, "anna");
  p.processDelta(remove("profile", { name: "anna" }));
  assert.equal(profile.item, null);
});

test("change events, unknown models, several collections per model, bad types", () => {
  const a = [];
  const b = [];
  const p = new DeltaProcessor({ collections: { m: [new ArrayCollection(a), new ArrayCollection(b)] } });
  const events = [];
  p.on("change", (e) => events.push(e.model));
  p.on("unknownModel", (d) => events.push(`unknown ${d.model}`));
  p.processDelta(insert("m", 1));
  p.processDelta(insert("other", 2));
  assert.deepEqual(a, [1]);
  assert.deepEqual(b, [1]);
  assert.deepEqual(events, ["m", "unknown other"]);
  assert.throws(() => p.processDelta({ type: "upsert", model: "m", data: 1 }), /unknown delta type/);
});

test("with a key, an insert of a row already held replaces it (buffered deltas are idempotent)", () => {
  const items = [{ id: 1, title: "milk" }];
  const p = new DeltaProcessor({ collections: { todo: new ArrayCollection(items, { key: "id" }) } });
  p.processDelta(insert("todo", { id: 1, title: "milk!" }));
  assert.deepEqual(items, [{ id: 1, title: "milk!" }]);
  // Without a key, identical rows are distinct rows.
  const plain = [1];
  new DeltaProcessor({ collections: { n: new ArrayCollection(plain) } }).processDelta(insert("n", 1));
  assert.deepEqual(plain, [1, 1]);
});
