// `window.WebSocket = ResilientWS.ResilientWebSocket`, then plain native-API code: it must open
// exactly one native socket per connection (counted by the server), never construct the library
// inside itself, and keep working through a server restart (issue 12, "replacing the global").
import type { BrowserContext, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultServer } from '../server/fault-server.js';
import { browserFixture } from './harness.js';

const fx = browserFixture();
let context: BrowserContext | undefined;
afterEach(async () => {
  // A frozen page may not close quickly; the browser is closed after the file anyway.
  const closing = context?.close().catch(() => undefined);
  context = undefined;
  await Promise.race([closing, new Promise((r) => setTimeout(r, 5000))]);
});

interface AppEvent {
  type: string;
  data?: string;
  code?: number;
  wasClean?: boolean;
  readyState?: number;
}

/** page.evaluate with a bound: a page stuck in a construction loop never answers. */
async function bounded<T>(page: Page, what: string, fn: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not answer within ${timeoutMs} ms (${what}): frozen, e.g. constructing itself without end`)), timeoutMs);
  });
  try {
    return await Promise.race([fn(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the page-side app log to hold `count` events of `type`; a frozen page fails the bound. */
async function waitForApp(page: Page, type: string, count: number, timeoutMs = 8000): Promise<AppEvent[]> {
  try {
    await page.waitForFunction(([t, n]) => (window as any).app.count(t) >= n, [type, count] as const, { timeout: timeoutMs, polling: 20 });
  } catch (e) {
    const log = await Promise.race([page.evaluate(() => (window as any).app.log as AppEvent[]), new Promise<string>((r) => setTimeout(() => r('(the page does not answer)'), 2000))]);
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} '${type}' app events; app log: ${JSON.stringify(log)}`, { cause: e });
  }
  return page.evaluate(() => (window as any).app.log as AppEvent[]);
}

describe.each(['class', 'subclass', 'second-copy'] as const)('global WebSocket replaced (%s)', (mode) => {
  it('runs native-API code with one native socket per connection, through a server restart', async () => {
    const server = (fx.server = await FaultServer.start({ mode: 'echo' }));
    context = await fx.harness.launched.browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${fx.harness.origin}/test/browser/fixtures/global-replace.html?mode=${mode}`);
    await page.waitForFunction(() => (window as any).appReady === true, undefined, { timeout: 10_000 });

    const made = await bounded(page, 'new WebSocket(url)', () => page.evaluate((url) => (window as any).app.connect(url), server.url));
    expect(made).toEqual({ isGlobal: true, readyState: 0, CONNECTING: 0 });
    await waitForApp(page, 'open', 1);
    await server.waitForMessages(1);
    // One upgrade, one connection: the library built one native socket, not another instance.
    expect(server.upgrades.length).toBe(1);
    expect(server.connections.length).toBe(1);

    await page.evaluate(() => (window as any).app.send('echo me'));
    let log = await waitForApp(page, 'message', 2);
    expect(log.filter((e) => e.type === 'message').map((e) => e.data)).toEqual(['hello #1', 'echo me']);

    // Server restart: the page sees close (1006), then a second open on a second connection.
    await server.restart(300);
    log = await waitForApp(page, 'open', 2);
    await server.waitForConnections(2, 8000);
    expect(log.find((e) => e.type === 'close')).toMatchObject({ code: 1006, wasClean: false });
    await page.evaluate(() => (window as any).app.send('after the restart'));
    log = await waitForApp(page, 'message', 4);
    expect(log.filter((e) => e.type === 'message').map((e) => e.data)).toEqual(['hello #1', 'echo me', 'hello #2', 'after the restart']);
    expect(server.connections.length).toBe(2);
    expect(server.upgrades.filter((u) => u.accepted).length).toBe(2);
    expect(server.open.length).toBe(1);

    await page.evaluate(() => (window as any).app.close());
    log = await waitForApp(page, 'close', 2);
    expect(log.filter((e) => e.type === 'close').at(-1)).toMatchObject({ code: 1000, wasClean: true });
    await server.waitForNoneOpen();
    expect(server.connections.map((c) => c.code)).toEqual([1006, 1000]);
    expect(server.connections.length).toBe(2);
    expect(errors).toEqual([]);
  });
});
