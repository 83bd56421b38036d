// End to end: the chat demo (`npm run demo`) in real Chromium. Two pages (one per build) chat,
// the server "restarts", and a message typed during the outage reaches the other page once.
// The panel's wording and the layout at desktop and phone width are checked too; screenshots go
// to test-results/demo/ (ignored). `npm run screenshot` refreshes the README's picture.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { ensureBuilt, startDemo, type Demo } from '../../demo/server.mjs';

const ARTEFACTS = fileURLToPath(new URL('../../test-results/demo/', import.meta.url));
const WAIT = { timeout: 20_000 };
const DESKTOP = { width: 1280, height: 1000 };
const PHONE = { width: 390, height: 844 };

let demo: Demo;
let chromium: LaunchedBrowser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureBuilt({ log: () => undefined });
  // The restart outage lasts until the test calls resume(), so "typed during the outage" does
  // not depend on how fast the test types.
  demo = await startDemo({ port: 0, tokenTtlMs: 10_000, restartDowntimeMs: 60_000 });
  chromium = await launchChromium();
  mkdirSync(ARTEFACTS, { recursive: true });
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

afterAll(async () => {
  await chromium?.close();
  await demo?.close();
});

async function openChat(path: string, viewport = DESKTOP): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport, colorScheme: 'light' });
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(new URL(path, demo.url).href);
  // `ready` follows the server's welcome, which tells the page its connection id.
  await page.locator('#events li', { hasText: 'ready as' }).waitFor(WAIT).catch((err: Error) => {
    throw new Error(`${path} never got ready (page errors: ${errors.join('; ') || 'none'}): ${err.message}`);
  });
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.locator('#text').fill(text);
  await page.locator('#text').press('Enter');
}

const text = (page: Page, selector: string) => page.locator(selector).textContent();
const message = (page: Page, content: string) => page.locator('#messages li', { hasText: content });

async function expectDelivered(from: Page, to: Page, content: string): Promise<string> {
  await message(to, content).waitFor(WAIT);
  await from.locator('#messages li[data-status="delivered"]', { hasText: content }).waitFor(WAIT);
  return (await message(from, content).getAttribute('data-id'))!;
}

