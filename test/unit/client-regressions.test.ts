// The behaviours issue 11 lists as wrong in v1, one test each. Every test asserts that the
// specific v1 bug is gone (each fails on the v1 client, a732dee^^), through the public API only.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type ClientEvents, type Options, type WebSocketConstructor } from '../../src/index.js';
import { FakeSocket } from '../support/fake-socket.js';
import { installFakePage, type FakePage } from '../support/fake-page.js';

const URL = 'wss://example.test/socket';
const RETRY = 1000;
/** The page plug-in's listeners: online, offline, pageshow, pagehide on window; visibilitychange, resume on document. */
const PAGE_LISTENERS = 6;

/** The client replaces a socket's handlers with one shared no-op when it lets go of it. */
const detached = (s: FakeSocket): boolean => s.onopen !== null && s.onopen === s.onclose;
const lives = (): FakeSocket[] => FakeSocket.instances.filter((s) => s.readyState < 2 && !detached(s));

/** Every write, with whether the socket was still open and the client's when it happened. */
let writes: Array<{ socket: FakeSocket; data: unknown; live: boolean }> = [];
class TrackedSocket extends FakeSocket {
  override send(data: unknown): void {
    writes.push({ socket: this, data, live: this.readyState === 1 && !detached(this) });
    super.send(data);
  }
}

let page: FakePage;
let skew = 0;
const clients: ResilientWebSocket<string, string>[] = [];

function client(options: Options<string, string> = {}, url: ConstructorParameters<typeof ResilientWebSocket>[0] = URL): ResilientWebSocket<string, string> {
  const ws = new ResilientWebSocket<string, string>(url, undefined, {
    WebSocket: TrackedSocket as unknown as WebSocketConstructor,
    reconnect: { minDelay: RETRY, maxDelay: 30_000, factor: 2, jitter: 'none' },
    ...options,
  });
  clients.push(ws);
  return ws;
}

const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);
const held = (): number => page.window.held() + page.document.held();

async function openClient(options: Options<string, string> = {}): Promise<{ ws: ResilientWebSocket<string, string>; socket: FakeSocket }> {
  const ws = client(options);
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  return { ws, socket };
}

function record<K extends keyof ClientEvents>(ws: ResilientWebSocket<string, string>, type: K): Array<ClientEvents[K]> {
  const seen: Array<ClientEvents[K]> = [];
  ws.on(type, (p) => seen.push(p as ClientEvents[K]));
  return seen;
}

/** A promise with its resolve and reject outside. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** How a promise ended so far: 'pending', 'resolved' or 'rejected <code>'. */
function watch(p: Promise<unknown>): () => string {
  let outcome = 'pending';
  p.then(
    () => (outcome = 'resolved'),
    (e: { code?: string }) => (outcome = `rejected ${String(e.code)}`),
  );
  return () => outcome;
}

let errors: unknown[];
beforeEach(() => {
  vi.useFakeTimers();
  skew = 0;
  const real = performance.now.bind(performance);
  vi.spyOn(performance, 'now').mockImplementation(() => real() + skew);
  FakeSocket.reset();
  writes = [];
  page = installFakePage();
  errors = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
});

afterEach(() => {
  for (const ws of clients.splice(0)) ws.close();
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  // Nothing the client did in a test may have ended up as a reported exception.
  expect(errors).toEqual([]);
});

