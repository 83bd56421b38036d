// Helpers of the cross-tab browser tests (test/browser/tabs*.test.ts): open pages of one origin
// in one browser context, call the test API a page puts on `window`, find the leader, wait.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';

/** Waits for `cond` (checked every 10 ms) or fails with `what` after `ms`. */
export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The snapshot fields every tab page reports. */
export interface TabSnapshot {
  state: string;
  leader?: boolean;
  shared?: boolean;
}

/** One open page and its test API (`window[global]`). */
export interface Tab<S extends TabSnapshot = TabSnapshot> {
  page: Page;
  id: string;
  /** Calls `window[global][f](...args)`, or reads it when it is not a function. */
  call<T>(f: string, ...args: unknown[]): Promise<T>;
  snapshot(): Promise<S>;
}

/**
 * Opens `count` pages of `url` in `context`, each waiting for its test API `window[global]`
 * (which has `id` and `snapshot()`); a page that fails to load reports its errors.
 */
export async function openPages<S extends TabSnapshot>(context: BrowserContext, url: string, global: string, count: number): Promise<Array<Tab<S>>> {
  const out: Array<Tab<S>> = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction((g) => (window as any)[g] !== undefined, global, { timeout: 10_000 }).catch((e: unknown) => {
      throw new Error(`the page did not load: ${errors.join('; ')}`, { cause: e });
    });
    const call = <T,>(f: string, ...args: unknown[]): Promise<T> =>
      page.evaluate(([g, name, a]) => {
        const t = (window as any)[g];
        return typeof t[name] === 'function' ? t[name](...a) : t[name];
      }, [global, f, args] as const) as Promise<T>;
    out.push({ page, id: await call<string>('id'), call, snapshot: () => call<S>('snapshot') });
  }
  return out;
}

/** The tabs that say they lead. */
export async function leaderOf<T extends Tab>(tabs: T[]): Promise<T[]> {
  const flags = await Promise.all(tabs.map(async (t) => (await t.snapshot()).leader));
  return tabs.filter((_, i) => flags[i]);
}

/** Every tab's client is open. */
export const allOpen = async (tabs: Tab[]): Promise<boolean> => (await Promise.all(tabs.map((t) => t.snapshot()))).every((s) => s.state === 'open');

/** Stops the page's main thread in the debugger (a hung page); `resume()` lets it run again. */
export async function stopPage(page: Page): Promise<{ resume(): Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Debugger.enable');
  await cdp.send('Debugger.pause');
  return { resume: async () => void (await cdp.send('Debugger.resume')) };
}

/** Crashes the page's renderer (DevTools `Page.crash`, not a clean close) and waits for it. */
export async function crashPage(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const crashed = new Promise((ok) => page.once('crash', ok));
  // The answer never comes: the renderer is gone.
  void cdp.send('Page.crash').catch(() => undefined);
  await crashed;
}

/**
 * Hangs the page's main thread at a task boundary: the page makes a synchronous request that
 * this answers only on `release()`. A hung page that no freeze event announces, stopped
 * between two tasks as a frozen page is (a debugger stop can land in the middle of one).
 */
export async function hangPage(page: Page): Promise<{ release(): Promise<void> }> {
  let answer: (() => void) | undefined;
  let arrived!: () => void;
  const asked = new Promise<void>((r) => (arrived = r));
  const server = createServer((_req, res) => {
    answer = () => res.writeHead(200, { 'access-control-allow-origin': '*' }).end('ok');
    arrived();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hang`;
  const done = page.evaluate((u) => {
    const x = new XMLHttpRequest();
    x.open('GET', u, false);
    x.send();
    return x.status;
  }, url);
  await asked;
  return {
    async release() {
      answer!();
      if ((await done) !== 200) throw new Error('the hanging request failed');
      await new Promise((r) => server.close(r));
    },
  };
}
