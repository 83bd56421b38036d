// End to end: the chat demo (`npm run demo`) in real Chromium. Two pages (one per build) chat,
// the server "restarts", and a message typed during the outage reaches the other page once.
// Also refreshes demo/screenshot.png, which the README shows.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { ensureBuilt, startDemo, type Demo } from '../../demo/server.mjs';

const SCREENSHOT = fileURLToPath(new URL('../../demo/screenshot.png', import.meta.url));
const WAIT = { timeout: 20_000 };

let demo: Demo;
let chromium: LaunchedBrowser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureBuilt({ log: () => undefined });
  // The restart outage lasts until the test calls resume(), so "typed during the outage" does
  // not depend on how fast the test types.
  demo = await startDemo({ port: 0, tokenTtlMs: 10_000, restartDowntimeMs: 60_000 });
  chromium = await launchChromium();
});

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

afterAll(async () => {
  await chromium?.close();
  await demo?.close();
});

async function openChat(path: string): Promise<Page> {
  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 1000 }, colorScheme: 'light' });
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

describe('chat demo', () => {
  it('two pages chat, survive a server restart, and deliver a message typed during the outage exactly once', async () => {
    const ada = await openChat('/?name=Ada');
    const grace = await openChat('/esm.html?name=Grace');
    await expect.poll(() => ada.locator('#online').textContent(), WAIT).toBe('2');

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
    await expect.poll(() => text(ada, '#last-close'), WAIT).toBe('1006');

    const outage = 'Typed while the server was down: delivered once it came back.';
    await say(ada, outage);
    await ada.locator('#messages li[data-status="queued"]', { hasText: outage }).waitFor(WAIT);
    await expect.poll(() => text(ada, '#queued'), WAIT).toMatch(/^1 message · \d+ B$/);

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

    await ada.locator('#text').blur();
    const layout = (await ada.locator('main').boundingBox())!;
    await ada.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 1280, height: Math.ceil(layout.y + layout.height + 12) } });
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
