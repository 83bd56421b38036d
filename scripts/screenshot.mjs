#!/usr/bin/env node
// `npm run screenshot`: refreshes demo/screenshot.png, the picture at the top of the README.
// It plays the demo's story in headless Chromium (two pages chat, the server restarts, a
// message typed during the outage arrives once it is back) and photographs the first page.
// `npm test` never runs this, so the test suite leaves tracked files alone.
//
//   node scripts/screenshot.mjs                 writes demo/screenshot.png
//   node scripts/screenshot.mjs --out DIR       writes DIR/desktop.png, DIR/mobile-390.png and the
//                                               in-between states instead (for checking the layout)
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from '../test/support/chromium-flags.mjs';
import { ensureBuilt, startDemo } from '../demo/server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README_PICTURE = join(ROOT, 'demo', 'screenshot.png');
const DESKTOP = { width: 1280, height: 1000 };
// An iPhone 12–15 sized viewport: the narrow layout the demo must keep usable.
const MOBILE = { width: 390, height: 844 };
const WAIT = { timeout: 20_000 };

function parseArgs(argv) {
  const i = argv.indexOf('--out');
  if (i === -1) return { outDir: undefined };
  const dir = argv[i + 1];
  if (!dir) throw new Error('--out needs a directory');
  return { outDir: resolve(dir) };
}

async function main() {
  const { outDir } = parseArgs(process.argv.slice(2));
  if (outDir) mkdirSync(outDir, { recursive: true });
  ensureBuilt();
  // The outage lasts until resume(), so the queued message is photographed while it waits.
  const demo = await startDemo({ port: 0, tokenTtlMs: 10_000, restartDowntimeMs: 60_000 });
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS], timeout: 30_000 });
  try {
    const open = async (path, viewport) => {
      const context = await browser.newContext({ viewport, colorScheme: 'light', deviceScaleFactor: 1 });
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(new URL(path, demo.url).href);
      await page.locator('#state[data-state="open"]').waitFor(WAIT).catch((err) => {
        throw new Error(`${path} never connected (page errors: ${errors.join('; ') || 'none'}): ${err.message}`);
      });
      // The welcome carries the presence count; wait for it so the panel is complete.
      await page.locator('#online[data-fresh="true"]').waitFor(WAIT);
      return page;
    };
    const say = async (page, text) => {
      await page.locator('#text').fill(text);
      await page.locator('#text').press('Enter');
    };
    const delivered = async (from, to, text) => {
      await to.locator('#messages li', { hasText: text }).waitFor(WAIT);
      await from.locator('#messages li[data-status="delivered"]', { hasText: text }).waitFor(WAIT);
    };
    const shot = async (page, name, { clipToMain = false } = {}) => {
      if (!outDir && name !== 'desktop') return;
      await page.locator('#text').blur();
      const path = outDir ? join(outDir, `${name}.png`) : README_PICTURE;
      if (clipToMain) {
        const box = await page.locator('main').boundingBox();
        const width = page.viewportSize().width;
        // fullPage lets the clip reach below the window: the side panels are taller than it.
        await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width, height: Math.ceil(box.y + box.height + 12) } });
      } else {
        await page.screenshot({ path });
      }
      console.log(`wrote ${path}`);
    };

    const ada = await open('/?name=Ada', DESKTOP);
    const grace = await open('/esm.html?name=Grace', DESKTOP);
    const phone = outDir ? await open('/esm.html?name=Margaret', MOBILE) : undefined;

    await say(ada, 'Hi Grace! This chat runs on resilient-ws.');
    await delivered(ada, grace, 'Hi Grace!');
    await say(grace, 'Hello Ada! Is that the <script> build?');
    await delivered(grace, ada, 'Hello Ada!');
    await say(ada, 'Yes, the UMD one. You are on the ESM import.');
    await delivered(ada, grace, 'Yes, the UMD one.');
    await say(grace, 'Restarting the server now. Keep typing!');
    await delivered(grace, ada, 'Restarting the server now.');

    await grace.getByRole('button', { name: 'Restart server' }).click();
    await ada.locator('#state[data-state="reconnecting"]').waitFor(WAIT);
    const outage = 'Typed while the server was down: delivered once it came back.';
    await say(ada, outage);
    await ada.locator('#messages li[data-status="queued"]', { hasText: outage }).waitFor(WAIT);
    await shot(ada, 'desktop-outage', { clipToMain: true });
    if (phone) await shot(phone, 'mobile-390-outage');

    demo.faults.resume();
    await delivered(ada, grace, outage);
    await say(grace, 'Got it, exactly once. Nothing lost.');
    await delivered(grace, ada, 'Got it, exactly once.');
    await ada.locator('#online[data-fresh="true"]').waitFor(WAIT);
    if (phone) {
      await phone.locator('#messages li', { hasText: 'Got it, exactly once.' }).waitFor(WAIT);
      await phone.locator('#state[data-state="open"]').waitFor(WAIT);
      await shot(phone, 'mobile-390');
      await say(phone, 'Hello from a phone-sized window. This line is long enough to wrap twice on it.');
      await delivered(phone, ada, 'Hello from a phone-sized window.');
      await shot(phone, 'mobile-390-own');
    }
    await shot(ada, 'desktop', { clipToMain: true });

    if (outDir) {
      // The token-refresh path: the server closes with 4001 and the client fetches a new token.
      await ada.getByRole('button', { name: 'Expire sessions' }).click();
      await ada.locator('#events li', { hasText: 'refreshing token' }).waitFor(WAIT);
      await ada.locator('#state[data-state="open"]').waitFor(WAIT);
      await ada.locator('#online[data-fresh="true"]').waitFor(WAIT);
      await shot(ada, 'desktop-token-refresh', { clipToMain: true });
    }
  } finally {
    await browser.close().catch(() => undefined);
    await demo.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
