// A page served over https:// by Snorky's TLS WebSocket listener (static_dir)
// whose client connects back over wss://, in headless Chromium. Chromium is
// told to accept exactly this test certificate (its public key pinned with
// --ignore-certificate-errors-spki-list), not to ignore certificate errors
// in general: another certificate would still be refused.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SnorkyServer, repoRoot, pubsubToml } from "../support/server.js";
import { backendOf } from "../support/clients.js";
import { launchBrowser } from "../support/browser.js";
import { selfSignedCertificate } from "../support/certificates.js";

const cleanups = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test("announcements over https:// and wss:// in Chromium", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "snorky-browser-tls-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const { cert, key } = selfSignedCertificate(dir);
  // A second listener with another key: not pinned, so Chromium must refuse it.
  const untrusted = selfSignedCertificate(dir, "other");
  // base64(SHA-256(SubjectPublicKeyInfo)): the form Chromium's switch takes.
  const spki = execSync(`openssl x509 -in ${cert} -pubkey -noout | openssl pkey -pubin -outform der | ` +
    `openssl dgst -sha256 -binary | base64`).toString().trim();

  const server = await SnorkyServer.start(`
[server]
threads = 1

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
static_dir = ${JSON.stringify(join(repoRoot, "web"))}
static_follow_symlinks = true
tls_cert = ${JSON.stringify(cert)}
tls_key = ${JSON.stringify(key)}

[[listener]]
type = "websocket"
registry = "frontend"
address = "127.0.0.1"
port = 0
path = "/ws"
static_dir = ${JSON.stringify(join(repoRoot, "web"))}
static_follow_symlinks = true
tls_cert = ${JSON.stringify(untrusted.cert)}
tls_key = ${JSON.stringify(untrusted.key)}

[[listener]]
type = "backend"
registry = "backend"
address = "127.0.0.1"
port = 0
path = "/backend"
` + pubsubToml);
  cleanups.push(() => server.dispose());
  const b = await launchBrowser({ extraArgs: [`--ignore-certificate-errors-spki-list=${spki}`] });
  cleanups.push(() => b.close());
  t.after(() => {
    if (b.logs.length) t.diagnostic(b.logs.join("\n"));
  });

  const page = await b.newPage("tls");
  const origin = `https://localhost:${server.listener("websocket").port}`;
  await page.goto(`${origin}/announcements/`);
  await page.waitForSelector("body[data-subscribed=true]", { timeout: 10000 });
  assert.match(await page.evaluate(() => String(window.snorky.url)), /^wss:\/\/localhost:\d+\/ws$/);
  await backendOf(server).call("pubsub_backend", "publish", { channel: "announcements", message: "over wss" });
  await page.waitForSelector("#feed li:nth-child(1)", { timeout: 10000 });
  assert.equal(await page.textContent("#feed li:first-child .text"), "over wss");

  // Certificate checking is still on for everything else.
  const other = await b.newPage("untrusted");
  await assert.rejects(other.goto(`https://localhost:${server.port(1)}/announcements/`), /ERR_CERT_AUTHORITY_INVALID/);
});
