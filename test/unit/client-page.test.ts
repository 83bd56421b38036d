// The client and the page's life: online/offline, visibility, the back/forward cache, Page
// Lifecycle `resume`, and the bookkeeping of the window/document listeners. The page globals
// are EventTarget-based fakes (test/support/fake-page.ts) stubbed in for each test.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type Options } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { installFakePage, type FakePage } from '../support/fake-page.js';

const RETRY = 1000;
const HEARTBEAT = { interval: 10_000, timeout: 5_000 };
/** Listeners per instance: online, offline, pageshow, pagehide on window; visibilitychange, resume on document. */
const ON_WINDOW = 4;
const ON_DOCUMENT = 2;

let page: FakePage;
const clients: ResilientWebSocket<string, string>[] = [];

function client(options: Options<string, string> = {}): ResilientWebSocket<string, string> {
  const ws = new ResilientWebSocket<string, string>('ws://127.0.0.1:1/page', undefined, {
    WebSocket: FakeWebSocket,
    reconnect: { minDelay: RETRY, maxDelay: 60_000, jitter: 'none' },
    ...options,
  });
  clients.push(ws);
  return ws;
}

/** A client whose first socket is open. */
async function openClient(options: Options<string, string> = {}): Promise<ResilientWebSocket<string, string>> {
  const ws = client(options);
  await vi.advanceTimersByTimeAsync(0);
  FakeSocket.last.open();
  return ws;
}

/** An open client whose connection then dropped: it waits `RETRY` ms for its next attempt. */
async function reconnectingClient(options: Options<string, string> = {}): Promise<ResilientWebSocket<string, string>> {
  const ws = await openClient(options);
  FakeSocket.last.serverClose(1006);
  expect(ws.state).toBe('reconnecting');
  return ws;
}

function record<K extends 'connecting' | 'reconnecting' | 'close' | 'statechange'>(
  ws: ResilientWebSocket<string, string>,
  type: K,
): Array<Parameters<Parameters<typeof ws.on<K>>[1]>[0]> {
  const log: Array<Parameters<Parameters<typeof ws.on<K>>[1]>[0]> = [];
  ws.on(type, (p) => log.push(p));
  return log;
}

const pings = (s: FakeSocket): number => s.sent.filter((d) => d === 'ping').length;
const held = (): number => page.window.held() + page.document.held();

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
  page = installFakePage();
});

