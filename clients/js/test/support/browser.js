// Headless Debian Chromium driven by playwright-core: never a downloaded browser.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
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

/** Headless Chromium (a throwaway profile; `extraArgs` adds command-line switches) with one shared context: newPage() opens a
 *  tab there; newBrowserPage() opens a page in a context of its own, as another browser
 *  would (no shared cookies, storage or cache). */
export async function launchBrowser({ extraArgs = [] } = {}) {
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: [...args, ...extraArgs] });
  const contextOptions = { viewport: { width: 1000, height: 700 } };
  const context = await browser.newContext(contextOptions);
  // Everything the pages log ends up in the test output when a test fails.
  const logs = [];
  const watch = (page, label) => {
    page.on("console", (m) => logs.push(`[${label} console.${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => logs.push(`[${label} pageerror] ${e.message}`));
    return page;
  };
  let count = 0;
  return {
    context,
    logs,
    async newPage(label = `page${++count}`) {
      return watch(await context.newPage(), label);
    },
    async newBrowserPage(label = `page${++count}`) {
      const own = await browser.newContext(contextOptions);
      return watch(await own.newPage(), label);
    },
    async close() {
      await browser.close();
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const path = join(artifactsDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
