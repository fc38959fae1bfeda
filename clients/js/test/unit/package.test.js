// The package as a consumer sees it: the `exports` map resolves, and every runtime
// export has a hand-written declaration (a new export without one fails here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const declared = (file) => {
  const text = readFileSync(new URL(`../../src/${file}`, import.meta.url), "utf8");
  const names = new Set();
  for (const m of text.matchAll(/^export (?:declare )?(?:class|function|const|type|interface) (\w+)/gm)) names.add(m[1]);
  for (const m of text.matchAll(/^export \{([^}]+)\}/gm)) for (const n of m[1].split(",")) names.add(n.trim());
  return names;
};

test("the package's entry points resolve by name", async () => {
  const main = await import("snorky-client");
  const backend = await import("snorky-client/backend");
  assert.equal(typeof main.Snorky, "function");
  assert.equal(backend.Backend, main.Backend);
  assert.equal(backend.SnorkyError, main.SnorkyError);
});

test("every runtime export is declared in the .d.ts files", async () => {
  for (const [module, types] of [
    ["../../src/index.js", "index.d.ts"],
    ["../../src/backend.js", "backend.d.ts"],
  ]) {
    const names = declared(types);
    const missing = Object.keys(await import(module)).filter((name) => !names.has(name));
    assert.deepEqual(missing, [], `${types} lacks declarations`);
  }
});

test("package.json publishes the sources and declarations only", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  assert.deepEqual(pkg.files, ["src/", "README.md"]);
  assert.equal(pkg.exports["."].types, "./src/index.d.ts");
  assert.equal(pkg.type, "module");
  assert.deepEqual(Object.keys(pkg.dependencies ?? {}), [], "no runtime dependencies");
});
