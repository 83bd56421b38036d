// The browser tier's harness: one headless Chromium per test file, the repo root served over
// HTTP so pages load the built bundles from /dist, one fresh context + page per test, and a
// small page-side API (`window.rwsTest`) that creates clients and records their events, so
// tests read what happened instead of sleeping and hoping.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { FaultServer } from '../server/fault-server.js';
import { launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../support/chromium.js';

/** The repository root, served as the web root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Which build a page loads: the minified UMD (global `ResilientWS`), the full ES module, or
 * `'core'`: the `resilient-ws/core` ES module with the plug-ins passed by option. On a core page
 * `create()` turns the scenario's v1 option objects into plug-ins (see `CORE_OPTIONS`), so one
 * scenario runs unchanged on everything-built-in and on core + plug-ins.
 */
export type Bundle = 'umd' | 'esm' | 'core';
/** What a scenario that takes a bundle runs on. */
export const BUNDLES: readonly Bundle[] = ['umd', 'esm', 'core'];

/**
 * Builds `dist/` when it is missing, so a single browser test file can run on its own.
 * `npm test` builds before the browser tier, so this is a no-op there.
 */
export function ensureBuilt(): void {
  const need = ['resilient-ws.mjs', 'resilient-ws.umd.min.js', 'core.mjs'];
  if (need.every((f) => existsSync(resolve(REPO_ROOT, 'dist', f)))) return;
  execSync('npm run build', { cwd: REPO_ROOT, stdio: 'inherit' });
}

// Runs in the page. Plain JavaScript in a string, so no transpiler helper can leak into it.
// Every client's typed events are logged with `at` (Date.now(), comparable with the fault
// server's records) and `t` (performance.now(), for intervals).
const PAGE_API = String.raw`
(() => {
  'use strict';
  const TYPES = ['statechange', 'connecting', 'open', 'ready', 'message', 'close', 'reconnecting', 'giveup', 'error', 'drop', 'drain', 'warning'];
  const clients = [];
  const describeData = (d) => {
    if (typeof d === 'string') return d;
    if (d instanceof ArrayBuffer) return { kind: 'arraybuffer', bytes: Array.from(new Uint8Array(d)) };
    if (d instanceof Blob) return { kind: 'blob', size: d.size };
    if (ArrayBuffer.isView(d)) return { kind: 'view', bytes: Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)) };
    return String(d);
  };
  const describeError = (e) => (e ? { name: e.name, code: e.code, message: e.message } : e);
  const flatten = (type, p) => {
    switch (type) {
      case 'message': return { data: describeData(p.data) };
      case 'drop': return { data: describeData(p.data), reason: p.reason };
      case 'giveup': return { reason: p.reason, error: describeError(p.error) };
      case 'error': return { error: describeError(p.error) };
      case 'reconnecting': return { attempt: p.attempt, delay: p.delay, code: p.closeEvent ? p.closeEvent.code : undefined };
      case 'ready': return {};
      default: return Object.assign({}, p);
    }
  };
  const get = (i) => {
    const c = clients[i];
    if (!c) throw new Error('no client #' + i);
    return c;
  };
  const api = {
    onLine: () => navigator.onLine,
    create(url, protocols, options) {
      const c = { log: [], sends: [], nextSeq: 0, timer: undefined, ws: undefined };
      const i = clients.push(c) - 1;
      c.ws = new ResilientWS.ResilientWebSocket(url, protocols, window.rwsCoreOptions ? window.rwsCoreOptions(options) : options);
      for (const type of TYPES) {
        c.ws.on(type, (p) => c.log.push(Object.assign({ type, at: Date.now(), t: performance.now() }, flatten(type, p))));
      }
      return i;
    },
    ws: (i) => get(i).ws,
    count: (i) => clients.length,
    state: (i) => get(i).ws.state,
    info: (i) => {
      const ws = get(i).ws;
      return { state: ws.state, readyState: ws.readyState, protocol: ws.protocol, url: ws.url, bufferedAmount: ws.bufferedAmount, queuedMessages: ws.queuedMessages };
    },
    events: (i, type) => get(i).log.filter((e) => type === undefined || e.type === type),
    allEvents: (type) => clients.flatMap((c, client) => c.log.filter((e) => e.type === type).map((e) => Object.assign({ client }, e))),
    countEvents: (i, type) => get(i).log.filter((e) => e.type === type).length,
    send(i, data) {
      try {
        return get(i).ws.send(data);
      } catch (e) {
        return 'threw ' + (e && e.code);
      }
    },
    close: (i, code, reason) => get(i).ws.close(code, reason),
    reconnect: (i) => get(i).ws.reconnect(),
    flush: (i) => get(i).ws.flush(),
    startSequence(i, intervalMs, format, burstOnClose) {
      const c = get(i);
      const sendNext = () => {
        const seq = c.nextSeq++;
        const state = c.ws.state;
        const result = api.send(i, format === 'json' ? JSON.stringify({ seq }) : String(seq));
        c.sends.push({ seq, state, result, at: Date.now() });
      };
      api.stopSequence(i);
      c.timer = setInterval(sendNext, intervalMs);
      if (burstOnClose > 0) {
        c.offClose = c.ws.on('close', () => {
          for (let k = 0; k < burstOnClose; k++) sendNext();
        });
      }
    },
    stopSequence(i) {
      const c = get(i);
      clearInterval(c.timer);
      c.timer = undefined;
      if (c.offClose) c.offClose();
      c.offClose = undefined;
      return c.sends;
    },
    sends: (i) => get(i).sends,
    async roundTrip(i, kind) {
      const ws = get(i).ws;
      const bytes = [0, 1, 2, 127, 128, 255, 10, 13];
      const payload =
        kind === 'text' ? 'héllo ✓ 👋 ' + 'x'.repeat(2000)
        : kind === 'arraybuffer' ? new Uint8Array(bytes).buffer
        : new Blob([new Uint8Array(bytes)]);
      const reply = new Promise((resolve) => {
        const off = ws.on('message', ({ data }) => { off(); resolve(data); });
      });
      const result = ws.send(payload);
      const data = await reply;
      const received =
        typeof data === 'string' ? { kind: 'text', text: data }
        : data instanceof Blob ? { kind: 'blob', bytes: Array.from(new Uint8Array(await data.arrayBuffer())) }
        : data instanceof ArrayBuffer ? { kind: 'arraybuffer', bytes: Array.from(new Uint8Array(data)) }
        : { kind: typeof data };
      return { result, sent: typeof payload === 'string' ? { kind: 'text', text: payload } : { kind, bytes }, received };
    },
  };
  window.rwsTest = api;
})();
`;

// Without it Chromium asks for /favicon.ico, and the 404 shows up as a console error.
const NO_FAVICON = '<link rel="icon" href="data:,">';
const IMPORT_MAP = '<script type="importmap">{"imports":{"mitt":"/node_modules/mitt/dist/mitt.mjs"}}</script>';

// The core page's translation of v1 options into plug-ins, as an app moving to the core would
// write it: `auth: {…}` → `tokenAuth({…})`, `heartbeat: {…}` → `heartbeat({…})`, and the page
// plug-in unless the scenario passes `page` (the full entry includes it unless `page: false`).
// Anything that is not an options object goes to the core as it is, for its own checks.
const CORE_OPTIONS = String.raw`
window.rwsCoreOptions = (options) => {
  if (options != null && (typeof options !== 'object' || Array.isArray(options))) return options;
  const { auth, heartbeat, pauseWhenHidden, page, ...rest } = options ?? {};
  const out = { ...rest, page: page !== undefined ? page : ResilientWS.pageLife(pauseWhenHidden === undefined ? {} : { pauseWhenHidden }) };
  if (auth !== undefined) out.auth = ResilientWS.tokenAuth(auth);
  if (heartbeat !== undefined) out.heartbeat = heartbeat === false ? false : ResilientWS.heartbeat(heartbeat);
  return out;
};
`;

// `mitt` stays external in the ES build (a real app's bundler resolves it); the import map does
// that job here. The UMD build has it inlined.
const PAGES: Record<string, string> = {
  '/umd.html':
    `<!doctype html><meta charset="utf-8"><title>umd</title>${NO_FAVICON}` +
    '<script src="/dist/resilient-ws.umd.min.js"></script>' +
    `<script>${PAGE_API}</script>`,
  '/esm.html':
    `<!doctype html><meta charset="utf-8"><title>esm</title>${NO_FAVICON}${IMPORT_MAP}` +
    `<script type="module">import * as ResilientWS from '/dist/resilient-ws.mjs'; window.ResilientWS = ResilientWS;</script>` +
    `<script type="module">${PAGE_API}</script>`,
  // Module scripts run in document order: the core and the translation are there before the API.
  '/core.html':
    `<!doctype html><meta charset="utf-8"><title>core</title>${NO_FAVICON}${IMPORT_MAP}` +
    `<script type="module">import * as ResilientWS from '/dist/core.mjs'; window.ResilientWS = ResilientWS;${CORE_OPTIONS}</script>` +
    `<script type="module">${PAGE_API}</script>`,
};

/** What a page-side client logged for one typed event; the payload fields are flattened in. */
export interface PageEvent {
  type: string;
  /** `Date.now()` in the page. */
  at: number;
  /** `performance.now()` in the page. */
  t: number;
  /** Set by {@link TestPage.allEvents}: the client's index. */
  client?: number;
  [field: string]: unknown;
}

/** One message of {@link TestPage.startSequence}: the state before `send`, and what `send` returned. */
export interface SendRecord {
  seq: number;
  state: string;
  result: string;
  at: number;
}

/** Options of {@link TestPage.create}. */
export interface CreateOptions {
  protocols?: string | string[];
  /** JSON-serialisable options. */
  options?: Record<string, unknown>;
  /**
   * A JavaScript expression evaluated in the page that yields the options, for options that
   * hold functions, e.g. `"({ auth: { token: () => window.nextToken } })"`. Wins over `options`.
   */
  optionsJs?: string;
}

/** One test's page: a fresh browser context with the library loaded and `window.rwsTest` ready. */
export class TestPage {
  /** Uncaught page errors and console errors, for assertions and failure messages. */
  readonly errors: string[] = [];

  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly bundle: Bundle,
  ) {
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(`console: ${m.text()}`);
    });
  }

  /** Calls `window.rwsTest[method](...args)` in the page and returns its (awaited) result. */
  call<T>(method: string, ...args: unknown[]): Promise<T> {
    return this.page.evaluate(([m, a]) => (window as any).rwsTest[m](...a), [method, args] as const) as Promise<T>;
  }

  /** Creates a `ResilientWebSocket` in the page and returns its index. */
  create(url: string, { protocols, options, optionsJs }: CreateOptions = {}): Promise<number> {
    if (optionsJs === undefined) return this.call<number>('create', url, protocols, options);
    return this.page.evaluate(
      ([u, p, js]) => (window as any).rwsTest.create(u, p, (0, eval)(js as string)),
      [url, protocols, optionsJs] as const,
    );
  }

  /** Creates `count` clients with the same arguments, in one round trip; returns their indexes. */
  createMany(count: number, url: string, { protocols, options }: CreateOptions = {}): Promise<number[]> {
    return this.page.evaluate(
      ([n, u, p, o]) => Array.from({ length: n }, () => (window as any).rwsTest.create(u, p, o) as number),
      [count, url, protocols, options] as const,
    );
  }

  state(i: number): Promise<string> {
    return this.call('state', i);
  }

  /** `state`, `readyState`, `protocol`, `url`, `bufferedAmount`, `queuedMessages` of client `i`. */
  info(i: number): Promise<{ state: string; readyState: number; protocol: string; url: string; bufferedAmount: number; queuedMessages: number }> {
    return this.call('info', i);
  }

  /** The logged events of client `i`, optionally of one type. */
  events(i: number, type?: string): Promise<PageEvent[]> {
    return this.call('events', i, type);
  }

  /** The events of one type of every client, each tagged with `client`. */
  allEvents(type: string): Promise<PageEvent[]> {
    return this.call('allEvents', type);
  }

  /** `ws.send(data)`; returns its result, or `'threw <code>'`. */
  send(i: number, data: string): Promise<string> {
    return this.call('send', i, data);
  }

  close(i: number, code?: number, reason?: string): Promise<void> {
    return this.call('close', i, code, reason);
  }

  /**
   * Sends `"<seq>"` (or `{"seq":n}` with `'json'`) every `intervalMs`, recording a
   * {@link SendRecord} each. `burstOnClose` more are sent from inside every `close` event
   * handler, so each disconnection surely has messages sent while not open, however fast the
   * reconnection.
   */
  startSequence(i: number, intervalMs: number, { format = 'text', burstOnClose = 0 }: { format?: 'text' | 'json'; burstOnClose?: number } = {}): Promise<void> {
    return this.call('startSequence', i, intervalMs, format, burstOnClose);
  }

  /** Stops the sequence and returns what was sent. */
  stopSequence(i: number): Promise<SendRecord[]> {
    return this.call('stopSequence', i);
  }

  /** The sequence sent so far. */
  sends(i: number): Promise<SendRecord[]> {
    return this.call('sends', i);
  }

  /**
   * Waits until client `i` has logged at least `count` events of `type` in all, and returns them.
   * @example await tp.waitForEvent(0, 'open', 2) // the reconnection opened
   */
  async waitForEvent(i: number, type: string, count = 1, timeoutMs = 5000): Promise<PageEvent[]> {
    try {
      await this.page.waitForFunction(
        ([c, t, n]) => (window as any).rwsTest.countEvents(c, t) >= n,
        [i, type, count] as const,
        { timeout: timeoutMs, polling: 10 },
      );
    } catch (e) {
      const log = await this.events(i).catch(() => []);
      const tail = log.slice(-12).map((ev) => JSON.stringify({ ...ev, at: undefined, t: Math.round(ev.t) }));
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${count} '${type}' events of client ${i}; last events:\n${tail.join('\n')}`, { cause: e });
    }
    return this.events(i, type);
  }

  /** Waits until client `i` is in `state`. */
  async waitForState(i: number, state: string, timeoutMs = 5000): Promise<void> {
    await this.page.waitForFunction(([c, s]) => (window as any).rwsTest.state(c) === s, [i, state] as const, { timeout: timeoutMs, polling: 10 });
  }

  /** Closes the context (and so every socket of the page). */
  async dispose(): Promise<void> {
    await this.context.close().catch(() => undefined);
  }
}

/** One Chromium and one static server per test file. */
export class Harness {
  private constructor(
    readonly launched: LaunchedBrowser,
    readonly web: StaticServer,
  ) {}

  /** Builds dist if needed, serves the repo root and the test pages, launches Chromium. */
  static async start(): Promise<Harness> {
    ensureBuilt();
    const web = await serveStatic(REPO_ROOT, PAGES);
    try {
      return new Harness(await launchChromium(), web);
    } catch (e) {
      await web.close();
      throw e;
    }
  }

  /** `http://127.0.0.1:<port>`. */
  get origin(): string {
    return this.web.origin;
  }

  /** A fresh context and page with `bundle` loaded and the page API ready. */
  async newPage(bundle: Bundle = 'esm', contextOptions: BrowserContextOptions = {}): Promise<TestPage> {
    const context = await this.launched.browser.newContext(contextOptions);
    const page = await context.newPage();
    const tp = new TestPage(context, page, bundle);
    try {
      await page.goto(`${this.origin}/${bundle}.html`);
      await page.waitForFunction(() => typeof (window as any).ResilientWS?.ResilientWebSocket === 'function' && (window as any).rwsTest !== undefined, undefined, {
        timeout: 10_000,
      });
    } catch (e) {
      await context.close();
      throw new Error(`the ${bundle} bundle did not load: ${tp.errors.join('; ') || String(e)}`, { cause: e });
    }
    return tp;
  }

  async close(): Promise<void> {
    await this.launched.close();
    await this.web.close();
  }
}

/** What a browser test file shares: one harness, and the server and page of the current test. */
export interface BrowserFixture {
  harness: Harness;
  server: FaultServer | undefined;
  tp: TestPage | undefined;
}

/**
 * Starts one Chromium for the test file and disposes of each test's page and fault server after
 * it, so no socket, server or browser outlives the test that made it.
 */
export function browserFixture(): BrowserFixture {
  const fx = {} as BrowserFixture;
  beforeAll(async () => {
    fx.harness = await Harness.start();
  });
  afterAll(async () => {
    await fx.harness?.close();
  });
  afterEach(async () => {
    await fx.tp?.dispose();
    fx.tp = undefined;
    await fx.server?.close();
    fx.server = undefined;
  });
  return fx;
}

/** Only for asserting that nothing happens during a window (e.g. no attempt for 3 s). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