afterEach(() => {
  for (const ws of clients.splice(0)) if (ws.state !== 'closed' && ws.state !== 'closing') ws.close();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('offline / online', () => {
  it('going offline while waiting to retry cancels the retry: no attempt while offline', async () => {
    const ws = await reconnectingClient();
    const connecting = record(ws, 'connecting');
    const reconnecting = record(ws, 'reconnecting');
    page.offline();
    // The cancelled wait is announced: from now on the client waits for the network, not a timer.
    expect(reconnecting).toEqual([{ attempt: 1, delay: null, closeEvent: { code: 1006, reason: '', wasClean: false } }]);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(connecting).toEqual([]);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a connection lost while offline waits for the network: reconnecting with delay null, no timer', async () => {
    const ws = await openClient();
    const reconnecting = record(ws, 'reconnecting');
    page.offline();
    FakeSocket.last.serverClose(1006);
    expect(reconnecting).toEqual([{ attempt: 1, delay: null, closeEvent: { code: 1006, reason: '', wasClean: false } }]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a failed attempt while offline schedules no retry', async () => {
    page.navigator.onLine = false;
    const ws = client();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('coming online attempts at once, counting the attempt in the same backoff', async () => {
    const ws = await reconnectingClient();
    page.offline();
    const connecting = record(ws, 'connecting');
    page.online();
    expect(ws.state).toBe('connecting');
    expect(connecting).toEqual([{ attempt: 1 }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  // A flapping network must not turn the backoff into a retry storm: `online` cuts the wait
  // short but does not refill the retry budget.
  it('coming online keeps the backoff: the next failure waits longer, not minDelay again', async () => {
    const ws = await reconnectingClient();
    const reconnecting = record(ws, 'reconnecting');
    for (const wait of [RETRY, 2 * RETRY]) {
      await vi.advanceTimersByTimeAsync(wait);
      FakeSocket.last.serverClose(1006);
    }
    expect(reconnecting.map((r) => r.delay)).toEqual([2 * RETRY, 4 * RETRY]);
    page.offline();
    page.online();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.serverClose(1006);
    expect(reconnecting.map((r) => r.delay)).toEqual([2 * RETRY, 4 * RETRY, null, 8 * RETRY]);
    expect(reconnecting.at(-1)).toMatchObject({ attempt: 4, delay: 8 * RETRY });
  });

  it('reconnect() still starts a fresh backoff', async () => {
    const ws = await reconnectingClient();
    await vi.advanceTimersByTimeAsync(RETRY);
    FakeSocket.last.serverClose(1006);
    const reconnecting = record(ws, 'reconnecting');
    ws.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.serverClose(1006);
    expect(reconnecting).toMatchObject([{ attempt: 1, delay: RETRY }]);
  });

  it('coming online while open leaves the connection alone', async () => {
    const ws = await openClient();
    page.offline();
    page.online();
    expect(ws.state).toBe('open');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it.each([
    ['offline', (): void => page.offline()],
    ['online', (): void => page.online()],
  ])('%s while open checks liveness with a ping at once', async (_name, fire) => {
    await openClient({ heartbeat: HEARTBEAT });
    fire();
    expect(pings(FakeSocket.last)).toBe(1);
  });
});

describe('visibility', () => {
  it('becoming visible while waiting to retry attempts at once', async () => {
    const ws = await reconnectingClient();
    page.hide();
    page.show();
    expect(ws.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('becoming visible while offline does not attempt', async () => {
    const ws = await reconnectingClient();
    page.offline();
    page.hide();
    page.show();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(ws.state).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('becoming visible while open checks liveness with a ping at once', async () => {
    await openClient({ heartbeat: HEARTBEAT });
    page.hide();
    page.show();
    expect(pings(FakeSocket.last)).toBe(1);
  });

  it('without pauseWhenHidden a hidden page keeps retrying', async () => {
    await reconnectingClient();
    page.hide();
    await vi.advanceTimersByTimeAsync(RETRY);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('pauseWhenHidden: hiding the page cancels the pending retry, announced as reconnecting with delay null', async () => {
    const ws = await reconnectingClient({ pauseWhenHidden: true });
    const reconnecting = record(ws, 'reconnecting');
    page.hide();
    expect(reconnecting.map((r) => r.delay)).toEqual([null]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(ws.state).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('pauseWhenHidden: a connection lost while hidden waits (delay null, no timer) and retries once visible', async () => {
    const ws = await openClient({ pauseWhenHidden: true });
    const reconnecting = record(ws, 'reconnecting');
    page.hide();
    expect(ws.state).toBe('open');
    FakeSocket.last.serverClose(1006);
    expect(reconnecting.map((r) => r.delay)).toEqual([null]);
    expect(vi.getTimerCount()).toBe(0);
    page.show();
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('back/forward cache and resume', () => {
  it('pagehide persisted lets go of the open socket and waits in reconnecting, without a timer', async () => {
    const ws = await openClient({ heartbeat: HEARTBEAT });
    const s = FakeSocket.last;
    page.pagehide(true);
    expect(s.closedWith).toBeDefined();
    expect(ws.state).toBe('reconnecting');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pagehide persisted reports the released connection: close (willReconnect) and reconnecting with delay null', async () => {
    const ws = await openClient();
    const closes = record(ws, 'close');
    const reconnecting = record(ws, 'reconnecting');
    const dom: number[] = [];
    ws.onclose = (ev) => dom.push(ev.code);
    page.pagehide(true);
    expect(closes).toEqual([{ code: 1001, reason: 'page entered the back/forward cache', wasClean: false, willReconnect: true }]);
    expect(dom).toEqual([1001]);
    expect(reconnecting).toMatchObject([{ delay: null, closeEvent: { code: 1001 } }]);
  });

  it('pagehide persisted abandons an attempt in progress', async () => {
    const ws = client();
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last;
    page.pagehide(true);
    expect(s.closedWith).toBeDefined();
    expect(ws.state).toBe('reconnecting');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('pagehide without persisted (a real unload) leaves the socket alone', async () => {
    const ws = await openClient();
    page.pagehide(false);
    expect(ws.state).toBe('open');
    expect(FakeSocket.last.closedWith).toBeUndefined();
  });

  it('pageshow persisted after pagehide reconnects at once and sends what was queued meanwhile', async () => {
    const ws = await openClient();
    page.pagehide(true);
    ws.send('b');
    page.pageshow(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    expect(FakeSocket.last.sent).toEqual(['b']);
  });

  // The released socket closes gracefully, and a graceful close still transmits its buffer
  // before the close frame: sending those messages again would duplicate them.
  it('pagehide does not re-send what the released socket still holds in its buffer', async () => {
    const ws = await openClient();
    const first = FakeSocket.last;
    ws.send('a');
    first.bufferedAmount = 1;
    page.pagehide(true);
    page.pageshow(true);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    expect(first.closedWith).toBeDefined();
    expect(FakeSocket.last.sent).toEqual([]);
  });

  it('pageshow persisted while waiting to retry attempts at once', async () => {
    const ws = await reconnectingClient();
    page.pageshow(true);
    expect(ws.state).toBe('connecting');
  });

  it('pageshow without persisted (a normal load) does not cut the wait short', async () => {
    const ws = await reconnectingClient();
    page.pageshow(false);
    expect(ws.state).toBe('reconnecting');
  });

  it('resume while open checks liveness with a ping at once', async () => {
    await openClient({ heartbeat: HEARTBEAT });
    page.resume();
    expect(pings(FakeSocket.last)).toBe(1);
  });

  it('resume while waiting to retry attempts at once', async () => {
    const ws = await reconnectingClient();
    page.resume();
    expect(ws.state).toBe('connecting');
  });
});

describe('page listeners', () => {
  // The first move (into connecting, a microtask after the constructor) attaches them.
  it('adds each listener once per instance', async () => {
    client();
    await vi.advanceTimersByTimeAsync(0);
    expect([page.window.held(), page.document.held()]).toEqual([ON_WINDOW, ON_DOCUMENT]);
    client();
    await vi.advanceTimersByTimeAsync(0);
    expect([page.window.held(), page.document.held()]).toEqual([2 * ON_WINDOW, 2 * ON_DOCUMENT]);
  });

  it.each<[string, (ws: ResilientWebSocket<string, string>) => Promise<unknown> | void]>([
    ['close() while open, once the close handshake ends', (ws) => {
      ws.close();
      expect(held()).toBe(ON_WINDOW + ON_DOCUMENT); // closing keeps them until the close event
      FakeSocket.last.serverClose(1005, '', true);
    }],
    ['close() while waiting to retry', (ws) => {
      FakeSocket.last.serverClose(1006);
      ws.close();
      return vi.advanceTimersByTimeAsync(0);
    }],
    ['a give-up on a fatal close code', () => FakeSocket.last.serverClose(1002, 'protocol error')],
  ])('removes every listener on the terminal close: %s', async (_name, end) => {
    const ws = await openClient();
    await end(ws);
    expect(held()).toBe(0);
    expect(ws.state).toBe('closed');
  });

  it('removes every listener when the retries run out', async () => {
    const ws = await openClient({ reconnect: { maxRetries: 0 } });
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('closed');
    expect(held()).toBe(0);
  });

  it('a thousand instances created and closed leave no listener behind', async () => {
    const many = Array.from({ length: 1000 }, () => client({ heartbeat: HEARTBEAT }));
    await vi.advanceTimersByTimeAsync(0);
    // Half of them get as far as an open connection, with its heartbeat and stability timers.
    for (const s of FakeSocket.instances.slice(0, 500)) s.open();
    for (const ws of many) ws.close();
    for (const s of FakeSocket.instances.slice(0, 500)) s.serverClose(1000, '', true);
    // The other half were mid-handshake: natively, close() then fails them with a close event.
    for (const s of FakeSocket.instances.slice(500)) s.serverClose(1006);
    expect(many.every((ws) => ws.state === 'closed')).toBe(true);
    expect(held()).toBe(0);
    expect(page.window.adds).toBe(page.window.removes);
    expect(page.document.adds).toBe(page.document.removes);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reconnect() after close adds the listeners again, once', async () => {
    const ws = await openClient();
    ws.close();
    ws.reconnect();
    ws.reconnect();
    expect([page.window.held(), page.document.held()]).toEqual([ON_WINDOW, ON_DOCUMENT]);
  });

  it('page events after reconnect() from closed work again', async () => {
    const ws = await openClient();
    ws.close();
    FakeSocket.last.serverClose(1000, '', true);
    ws.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    page.resume();
    expect(ws.state).toBe('connecting');
  });

  it('a closed client ignores page events', async () => {
    const ws = await openClient();
    ws.close();
    FakeSocket.last.serverClose(1000, '', true);
    page.offline();
    page.online();
    page.show();
    page.pageshow(true);
    page.resume();
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.state).toBe('closed');
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('leaves no timer behind after close() with the heartbeat on and page events seen', async () => {
    const ws = await openClient({ heartbeat: HEARTBEAT, pauseWhenHidden: true });
    page.hide();
    page.show();
    page.offline();
    page.online();
    ws.close();
    FakeSocket.last.serverClose(1000, '', true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
