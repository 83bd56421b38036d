// resilient-ws/reliable in Chromium against the server companion on a real `ws` server: a page
// reload in the middle of two streams (page → server and server → page) resumes the session
// from sessionStorage and delivers every message once; a topic replays what an outage hid.
// The page loads the built ES modules from /dist (mitt through an import map).
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { attach, type ReliableServer, type Session } from '../../src/server/index.js';
import { launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../support/chromium.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { ensureBuilt, REPO_ROOT } from './harness.js';

// Runs in the page. The app keeps what it sent and received in sessionStorage as it goes, as a
// real app that survives reloads would; the plug-in saves its session on pagehide.
const PAGE = String.raw`<!doctype html>
<meta charset="utf-8">
<title>reliable</title>
<link rel="icon" href="data:,">
<script type="importmap">{"imports":{"mitt":"/node_modules/mitt/dist/mitt.mjs"}}</script>
<script type="module">
import { ResilientWebSocket } from '/dist/resilient-ws.mjs';
import { reliable } from '/dist/reliable.mjs';
const store = (k, v) => (v === undefined ? JSON.parse(sessionStorage.getItem(k) ?? 'null') : sessionStorage.setItem(k, JSON.stringify(v)));
const rel = reliable({ storageKey: 'rws.test' });
const ws = new ResilientWebSocket(new URLSearchParams(location.search).get('ws'), ['chat'], {
  plugins: [rel],
  reconnect: { minDelay: 20, maxDelay: 200 },
});
const got = store('got') ?? [];
const resets = [];
let sent = store('sent') ?? 0;
let timer;
ws.on('message', ({ data }) => {
  got.push(String(data));
  store('got', got);
});
ws.on('reset', (r) => resets.push(r));
window.t = {
  ws, rel, resets,
  got: () => got,
  sent: () => sent,
  loads: () => (store('loads') ?? 0),
  // Sends m<k> in bursts until 'upTo' messages went out, across reloads.
  stream(upTo) {
    const tick = () => {
      for (let i = 0; i < 5 && sent < upTo; i++) {
        ws.send('m' + ++sent);
        store('sent', sent);
      }
      if (sent < upTo) timer = setTimeout(tick, 2);
    };
    tick();
  },
  info: () => ({ state: ws.state, protocol: ws.protocol, unacked: rel.unacked }),
};
store('loads', (store('loads') ?? 0) + 1);
if (store('upTo')) window.t.stream(store('upTo'));
</script>`;

let browser: LaunchedBrowser;
let web: StaticServer;
let context: BrowserContext | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ensureBuilt();
  web = await serveStatic(REPO_ROOT, { '/reliable.html': PAGE });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});
afterEach(async () => {
  await context?.close().catch(() => undefined);
  context = undefined;
  while (cleanups.length) await cleanups.pop()!();
});

interface Srv {
  rel: ReliableServer;
  port: number;
  sessions: Session[];
  /** Application messages received, per session id. */
  got: Map<string, string[]>;
}

