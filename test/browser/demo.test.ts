// End to end: the chat demo (`npm run demo`) in real Chromium. The page runs reliable() and
// tabs({ lanes }) on one client. Two pages (one per build, each in its own browser context, so
// they share nothing) chat through the server companion, the server "restarts", and a message
// typed during the outage reaches the other page once and gets its tick (the server's ack); a
// message cut off in the kernel buffer arrives once too, and a page that was away gets what it
// missed. Two pages of one context share one connection, a session each, and hand it over.
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
  // A test that failed during its restart outage must not leave the next one without a server,
  // and a stalled socket (the server reads nothing from it) would linger until its 20 s limit.
  demo.faults.resume();
  demo.faults.cut();
});

afterAll(async () => {
  await chromium?.close();
  await demo?.close();
});

async function openChat(path: string, viewport = DESKTOP, shared?: BrowserContext): Promise<Page> {
  const context = shared ?? (await chromium.browser.newContext({ viewport, colorScheme: 'light' }));
  if (!shared) contexts.push(context);
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

/** How many copies of the message the page got from the server's fan-out (history not counted). */
const copies = async (page: Page, id: string) => Number(await page.locator(`#messages li[data-id="${id}"]`).getAttribute('data-copies'));

/** The server's connection id of the page, from its `ready as cN` log line. */
async function connectionOf(page: Page): Promise<string> {
  const line = await page.locator('#events li', { hasText: 'ready as' }).first().textContent();
  return /ready as (c\d+)/.exec(line ?? '')![1]!;
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
    await expect.poll(() => text(ada, '#online'), WAIT).toBe('2 connections');
    expect(await text(ada, '#protocol')).toBe('chat.v1');
    // Alone in its browser context: the only tab, so the leader of a connection of its own.
    expect(await text(ada, '#tab')).toBe('leader: owns the connection');
    expect(await text(grace, '#session')).toBe('new');

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
    expect(await text(ada, '#online')).toBe('unknown until reconnected (was 2 connections)');
    // One numbering: the retry the log announces is the one the panel counts down to.
    await ada.locator('#events li', { hasText: /reconnecting retry #2 / }).waitFor(WAIT);
    const numbers = await retryNumbers(ada);
    expect(numbers.fieldNumber, `${numbers.field} vs ${numbers.line}`).toBe(numbers.lineNumber);
    expect(numbers.field).toMatch(/^retry #\d+( in \d+\.\d s|, connecting)$/);

    const outage = 'Typed while the server was down: delivered once it came back.';
    await say(ada, outage);
    await ada.locator('#messages li[data-status="queued"]', { hasText: outage }).waitFor(WAIT);
    await expect.poll(() => text(ada, '#queued'), WAIT).toMatch(/^1 message · \d+ B$/);
    // Numbered by the plug-in as soon as send() took it: kept until the server acknowledges it.
    expect(await text(ada, '#unacked')).toBe('1 message');
    expect((await layout(ada)).queuedLines).toBe(1);
    await ada.locator('#text').blur();
    await ada.screenshot({ path: join(ARTEFACTS, 'desktop-outage.png') });

    demo.faults.resume();
    const id = await expectDelivered(ada, grace, outage);
    expect(await text(ada, `#messages li[data-id="${id}"] .pill`)).toBe('✓ acknowledged');
    await ada.locator('#state[data-state="open"]').waitFor(WAIT);
    await grace.locator('#state[data-state="open"]').waitFor(WAIT);
    await expect.poll(() => text(ada, '#queued'), WAIT).toBe('0 messages · 0 B');
    expect(await text(ada, '#unacked')).toBe('0 messages');
    // The server kept both sessions through the outage.
    await expect.poll(() => text(grace, '#session'), WAIT).toBe('resumed: nothing lost');

    // A duplicate would leave Ada's socket before this later message; once Grace has the later
    // one, every copy of the outage message has arrived.
    await say(grace, 'Got it, exactly once. Nothing lost.');
    await expectDelivered(grace, ada, 'Got it, exactly once.');
    expect(demo.received(id)).toBe(1);
    expect(await grace.locator(`#messages li[data-id="${id}"]`).count()).toBe(1);
    expect(await ada.locator(`#messages li[data-id="${id}"]`).count()).toBe(1);
    // Exactly once through the fan-out, on both pages (the sender gets its own copy too).
    expect(await copies(grace, id)).toBe(1);
    expect(await copies(ada, id)).toBe(1);
    expect(await text(ada, '#drops')).toBe('0');

    await expect.poll(() => text(ada, '#online'), WAIT).toBe('2 connections');
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
    await page.locator('#events li', { hasText: 'fault stall' }).waitFor(WAIT);
    // The server now reads nothing from this connection, but the page cannot know yet: the
    // message goes straight to the socket and waits, unacknowledged.
    const swallowed = 'Sent into a stalled link.';
    await say(page, swallowed);
    await page.locator('#messages li[data-status="sent"]', { hasText: swallowed }).waitFor(WAIT);
    const id = (await message(page, swallowed).getAttribute('data-id'))!;

    // heartbeat {interval: 5000, timeout: 3000}: at most about 8 s until the client gives up on the link.
    await expect.poll(() => text(page, '#last-close'), WAIT).not.toBe('—');
    await page.locator('#messages li[data-status="delivered"]', { hasText: swallowed }).waitFor(WAIT);
    expect(demo.received(id)).toBe(1);
    await expect.poll(() => copies(page, id), WAIT).toBe(1);
  });

  it('stall, then drop: a message cut off in the kernel buffer still arrives once and gets its tick', async () => {
    const ada = await openChat('/?name=Ada');
    const grace = await openChat('/esm.html?name=Grace');
    await ada.getByRole('button', { name: 'Stall, then drop' }).click();
    const lost = ada.locator('#messages li.own', { hasText: 'Sent while the server had stopped reading' });
    await lost.waitFor(WAIT);
    const id = (await lost.getAttribute('data-id'))!;
    await ada.locator('#events li', { hasText: 'cut, with the message in the kernel buffer' }).waitFor(WAIT);
    // The server had stopped reading before the page sent it, and the socket is gone: it never
    // saw this message, and no tick can have come.
    expect(demo.received(id)).toBe(0);
    expect(await lost.getAttribute('data-status')).not.toBe('delivered');

    await ada.locator(`#messages li[data-id="${id}"][data-status="delivered"]`).waitFor(WAIT);
    await expect.poll(() => copies(grace, id), WAIT).toBe(1);
    expect(demo.received(id)).toBe(1);
    await expect.poll(() => copies(ada, id), WAIT).toBe(1);
    expect(await text(ada, '#last-close')).toMatch(/^1006\b/);
    expect(await text(ada, '#session')).toBe('resumed: nothing lost');
  });

  it('gives a page that was away what it missed, once, when it returns (topic replay)', async () => {
    const ada = await openChat('/?name=Ada');
    const grace = await openChat('/esm.html?name=Grace');
    // Grace's link goes silent: what the server fans out to her now never reaches her.
    const graceConnection = await connectionOf(grace);
    expect(demo.faults.stall(graceConnection)).toBe(1);
    const missed = ['Grace, you are away: first.', 'Grace, you are away: second.'];
    const ids: string[] = [];
    for (const content of missed) {
      await say(ada, content);
      // The tick is the server's: it comes while Grace is away.
      await ada.locator('#messages li[data-status="delivered"]', { hasText: content }).waitFor(WAIT);
      ids.push((await message(ada, content).getAttribute('data-id'))!);
    }
    expect(await message(grace, 'you are away').count()).toBe(0);
    demo.faults.cut(graceConnection);
    for (const id of ids) await expect.poll(() => copies(grace, id), WAIT).toBe(1);
    expect(await grace.locator('#messages li[data-replayed="true"]').count()).toBe(2);
    expect(await grace.locator('#events li', { hasText: 'missed while away' }).count()).toBe(2);
    // After the replay, the chat goes on live, still once.
    await say(ada, 'Welcome back, Grace.');
    const id = await expectDelivered(ada, grace, 'Welcome back, Grace.');
    await expect.poll(() => copies(grace, id), WAIT).toBe(1);
  });

  it('two pages of one browser share one connection; a follower’s message gets its tick; closing the leader hands over and loses nothing', async () => {
    const context = await chromium.browser.newContext({ viewport: DESKTOP, colorScheme: 'light' });
    contexts.push(context);
    // The earlier tests' pages are closed; their sockets may take a moment to go.
    await expect.poll(() => demo.connections(), WAIT).toBe(0);
    const first = await openChat('/?name=Ada', DESKTOP, context);
    await expect.poll(() => text(first, '#tab'), WAIT).toBe('leader: owns the connection');
    const second = await openChat('/esm.html?name=Grace', DESKTOP, context);
    await expect.poll(() => text(second, '#tab'), WAIT).toBe('follower: sends through the leader');
    // One connection on the server for both pages, and each page says so.
    expect(demo.connections()).toBe(1);
    for (const page of [first, second]) await expect.poll(() => page.locator('#online').getAttribute('data-count'), WAIT).toBe('1');
    expect(await connectionOf(second)).toBe(await connectionOf(first));
    // A session each, in its lane of the one connection.
    for (const page of [first, second]) {
      await expect.poll(() => text(page, '#session'), WAIT).toBe('new');
      expect(await text(page, '#protocol')).toBe('chat.v1');
    }

    await say(second, 'Sent from the follower tab.');
    const fromFollower = await expectDelivered(second, first, 'Sent from the follower tab.');
    expect(await text(second, `#messages li[data-id="${fromFollower}"] .pill`)).toBe('✓ acknowledged');
    await say(first, 'Sent from the leader tab.');
    const fromLeader = await expectDelivered(first, second, 'Sent from the leader tab.');
    expect(await text(second, '#unacked')).toBe('0 messages');

    await first.close();
    await expect.poll(() => text(second, '#tab'), WAIT).toBe('leader: owns the connection');
    await second.locator('#events li', { hasText: 'handover this tab leads now' }).waitFor(WAIT);
    await second.locator('#state[data-state="open"]').waitFor(WAIT);
    await expect.poll(() => demo.connections(), WAIT).toBe(1);
    // The session moved with the leadership: resumed on the new connection, not reset.
    await expect.poll(() => text(second, '#session'), WAIT).toBe('resumed: nothing lost');
    await expect.poll(() => text(second, '#online'), WAIT).toBe('1 connection');
    await say(second, 'Sent after the handover.');
    const after = await expectDelivered(second, second, 'Sent after the handover.');
    // A duplicate of an earlier message would have reached this page before the later one.
    for (const id of [fromFollower, fromLeader, after]) {
      expect(demo.received(id)).toBe(1);
      expect(await copies(second, id)).toBe(1);
    }
    expect(await text(second, '#drops')).toBe('0');
    await second.screenshot({ path: join(ARTEFACTS, 'tabs-after-handover.png') });
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
    // The same through the companion (rws.v1): its authenticate option reads the token frame.
    const reliableClose = await new Promise<{ code: number; reason: string; protocol: string }>((resolve, reject) => {
      const ws = new WebSocket(chatUrl, ['chat.v1', 'rws.v1.chat.v1', 'rws.v1']);
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'auth', token: 'not-a-token' }));
        ws.send('\x01{}');
      });
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString(), protocol: ws.protocol }));
      ws.on('error', reject);
    });
    expect(reliableClose).toEqual({ code: 4001, reason: 'invalid token', protocol: 'rws.v1.chat.v1' });
    // On a connection shared by tabs (rws.v2) each lane authenticates: a refused token ends
    // that tab's lane (1008, the companion's) and leaves the connection to the other tabs.
    const laneClose = await new Promise<{ frame: string; protocol: string; open: boolean }>((resolve, reject) => {
      const ws = new WebSocket(chatUrl, ['rws.v2.chat.v1', 'rws.v2', 'chat.v1', 'rws.v1.chat.v1', 'rws.v1']);
      ws.on('open', () => ws.send(`\x0ea1:${JSON.stringify({ type: 'auth', token: 'not-a-token' })}`));
      ws.on('message', (data) => {
        // `\x0f<lane>,<code>,<reason>`: the lane's end.
        resolve({ frame: data.toString().split(',', 2).join(','), protocol: ws.protocol, open: ws.readyState === ws.OPEN });
        ws.close();
      });
      ws.on('error', reject);
    });
    expect(laneClose).toEqual({ frame: '\x0fa1,1008', protocol: 'rws.v2.chat.v1', open: true });

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