/** The retry number in the panel's Attempt field and in the newest `reconnecting` log line. */
const retryNumbers = (page: Page) =>
  page.evaluate(() => {
    const field = document.getElementById('attempt')!.textContent ?? '';
    const line = Array.from(document.querySelectorAll('#events li'), (li) => li.textContent ?? '').find((t) => / reconnecting /.test(t)) ?? '';
    const number = (t: string) => (/first try/.test(t) ? 0 : Number(/retry #(\d+)/.exec(t)?.[1] ?? NaN));
    return { field, line, fieldNumber: number(field), lineNumber: number(line) };
  });

/** Layout facts the demo must keep at any width: nothing wider than the window, one-line values. */
const layout = (page: Page) =>
  page.evaluate(() => {
    const lines = (id: string) => {
      const el = document.getElementById(id)!;
      return Math.round(el.getBoundingClientRect().height / parseFloat(getComputedStyle(el).lineHeight));
    };
    const log = document.getElementById('log')!.getBoundingClientRect();
    const newest = document.querySelector('#messages li:last-child')?.getBoundingClientRect();
    return {
      overflowX: document.documentElement.scrollWidth - window.innerWidth,
      queuedLines: lines('queued'),
      // How far the newest message reaches past any edge of the scrolled list.
      newestCutOff: newest
        ? Math.max(0, newest.bottom - log.bottom, log.top - newest.top, newest.right - log.right, log.left - newest.left)
        : 0,
    };
  });

describe('chat demo', () => {
  it('two pages chat, survive a server restart, and deliver a message typed during the outage exactly once', async () => {
    const ada = await openChat('/?name=Ada');
    const grace = await openChat('/esm.html?name=Grace');
    await expect.poll(() => text(ada, '#online'), WAIT).toBe('2 pages, yours included');

    await say(ada, 'Hi Grace! This chat runs on resilient-ws.');
    await expectDelivered(ada, grace, 'Hi Grace!');
    await say(grace, 'Hello Ada! Is that the <script> build? <b>markup stays text</b>');
    await expectDelivered(grace, ada, 'Hello Ada!');
    await say(ada, 'Yes, the UMD one. You are on the ESM import.');
    await expectDelivered(ada, grace, 'Yes, the UMD one.');
    await say(grace, 'Restarting the server now. Keep typing!');
    await expectDelivered(grace, ada, 'Restarting the server now.');
    expect(await ada.locator('#messages b').count()).toBe(0);

    await grace.getByRole('button', { name: 'Restart server' }).click();
    await ada.locator('#state[data-state="reconnecting"]').waitFor(WAIT);
    await grace.locator('#state[data-state="reconnecting"]').waitFor(WAIT);
    await expect.poll(() => text(ada, '#last-close'), WAIT).toMatch(/^1006\b/);
    // The presence count came over the socket that is gone: the page must not present it as current.
    expect(await text(ada, '#online')).toBe('unknown until reconnected (was 2)');
    // One numbering: the retry the log announces is the one the panel counts down to.
    await ada.locator('#events li', { hasText: /reconnecting retry #2 / }).waitFor(WAIT);
    const numbers = await retryNumbers(ada);
    expect(numbers.fieldNumber, `${numbers.field} vs ${numbers.line}`).toBe(numbers.lineNumber);
    expect(numbers.field).toMatch(/^retry #\d+( in \d+\.\d s|, connecting)$/);

    const outage = 'Typed while the server was down: delivered once it came back.';
    await say(ada, outage);
    await ada.locator('#messages li[data-status="queued"]', { hasText: outage }).waitFor(WAIT);
    await expect.poll(() => text(ada, '#queued'), WAIT).toMatch(/^1 message · \d+ B$/);
    expect((await layout(ada)).queuedLines).toBe(1);
    await ada.locator('#text').blur();
    await ada.screenshot({ path: join(ARTEFACTS, 'desktop-outage.png') });

    demo.faults.resume();
    const id = await expectDelivered(ada, grace, outage);
    await ada.locator('#state[data-state="open"]').waitFor(WAIT);
    await grace.locator('#state[data-state="open"]').waitFor(WAIT);
    await expect.poll(() => text(ada, '#queued'), WAIT).toBe('0 messages · 0 B');

    // A duplicate would leave Ada's socket before this later message; once Grace has the later
    // one, every copy of the outage message has arrived.
    await say(grace, 'Got it, exactly once. Nothing lost.');
    await expectDelivered(grace, ada, 'Got it, exactly once.');
    expect(demo.received(id)).toBe(1);
    expect(await grace.locator(`#messages li[data-id="${id}"]`).count()).toBe(1);
    expect(await ada.locator(`#messages li[data-id="${id}"]`).count()).toBe(1);
    expect(await text(ada, '#drops')).toBe('0');

    await expect.poll(() => text(ada, '#online'), WAIT).toBe('2 pages, yours included');
    // The close that caused the reconnect stays on the panel however long the log grew since.
    expect(await text(ada, '#last-close')).toMatch(/^1006\b/);
    await expect.poll(() => layout(ada), WAIT).toEqual({ overflowX: 0, queuedLines: 1, newestCutOff: 0 });
    await ada.locator('#text').blur();
    await ada.screenshot({ path: join(ARTEFACTS, 'desktop.png'), fullPage: true });
  });

  it('shows a token refresh as a refresh, not as a retry numbered #0 in 0.0 s', async () => {
    const page = await openChat('/?name=Hedy');
    await page.getByRole('button', { name: 'Expire sessions' }).click();
    await page.locator('#events li', { hasText: 'refreshing token after 4001' }).waitFor(WAIT);
    await page.locator('#events li', { hasText: 'connecting with a fresh token' }).waitFor(WAIT);
    await page.locator('#state[data-state="open"]').waitFor(WAIT);
    await expect.poll(() => text(page, '#attempt'), WAIT).toBe('open, with a fresh token');
    expect(await text(page, '#last-close')).toBe('4001 session expired');
    const log = await page.locator('#events').textContent();
    expect(log).not.toMatch(/#0|in 0\.0 s/);
  });

  it('keeps the newest message whole at 390 px, with a long name and long lines', async () => {
    // A name without spaces used to widen the page past the window, cutting every message off
    // on the right; long lines also make the message grow after it was scrolled into view.
    const phone = await openChat('/esm.html?name=Margaret_Hamilton_of_the_Apollo_Program', PHONE);
    for (let i = 1; i <= 8; i++) {
      const content = `Message ${i} from a phone-sized window, long enough to wrap onto a second line.`;
      await say(phone, content);
      await phone.locator('#messages li[data-status="delivered"]', { hasText: content }).waitFor(WAIT);
    }
    // Polled: the list re-pins to the bottom in the frame after the pill changed.
    await expect.poll(() => layout(phone), WAIT).toEqual({ overflowX: 0, queuedLines: 1, newestCutOff: 0 });
    await phone.locator('#text').blur();
    await phone.screenshot({ path: join(ARTEFACTS, 'mobile-390.png'), fullPage: true });
  });

  it('notices a stalled connection through the heartbeat and resends the message it swallowed, once', async () => {
    const page = await openChat('/esm.html?name=Linus');
    await page.getByRole('button', { name: 'Stall mine' }).click();
    // The server now ignores this connection, but the page cannot know yet: the message goes
    // straight to the socket and is lost with the link.
    const swallowed = 'Sent into a stalled link.';
    await say(page, swallowed);
    await page.locator('#messages li[data-status="sent"]', { hasText: swallowed }).waitFor(WAIT);

    // heartbeat {interval: 5000, timeout: 3000}: at most about 8 s until the client gives up on the link.
    await expect.poll(() => text(page, '#last-close'), WAIT).not.toBe('—');
    await page.locator('#messages li[data-status="delivered"]', { hasText: swallowed }).waitFor(WAIT);
    expect(await page.locator('#events li', { hasText: 'resent 1 unconfirmed message' }).count()).toBe(1);
    expect(demo.received((await message(page, swallowed).getAttribute('data-id'))!)).toBe(1);
  });

  it('refuses an invalid token, an expired token, and a client without chat.v1', async () => {
    const chatUrl = new URL('/chat', demo.url.replace(/^http/, 'ws')).href;
    const authClose = (url: string, token: string) =>
      new Promise<{ code: number; reason: string }>((resolve, reject) => {
        const ws = new WebSocket(url, 'chat.v1');
        ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
        ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
        ws.on('error', reject);
      });
    expect(await authClose(chatUrl, 'not-a-token')).toEqual({ code: 4001, reason: 'invalid token' });

    const shortLived = await startDemo({ port: 0, tokenTtlMs: 0 });
    try {
      const token = await (await fetch(new URL('/token', shortLived.url))).text();
      expect(await authClose(new URL('/chat', shortLived.url.replace(/^http/, 'ws')).href, token)).toEqual({
        code: 4001,
        reason: 'token expired',
      });
    } finally {
      await shortLived.close();
    }

    const refused = await new Promise<Error>((resolve) => {
      const ws = new WebSocket(chatUrl, 'chat.v2');
      ws.on('error', resolve);
    });
    expect(refused.message).toMatch(/subprotocol/i);
  });
});
