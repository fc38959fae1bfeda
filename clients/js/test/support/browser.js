// Headless Debian Chromium driven by playwright-core: never a downloaded browser.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./server.js";

export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const artifactsDir = join(repoRoot, "artifacts");

const args = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser context with a fresh profile; close() removes the profile. */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "snorky-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args,
    viewport: { width: 1000, height: 700 },
  });
  // Everything the pages log ends up in the test output when a test fails.
  const logs = [];
  const watch = (page, label) => {
    page.on("console", (m) => logs.push(`[${label} console.${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => logs.push(`[${label} pageerror] ${e.message}`));
  };
  let count = 0;
  return {
    context,
    logs,
    async newPage(label = `page${++count}`) {
      const page = await context.newPage();
      watch(page, label);
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