async function server(onSession?: (s: Session) => void): Promise<Srv> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got = new Map<string, string[]>();
  const sessions: Session[] = [];
  const rel = attach(wss, {
    onError: () => undefined,
    onSession: (s) => {
      sessions.push(s);
      onSession?.(s);
    },
    onMessage: (data, { session }) => {
      let list = got.get(session.id);
      if (!list) got.set(session.id, (list = []));
      list.push(data.toString());
    },
  });
  cleanups.push(async () => {
    await rel.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return { rel, port: (wss.address() as AddressInfo).port, sessions, got };
}

async function open(port: number): Promise<Page> {
  context ??= await browser.browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${web.origin}/reliable.html?ws=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`);
  await page.waitForFunction(() => (window as any).t !== undefined, undefined, { timeout: 10_000 }).catch((e: unknown) => {
    throw new Error(`the page did not load: ${errors.join('; ')}`, { cause: e });
  });
  return page;
}

/** Waits for `cond` (checked every 10 ms) or fails with `what` after `ms`. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const numbered = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${from + i}`);
const call = <T,>(page: Page, expr: string): Promise<T> => page.evaluate(`(${expr})`) as Promise<T>;

describe('reliable in Chromium', () => {
  it('a reload in the middle of two streams resumes the session and delivers every message once', async () => {
    const s = await server();
    const N = 600;
    const page = await open(s.port);
    await until('a session', () => s.sessions.length === 1);
    const id = s.sessions[0]!.id;
    expect(await call(page, 't.info()')).toMatchObject({ state: 'open', protocol: 'chat' });
    // Server → page: numbered sends, also while the page is reloading (kept for the session).
    let down = 0;
    const pushing = setInterval(() => {
      for (let i = 0; i < 5 && down < N; i++) void s.rel.send(id, `s${++down}`);
    }, 3);
    cleanups.push(() => clearInterval(pushing));
    await page.evaluate((n) => {
      sessionStorage.setItem('upTo', String(n));
      (window as any).t.stream(n);
    }, N);
    // Reload while both streams are running: some messages are in flight, some not yet acknowledged.
    await until('the stream under way', () => (s.got.get(id)?.length ?? 0) >= 100);
    expect(await call<number>(page, 't.sent()')).toBeLessThan(N);
    await page.reload();
    await page.waitForFunction(() => (window as any).t?.loads() === 2, undefined, { timeout: 10_000 });
    await until(`all ${N} page messages at the server`, () => (s.got.get(id)?.length ?? 0) >= N);
    await until(`all ${N} server messages in the page`, async () => down === N && (await call<string[]>(page, 't.got()')).length >= N);
    // A barrier: anything duplicated would have arrived before this is acknowledged.
    await call(page, 't.rel.sendReliable("barrier")');
    expect(s.sessions.length).toBe(2);
    expect(s.sessions[1]!.id).toBe(id);
    expect(s.got.size).toBe(1);
    expect(s.got.get(id)).toEqual([...numbered('m', 1, N), 'barrier']);
    expect(await call<string[]>(page, 't.got()')).toEqual(numbered('s', 1, N));
    expect(await call<unknown[]>(page, 't.resets')).toEqual([]);
  });

  it('replays a topic after an outage, once, and the tick waits for the server', async () => {
    const s = await server((session) => void session.subscribe('news'));
    const proxy = await TcpProxy.start(s.port);
    cleanups.push(() => proxy.close());
    const page = await open(proxy.port);
    await until('subscribed', () => s.sessions.length === 1);
    await call(page, 't.rel.sendReliable("hello")');
    await s.rel.publish('news', 'n1');
    await until('n1', async () => (await call<string[]>(page, 't.got()')).includes('n1'));
    proxy.refuse = true;
    proxy.cut();
    await page.waitForFunction(() => (window as any).t.ws.state !== 'open', undefined, { timeout: 10_000 });
    await s.rel.publish('news', 'n2');
    await s.rel.publish('news', 'n3');
    // Sent during the outage: its promise settles only once the server has it.
    await page.evaluate(() => {
      const t = (window as any).t;
      t.acked = false;
      void t.rel.sendReliable('while away').then(() => (t.acked = true));
    });
    expect(await call<boolean>(page, 't.acked')).toBe(false);
    proxy.refuse = false;
    await page.waitForFunction(() => (window as any).t.acked === true, undefined, { timeout: 20_000 });
    await until('n2 n3', async () => (await call<string[]>(page, 't.got()')).length >= 3);
    await call(page, 't.rel.sendReliable("barrier")');
    expect(await call<string[]>(page, 't.got()')).toEqual(['n1', 'n2', 'n3']);
    expect(s.got.get(s.sessions[0]!.id)).toEqual(['hello', 'while away', 'barrier']);
    expect(s.sessions.map((x) => x.id)).toEqual([s.sessions[0]!.id, s.sessions[0]!.id]);
  });
});
