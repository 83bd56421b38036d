// The framework bindings (resilient-ws/react, /vue, /svelte) in real Chromium with the real
// frameworks: React 19 under StrictMode, Vue 3, Svelte 5, each app built by esbuild inside the
// test (test-results/bindings/), against a real `ws` server that counts handshakes. What is
// checked: one connection per lazy client whatever the number of components and mounts, the
// linger, a 1000-message burst folded completely with few renders, a selector that filters
// renders, and hydration of a server render without a warning.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter, once } from 'node:events';
import { WebSocketServer, type WebSocket as NodeWebSocket } from 'ws';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../support/chromium.js';
import { OUT, buildClient, buildServer } from './bindings/build.js';
import type { Framework } from './bindings/server-entry.js';
import type { WidgetView } from './bindings/page.js';
import { ResilientWebSocket, jsonCodec } from '../../src/index.js';
import type { Msg } from './bindings/socket.js';

const FRAMEWORKS: readonly Framework[] = ['react', 'vue', 'svelte'];
const WAIT = 20_000;
// Long enough that nothing in a test outlives it by accident; the linger test uses a short one.
const LONG_LINGER = 120_000;
const NO_FAVICON = '<link rel="icon" href="data:,">';

/** A `ws` server on 127.0.0.1:0 that counts handshakes and closes, and can push a burst. */
class CountingServer extends EventEmitter {
  handshakes = 0;
  closes = 0;
  readonly live = new Set<NodeWebSocket>();
  private constructor(readonly wss: WebSocketServer) {
    super();
    wss.on('connection', (s) => {
      this.handshakes += 1;
      this.live.add(s);
      s.on('close', () => {
        this.live.delete(s);
        this.closes += 1;
        this.emit('change');
      });
      this.emit('change');
    });
  }