describe('close() from a listener', () => {
  it('close() from a statechange listener on the way into reconnecting stops for good', async () => {
    const { ws, socket } = await openClient();
    const closes = record(ws, 'close');
    const connecting = record(ws, 'connecting');
    ws.on('statechange', ({ to }) => to === 'reconnecting' && ws.close());
    socket.serverClose(1006);
    await advance(1);
    expect(ws.state).toBe('closed');
    await advance(10 * 60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(connecting).toEqual([]);
    expect(ws.state).toBe('closed');
    // The lost connection's close arrives after the close() call, and close() ends the wait
    // with its own: neither says a retry follows.
    expect(closes.map((c) => [c.code, c.willReconnect])).toEqual([
      [1006, false],
      [1005, false],
    ]);
    expect(vi.getTimerCount()).toBe(0);
    expect(held()).toBe(0);
  });
});

describe('reconnect() from a listener', () => {
  it('reconnect() from a statechange listener into reconnecting leaves exactly one live socket and the page listeners', async () => {
    const { ws, socket } = await openClient();
    let once = true;
    ws.on('statechange', ({ to }) => {
      if (to === 'reconnecting' && once) {
        once = false;
        ws.reconnect();
      }
    });
    socket.serverClose(1006);
    await settle();
    expect(lives()).toHaveLength(1);
    const next = lives()[0]!;
    next.open();
    expect(ws.state).toBe('open');
    await advance(10 * 60_000);
    // No stale retry timer opened a second connection next to the first.
    expect(FakeSocket.instances).toHaveLength(2);
    expect(lives()).toEqual([next]);
    expect(ws.state).toBe('open');
    expect(held()).toBe(PAGE_LISTENERS);
  });

  it('reconnect() from a statechange listener into closed during a give-up keeps the page listeners and delivers giveup', async () => {
    const { ws, socket } = await openClient({ reconnect: { maxRetries: 0, jitter: 'none' } });
    const giveups = record(ws, 'giveup');
    const closes = record(ws, 'close');
    let once = true;
    ws.on('statechange', ({ to }) => {
      if (to === 'closed' && once) {
        once = false;
        ws.reconnect();
      }
    });
    socket.serverClose(1006);
    // The give-up's reports still arrive (the rule: reports are delivered, announcements skipped).
    expect(giveups.map((g) => g.reason)).toEqual(['retries']);
    expect(closes.map((c) => [c.code, c.willReconnect])).toEqual([[1006, true]]);
    await settle();
    expect(ws.state).toBe('connecting');
    expect(lives()).toHaveLength(1);
    expect(held()).toBe(PAGE_LISTENERS);
    lives()[0]!.open();
    await advance(10 * 60_000);
    expect(ws.state).toBe('open');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(held()).toBe(PAGE_LISTENERS);
  });
});

describe('events of a superseded move', () => {
  it("an on('open') listener that calls close(): the DOM onopen does not fire afterwards with readyState 2", async () => {
    const ws = client();
    await settle();
    const seen: number[] = [];
    ws.on('open', () => ws.close());
    ws.onopen = () => seen.push(ws.readyState);
    ws.addEventListener('open', () => seen.push(ws.readyState));
    FakeSocket.last.open();
    expect(ws.readyState).toBe(2);
    expect(seen).toEqual([]);
  });

  it('close() then reconnect() before the server answered: the closing connection still gets its close event', async () => {
    const { ws } = await openClient();
    const log: string[] = [];
    ws.on('close', ({ code, willReconnect }) => log.push(`close ${code} ${String(willReconnect)}`));
    ws.addEventListener('close', (ev) => log.push(`dom close ${ev.code}`));
    ws.on('connecting', () => log.push('connecting'));
    ws.close(4000, 'bye');
    ws.reconnect();
    expect(log).toEqual(['close 4000 true', 'dom close 4000', 'connecting']);
    await settle();
    expect(lives()).toHaveLength(1);
  });

  it('a handler added during an emit is not called for that same event, and gets the next one', async () => {
    const { ws, socket } = await openClient();
    const late: string[] = [];
    let once = true;
    ws.on('message', () => {
      if (once) {
        once = false;
        ws.on('message', ({ data }) => late.push(data));
      }
    });
    socket.receive('first');
    expect(late).toEqual([]);
    socket.receive('second');
    expect(late).toEqual(['second']);
  });
});

describe('sending from listeners', () => {
  it('a drop handler (an expired message in the flush on open) that calls reconnect(): nothing is written into the socket let go', async () => {
    const ws = client();
    await settle();
    ws.send('old', { ttl: 100 });
    ws.send('a');
    ws.send('b');
    // A throttled tab: the clock moved on, the expiry timer did not run yet.
    skew = 1000;
    const drops = record(ws, 'drop');
    let once = true;
    ws.on('drop', () => {
      if (once) {
        once = false;
        ws.reconnect();
      }
    });
    const first = FakeSocket.last;
    first.open();
    expect(drops.map((d) => [d.data, d.reason])).toEqual([['old', 'expired']]);
    await settle();
    lives()[0]!.open();
    await advance(100);
    expect(writes.filter((w) => !w.live)).toEqual([]);
    // Each message once, in order, over whichever connection was live.
    expect(writes.map((w) => w.data)).toEqual(['a', 'b']);
  });

  it('with a ready gate and a flush() pending, a later send(x, { beforeReady: true }) is sent (no handshake deadlock)', async () => {
    const { ws, socket } = await openClient({ ready: (d) => d === 'welcome' });
    socket.bufferedAmount = 100; // a frame still in flight: flush() waits on the native buffer
    const flushed = watch(ws.flush());
    ws.send('m'); // held by the gate
    ws.send('hello-auth', { beforeReady: true }); // what the server waits for before it says welcome
    await advance(100);
    expect(socket.sent).toEqual(['hello-auth']);
    socket.bufferedAmount = 0;
    socket.receive('welcome');
    await advance(100);
    expect(socket.sent).toEqual(['hello-auth', 'm']);
    expect(flushed()).toBe('resolved');
  });
});

describe('flush() across a lost connection', () => {
  it('a flush() pending when the connection drops settles once the queue empties on the next connection', async () => {
    const { ws, socket } = await openClient();
    socket.bufferedAmount = 2 * 1024 * 1024;
    ws.send('m');
    const flushed = watch(ws.flush());
    socket.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    await settle();
    expect(flushed()).toBe('pending');
    await advance(RETRY);
    FakeSocket.last.open();
    await settle();
    expect(FakeSocket.last.sent).toEqual(['m']);
    expect(flushed()).toBe('resolved');
  });

  it('a flush() pending when the connection drops rejects with CLOSED on the terminal close', async () => {
    const { ws, socket } = await openClient({ reconnect: { maxRetries: 1, minDelay: RETRY, jitter: 'none' } });
    socket.bufferedAmount = 2 * 1024 * 1024;
    ws.send('m');
    const flushed = watch(ws.flush());
    socket.serverClose(1006);
    await advance(RETRY);
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('closed');
    await settle();
    expect(flushed()).toBe('rejected CLOSED');
  });
});

describe('waiting for the network or the page', () => {
  it('going offline while a retry is scheduled emits reconnecting with delay null', async () => {
    const { ws, socket } = await openClient();
    const waits = record(ws, 'reconnecting');
    socket.serverClose(1006);
    expect(waits.map((w) => w.delay)).toEqual([RETRY]);
    page.offline();
    expect(waits.map((w) => w.delay)).toEqual([RETRY, null]);
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('hiding the page with pauseWhenHidden while a retry is scheduled emits reconnecting with delay null', async () => {
    const { ws, socket } = await openClient({ pauseWhenHidden: true });
    const waits = record(ws, 'reconnecting');
    socket.serverClose(1006);
    page.hide();
    expect(waits.map((w) => w.delay)).toEqual([RETRY, null]);
  });

  it('online shortens the wait but does not refill the retry budget: a flapping network still reaches maxRetries', async () => {
    const { ws, socket } = await openClient({ reconnect: { maxRetries: 3, minDelay: RETRY, maxDelay: 60_000, jitter: 'none' } });
    const giveups = record(ws, 'giveup');
    socket.serverClose(1006);
    for (let cycle = 0; cycle < 10 && ws.state === 'reconnecting'; cycle++) {
      page.offline();
      page.online();
      // The attempt starts at once, not after the backoff delay.
      expect(ws.state).toBe('connecting');
      await settle();
      FakeSocket.last.serverClose(1006);
    }
    expect(ws.state).toBe('closed');
    expect(giveups.map((g) => g.reason)).toEqual(['retries']);
    expect(FakeSocket.instances).toHaveLength(4);
  });
});

describe('retry policy', () => {
  it('reconnect: false also stops the auth refresh retry after a fail code', async () => {
    const { ws, socket } = await openClient({ reconnect: false, auth: { token: 'tok' } });
    const giveups = record(ws, 'giveup');
    socket.serverClose(4001, 'token expired', true);
    expect(ws.state).toBe('closed');
    expect(giveups.map((g) => [g.reason, g.error.code])).toEqual([['auth', 'AUTH_FAILED']]);
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a volatile message that went straight out is never re-queued by resend: unsent', async () => {
    const { ws, socket } = await openClient();
    expect(ws.send('typing', { volatile: true })).toBe('sent');
    // The browser never transmitted it: its byte is still counted when the socket dies.
    socket.bufferedAmount = 6;
    socket.serverClose(1006);
    await advance(RETRY);
    FakeSocket.last.open();
    await settle();
    expect(FakeSocket.last.sent).toEqual([]);
    expect(ws.queuedMessages).toBe(0);
  });
});

describe('superseded providers change nothing', () => {
  it('a url provider that resolves after close() sets no ws.url, asks no token and warns of nothing', async () => {
    const url = deferred<string>();
    const token = vi.fn(() => 'tok');
    const ws = client({ auth: { token } }, () => url.promise);
    const warnings = record(ws, 'warning');
    const errs = record(ws, 'error');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await settle();
    ws.close();
    url.resolve('ws://late.test/socket');
    await advance(60_000);
    expect(ws.url).not.toContain('late.test');
    expect(token).not.toHaveBeenCalled();
    expect(warnings).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(errs).toEqual([]);
    expect(FakeSocket.instances).toEqual([]);
  });

  it('a url provider that resolves after reconnect() sets no ws.url and asks no token for the superseded attempt', async () => {
    const first = deferred<string>();
    let asked = 0;
    const token = vi.fn(() => 'tok');
    const ws = client({ auth: { token } }, () => (asked++ === 0 ? first.promise : 'wss://second.test/socket'));
    const warnings = record(ws, 'warning');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await settle();
    ws.reconnect();
    await settle();
    expect(ws.url).toBe('wss://second.test/socket');
    first.resolve('ws://first.test/socket');
    await settle();
    expect(ws.url).toBe('wss://second.test/socket');
    expect(token).toHaveBeenCalledTimes(1);
    expect(warnings).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
    expect(FakeSocket.instances.map((s) => new globalThis.URL(s.url).host)).toEqual(['second.test']);
  });

  it('a protocols provider that resolves after close() asks no token and opens nothing', async () => {
    const protocols = deferred<string[]>();
    const token = vi.fn(() => 'tok');
    const ws = new ResilientWebSocket<string, string>(URL, () => protocols.promise, { WebSocket: TrackedSocket as unknown as WebSocketConstructor, auth: { token } });
    clients.push(ws);
    await settle();
    ws.close();
    protocols.resolve(['v1']);
    await advance(60_000);
    expect(token).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toEqual([]);
  });

  it('a token that resolves after close() emits no warning and opens nothing', async () => {
    const token = deferred<string>();
    const ws = client({ auth: { token: () => token.promise } }, 'ws://example.test/socket');
    const warnings = record(ws, 'warning');
    const errs = record(ws, 'error');
    await settle();
    const before = warnings.length;
    ws.close();
    token.resolve('tok');
    await advance(60_000);
    expect(warnings).toHaveLength(before);
    expect(errs).toEqual([]);
    expect(FakeSocket.instances).toEqual([]);
  });

  it('a token that arrives after a newer attempt started is not used and warns of nothing', async () => {
    const tokens = [deferred<string>(), deferred<string>()];
    let asked = 0;
    let attempt = 0;
    const hosts = ['ws://first.test/socket', 'wss://second.test/socket'];
    const ws = client(
      { auth: { token: () => tokens[asked++]!.promise }, reconnect: { minDelay: RETRY, jitter: 'none', connectTimeout: 2000 } },
      () => hosts[attempt++]!,
    );
    const warnings = record(ws, 'warning');
    const errs = record(ws, 'error');
    await settle();
    await advance(2000); // the first attempt times out while its token is pending
    expect(errs.map((e) => e.error.code)).toEqual(['CONNECT_TIMEOUT']);
    await advance(RETRY);
    expect(asked).toBe(2);
    const before = warnings.length;
    tokens[0]!.resolve('stale');
    await settle();
    expect(FakeSocket.instances).toEqual([]);
    expect(warnings).toHaveLength(before);
    expect(ws.url).toBe('wss://second.test/socket');
    tokens[1]!.resolve('fresh');
    await settle();
    expect(FakeSocket.instances.map((s) => new globalThis.URL(s.url).searchParams.get('token'))).toEqual(['fresh']);
    expect(errs).toHaveLength(1);
  });
});