  static async start(): Promise<CountingServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    return new CountingServer(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as { port: number }).port}`;
  }

  /** Resolves when `test()` holds, re-checked on every handshake and close. */
  until(test: () => boolean, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('change', check);
        reject(new Error(`server: timed out waiting for ${what} (handshakes ${this.handshakes}, closes ${this.closes})`));
      }, WAIT);
      const check = (): void => {
        if (!test()) return;
        clearTimeout(timer);
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
    });
  }

  /** `count` JSON messages `{seq}` to every live socket, all in this one tick. */
  burst(count: number): void {
    for (const s of this.live) for (let seq = 0; seq < count; seq++) s.send(JSON.stringify({ seq }));
  }

  async close(): Promise<void> {
    for (const s of this.live) s.terminate();
    await new Promise<void>((ok) => this.wss.close(() => ok()));
  }
}

/** What a page said on its console, and its uncaught errors. */
interface Opened {
  page: Page;
  problems: string[];
  warnings: string[];
}

let chromium: LaunchedBrowser;
let web: StaticServer;
let renderApp: (framework: Framework, ws: ResilientWebSocket<string, Msg>, n: number) => Promise<string>;
const pages: Record<string, string> = {};
const contexts: BrowserContext[] = [];
let server: CountingServer | undefined;

const html = (framework: Framework, body = '') =>
  `<!doctype html><meta charset="utf-8"><title>${framework}</title>${NO_FAVICON}<div id="root">${body}</div><script type="module" src="/${framework}.js"></script>`;

beforeAll(async () => {
  await Promise.all(FRAMEWORKS.map((f) => buildClient(f)));
  ({ renderApp } = await import(/* @vite-ignore */ await buildServer()));
  for (const f of FRAMEWORKS) pages[`/${f}.html`] = html(f);
  web = await serveStatic(OUT, pages);
  chromium = await launchChromium();
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await web?.close();
});

afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
  await server?.close();
  server = undefined;
});

async function open(browser: Browser, path: string): Promise<Opened> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  const warnings: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
    if (m.type() === 'warning') warnings.push(m.text());
  });
  await page.goto(`${web.origin}${path}`);
  await page.waitForFunction(() => (window as any).bt !== undefined, undefined, { timeout: WAIT });
  return { page, problems, warnings };
}

const bt = <T>(page: Page, method: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([m, a]) => (window as any).bt[m](...a), [method, args] as const) as Promise<T>;

/** Waits until `n` widgets are rendered and all show `state`. */
async function widgetsIn(page: Page, n: number, state: string): Promise<WidgetView[]> {
  await page
    .waitForFunction(
      ([count, s]) => {
        const w = (window as any).bt.widgets() as WidgetView[];
        return w.length === count && w.every((x) => x.state === s);
      },
      [n, state] as const,
      { timeout: WAIT },
    )
    .catch(async (e: Error) => {
      throw new Error(`widgets never showed ${n} × ${state}: ${JSON.stringify(await bt(page, 'widgets'))}; ${e.message}`);
    });
  return bt<WidgetView[]>(page, 'widgets');
}

async function startApp(framework: Framework, lingerMs: number): Promise<Opened & { srv: CountingServer }> {
  const srv = (server = await CountingServer.start());
  const opened = await open(chromium.browser, `/${framework}.html`);
  await bt(opened.page, 'init', srv.url, lingerMs);
  return { ...opened, srv };
}

describe.each(FRAMEWORKS)('%s binding on one lazy client', (framework) => {
  it('N components (StrictMode double mount included for React) open exactly one connection; remounting within the linger keeps it', async () => {
    const { page, problems, srv } = await startApp(framework, LONG_LINGER);
    expect(await bt(page, 'state')).toBe('closed'); // lazy: nothing before the first subscriber
    expect(srv.handshakes).toBe(0);

    await bt(page, 'mount', 5);
    await widgetsIn(page, 5, 'open');
    expect(srv.handshakes).toBe(1);

    // Unmount everything and mount again in the same task, then again across tasks.
    await bt(page, 'remount', 5);
    await widgetsIn(page, 5, 'open');
    await bt(page, 'unmount');
    expect(await bt(page, 'widgets')).toEqual([]);
    await bt(page, 'mount', 3);
    await widgetsIn(page, 3, 'open');
    expect(srv.handshakes).toBe(1);
    expect(srv.closes).toBe(0);
    expect(problems).toEqual([]);
  });

  it('after the linger the connection closes, and mounting again reconnects', async () => {
    const { page, problems, srv } = await startApp(framework, 300);
    await bt(page, 'mount', 2);
    await widgetsIn(page, 2, 'open');
    expect(srv.handshakes).toBe(1);

    await bt(page, 'unmount');
    await srv.until(() => srv.closes === 1, 'the lingering connection to close');
    await page.waitForFunction(() => (window as any).bt.state() === 'closed', undefined, { timeout: WAIT });

    await bt(page, 'mount', 2);
    await widgetsIn(page, 2, 'open');
    expect(srv.handshakes).toBe(2);
    expect(srv.live.size).toBe(1);
    expect(problems).toEqual([]);
  });

  it('folds a 1000-message burst completely and in order, with far fewer than 1000 renders', async () => {
    const { page, problems, srv } = await startApp(framework, LONG_LINGER);
    await bt(page, 'mount', 1);
    await widgetsIn(page, 1, 'open');
    const before = (await bt<Record<string, { renders: number; commits: number }>>(page, 'stats')).w0 ?? { renders: 0, commits: 0 };

    srv.burst(1000);
    await page.waitForFunction(() => (window as any).bt.widgets()[0]?.count === 1000, undefined, { timeout: WAIT });
    const [w] = await bt<WidgetView[]>(page, 'widgets');
    expect(w).toMatchObject({ count: 1000, ordered: true, state: 'open' });

    const after = (await bt<Record<string, { renders: number; commits: number }>>(page, 'stats')).w0!;
    const renders = after.renders - before.renders;
    const commits = after.commits - before.commits;
    console.log(`[bindings] ${framework}: 1000-message burst → ${renders} renders, ${commits} commits/updates of the component`);
    expect(renders).toBeLessThan(100);
    expect(commits).toBeLessThan(100);
    if (framework === 'react') {
      // useSocketEvent saw every message, through the handler of the latest render.
      expect((await bt<{ message: number }>(page, 'events')).message).toBe(1000);
    }
    expect(problems).toEqual([]);
  });

  it('hydrates a server render (idle snapshot) without a warning, then connects once', async () => {
    // The server render of the same components, on a lazy client that never connects.
    const made: string[] = [];
    const Fake = class {
      constructor(url: string) {
        made.push(url);
      }
    };
    const nodeClient = new ResilientWebSocket<string, Msg>('ws://127.0.0.1:9/', [], { codec: jsonCodec, lazy: true, WebSocket: Fake as any });
    const ssr = await renderApp(framework, nodeClient, 3);
    nodeClient.close();
    expect(made).toEqual([]);
    expect(ssr).toContain('closed');
    pages[`/${framework}-ssr.html`] = html(framework, ssr);

    const srv = (server = await CountingServer.start());
    const { page, problems, warnings } = await open(chromium.browser, `/${framework}-ssr.html`);
    await bt(page, 'init', srv.url, LONG_LINGER);
    await bt(page, 'hydrate', 3);
    await widgetsIn(page, 3, 'open');
    expect(srv.handshakes).toBe(1);
    expect(problems).toEqual([]);
    expect(warnings.filter((w) => /hydrat|mismatch/i.test(w))).toEqual([]);
    if (framework === 'react') expect(await bt(page, 'recoverable')).toEqual([]);
  });
});

describe('react selector', () => {
  it('a component that selects only state does not re-render when queuedBytes changes', async () => {
    const { page, problems, srv } = await startApp('react', LONG_LINGER);
    await bt(page, 'mount', 0, true);
    await page.waitForFunction(() => document.getElementById('state-probe')?.textContent === 'open', undefined, { timeout: WAIT });
    expect(srv.handshakes).toBe(1);
    const before = await bt<Record<string, { renders: number }>>(page, 'stats');

    // 12 × 256 KiB in one go: the native buffer takes about 1 MiB, the rest is queued.
    const maxQueued = await bt<number>(page, 'flood', 12, 256 * 1024);
    expect(maxQueued).toBeGreaterThan(0);
    await bt(page, 'flushed');
    await page.waitForFunction(() => document.getElementById('bytes-probe')?.dataset.bytes === '0', undefined, { timeout: WAIT });

    const after = await bt<Record<string, { renders: number }>>(page, 'stats');
    // The queuedBytes probe re-rendered (so the snapshot did change), the state probe did not.
    expect(after['bytes-probe']!.renders - before['bytes-probe']!.renders).toBeGreaterThanOrEqual(2);
    expect(after['state-probe']!.renders).toBe(before['state-probe']!.renders);
    expect(await bt(page, 'state')).toBe('open');
    expect(problems).toEqual([]);
  });
});
