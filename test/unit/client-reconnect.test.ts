// SPEC §3: the close-code policy, backoff in time, connectTimeout, stableAfter, maxRetries,
// shouldReconnect, retryAfter, providers, stale sockets and reconnect() from every state.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CloseInfo, WebSocketConstructor } from '../../src/index.js';
import { advance, client, exact, FakeSocket, moves, openClient, record, settle, useFakeClock, WS_URL } from './client-harness.js';
import { seededRandom } from '../support/random.js';

useFakeClock();

// Captured before any test installs fake timers: a real macrotask lets Node report rejections.
const realSetImmediate = globalThis.setImmediate;
const macrotask = (): Promise<void> => new Promise((resolve) => realSetImmediate(resolve));

describe('close-code policy', () => {
  it.each([1000, 1001, 1005, 1006, 1011, 1012, 1014, 3000, 4000, 4999])('retries after close code %i', async (code) => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const reconnecting = record(ws, 'reconnecting');
    const closes = record(ws, 'close');
    socket.serverClose(code, 'bye');
    expect(ws.state).toBe('reconnecting');
    expect(closes).toEqual([{ code, reason: 'bye', wasClean: code !== 1006, willReconnect: true }]);
    expect(reconnecting).toEqual([{ attempt: 1, delay: 1000, closeEvent: { code, reason: 'bye', wasClean: code !== 1006 } }]);
    await advance(999);
    expect(FakeSocket.instances).toHaveLength(1);
    await advance(1);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(ws.state).toBe('connecting');
  });

  it('retries a first attempt that never opened', async () => {
    const ws = client({ reconnect: exact });
    await settle();
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('waits at least maxDelay/4 after 1013 (try again later), even when the backoff says 0', async () => {
    // v2: no `random` option; jitter draws from Math.random.
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const { ws, socket } = await openClient({ reconnect: { maxDelay: 30_000, jitter: 'full' } });
    const reconnecting = record(ws, 'reconnecting');
    socket.serverClose(1013, 'overloaded');
    expect(reconnecting[0]?.delay).toBe(7500);
    await advance(7499);
    expect(FakeSocket.instances).toHaveLength(1);
    await advance(1);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('keeps a backoff delay longer than maxDelay/4 after 1013', async () => {
    const ws = client({ reconnect: { ...exact, maxDelay: 8000 } });
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    for (let i = 0; i < 4; i++) {
      await settle();
      FakeSocket.last.serverClose(1013);
      await advance(delays.at(-1)!);
    }
    expect(delays).toEqual([2000, 2000, 4000, 8000]);
  });

  it.each([1002, 1003, 1007, 1009, 1010])('gives up with FATAL_CLOSE after close code %i', async (code) => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const giveups = record(ws, 'giveup');
    const errors = record(ws, 'error');
    const closes = record(ws, 'close');
    const reconnecting = record(ws, 'reconnecting');
    socket.serverClose(code, 'bad data');
    expect(ws.state).toBe('closed');
    expect(ws.readyState).toBe(3);
    expect(giveups).toHaveLength(1);
    expect(giveups[0]!.reason).toBe('close-code');
    expect(giveups[0]!.error.code).toBe('FATAL_CLOSE');
    expect(giveups[0]!.error.message).toContain(String(code));
    expect(errors.map((e) => e.error)).toEqual([giveups[0]!.error]);
    expect(closes).toEqual([{ code, reason: 'bad data', wasClean: true, willReconnect: false }]);
    expect(reconnecting).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('does not retry after the user’s close()', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const reconnecting = record(ws, 'reconnecting');
    const closes = record(ws, 'close');
    ws.close(1000, 'done');
    socket.serverClose(1000, 'done', true);
    expect(ws.state).toBe('closed');
    expect(closes).toEqual([{ code: 1000, reason: 'done', wasClean: true, willReconnect: false }]);
    await advance(120_000);
    expect(reconnecting).toEqual([]);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('does not retry after close() even when the server answers with a retryable code', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    ws.close();
    socket.serverClose(1011, 'crash');
    expect(ws.state).toBe('closed');
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('backoff in time', () => {
  it('grows the delay for a server that accepts and drops at once (stableAfter not reached)', async () => {
    const ws = client({ reconnect: { ...exact, stableAfter: 5000 } });
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    for (let i = 0; i < 7; i++) {
      await settle();
      FakeSocket.last.open();
      FakeSocket.last.serverClose(1006);
      await advance(delays.at(-1)!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  /** `drops` connections that open and drop at once, then one that stays open `uptime` ms. */
  async function delaysAfter(drops: number, uptime: number): Promise<Array<number | null>> {
    const ws = client({ reconnect: { ...exact, stableAfter: 5000 } });
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    for (let i = 0; i < drops; i++) {
      await settle();
      FakeSocket.last.open();
      FakeSocket.last.serverClose(1006);
      await advance(delays.at(-1)!);
    }
    await settle();
    FakeSocket.last.open();
    await advance(uptime);
    FakeSocket.last.serverClose(1006);
    return delays;
  }

  it('resets the delay after a connection stayed open stableAfter ms', async () => {
    expect(await delaysAfter(3, 5000)).toEqual([1000, 2000, 4000, 1000]);
  });

  it('does not reset the delay for a connection that dropped just before stableAfter', async () => {
    expect(await delaysAfter(2, 4999)).toEqual([1000, 2000, 4000]);
  });

  it('counts the attempt number in connecting and reconnecting events', async () => {
    const ws = client({ reconnect: exact });
    const connecting = record(ws, 'connecting');
    const reconnecting = record(ws, 'reconnecting');
    for (let i = 0; i < 3; i++) {
      await settle();
      FakeSocket.last.serverClose(1006);
      await advance(reconnecting.at(-1)!.delay!);
    }
    expect(connecting).toEqual([{ attempt: 0 }, { attempt: 1 }, { attempt: 2 }, { attempt: 3 }]);
    expect(reconnecting.map((r) => r.attempt)).toEqual([1, 2, 3]);
  });

  it('spreads the first retry of 1000 clients cut off together over [0, minDelay) with full jitter', async () => {
    vi.spyOn(Math, 'random').mockImplementation(seededRandom(7));
    const clients = Array.from({ length: 1000 }, () => client({ reconnect: { minDelay: 1000, jitter: 'full' } }));
    await settle();
    const first = [...FakeSocket.instances];
    for (const s of first) s.open();
    for (const s of first) s.serverClose(1006);
    expect(clients.every((ws) => ws.state === 'reconnecting')).toBe(true);
    const deciles: number[] = [];
    for (let d = 0; d < 10; d++) {
      const before = FakeSocket.instances.length;
      await advance(d === 9 ? 101 : 100);
      deciles.push(FakeSocket.instances.length - before);
    }
    expect(FakeSocket.instances.length - first.length).toBe(1000);
    for (const count of deciles) {
      expect(count).toBeGreaterThanOrEqual(50);
      expect(count).toBeLessThanOrEqual(150);
    }
  });
});

describe('connectTimeout', () => {
  it('abandons an attempt that has not opened: closes the socket, emits CONNECT_TIMEOUT, schedules a retry', async () => {
    const ws = client({ reconnect: { ...exact, connectTimeout: 3000 } });
    const errors = record(ws, 'error');
    const reconnecting = record(ws, 'reconnecting');
    await settle();
    const socket = FakeSocket.last;
    await advance(2999);
    expect(ws.state).toBe('connecting');
    expect(socket.closedWith).toBeUndefined();
    await advance(1);
    expect(socket.closedWith).toBeDefined();
    expect(errors.map((e) => e.error.code)).toEqual(['CONNECT_TIMEOUT']);
    expect(ws.state).toBe('reconnecting');
    expect(reconnecting).toEqual([{ attempt: 1, delay: 1000, closeEvent: { code: 1006, reason: 'connect timeout', wasClean: false } }]);
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('ignores a late open of the abandoned socket', async () => {
    const ws = client({ reconnect: { ...exact, connectTimeout: 3000 } });
    const opens = record(ws, 'open');
    await settle();
    const abandoned = FakeSocket.last;
    await advance(3000);
    abandoned.open();
    expect(ws.state).toBe('reconnecting');
    expect(opens).toEqual([]);
  });

  it('stops the connect timer once the socket opens', async () => {
    const { ws } = await openClient({ reconnect: { ...exact, connectTimeout: 3000 } });
    const errors = record(ws, 'error');
    await advance(10_000);
    expect(ws.state).toBe('open');
    expect(errors).toEqual([]);
  });
});

describe('maxRetries and reconnect: false', () => {
  it('gives up after maxRetries failed retries: giveup {retries, RETRIES_EXHAUSTED}, state closed', async () => {
    const ws = client({ reconnect: { ...exact, maxRetries: 2 } });
    const giveups = record(ws, 'giveup');
    const reconnecting = record(ws, 'reconnecting');
    for (let i = 0; i < 3; i++) {
      await settle();
      FakeSocket.last.serverClose(1006);
      if (i < 2) await advance(reconnecting.at(-1)!.delay!);
    }
    expect(reconnecting.map((r) => r.delay)).toEqual([1000, 2000]);
    expect(FakeSocket.instances).toHaveLength(3);
    expect(ws.state).toBe('closed');
    expect(giveups).toHaveLength(1);
    expect(giveups[0]!.reason).toBe('retries');
    expect(giveups[0]!.error.code).toBe('RETRIES_EXHAUSTED');
    expect(vi.getTimerCount()).toBe(0);
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it('connects again with reconnect() after giving up, with a fresh attempt count', async () => {
    const ws = client({ reconnect: { ...exact, maxRetries: 0 } });
    await settle();
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('closed');
    const connecting = record(ws, 'connecting');
    ws.reconnect();
    expect(ws.state).toBe('connecting');
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    expect(connecting).toEqual([{ attempt: 0 }]);
    expect(ws.send('again')).toBe('sent');
    expect(FakeSocket.last.sent).toEqual(['again']);
  });

  it('never retries with reconnect: false', async () => {
    const { ws, socket } = await openClient({ reconnect: false });
    const giveups = record(ws, 'giveup');
    const closes = record(ws, 'close');
    socket.serverClose(1001, 'going away');
    expect(ws.state).toBe('closed');
    expect(closes).toEqual([{ code: 1001, reason: 'going away', wasClean: true, willReconnect: false }]);
    expect(giveups.map((g) => [g.reason, g.error.code])).toEqual([['retries', 'RETRIES_EXHAUSTED']]);
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});

describe('shouldReconnect', () => {
  it('can refuse a retry the policy would make', async () => {
    const shouldReconnect = vi.fn((_ev: CloseInfo, _attempt: number) => false);
    const { ws, socket } = await openClient({ reconnect: { ...exact, shouldReconnect } });
    const giveups = record(ws, 'giveup');
    socket.serverClose(1006);
    expect(ws.state).toBe('closed');
    expect(giveups[0]!.reason).toBe('close-code');
    expect(giveups[0]!.error.code).toBe('FATAL_CLOSE');
    expect(giveups[0]!.error.message).toContain('shouldReconnect');
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('can allow a retry the policy would refuse', async () => {
    const { ws, socket } = await openClient({ reconnect: { ...exact, shouldReconnect: () => true } });
    socket.serverClose(1002, 'protocol error');
    expect(ws.state).toBe('reconnecting');
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('gets the close info and the attempt number', async () => {
    const shouldReconnect = vi.fn((_ev: CloseInfo, _attempt: number) => true);
    client({ reconnect: { ...exact, shouldReconnect } });
    await settle();
    FakeSocket.last.serverClose(4000, 'kicked');
    await advance(1000);
    FakeSocket.last.serverClose(1006);
    expect(shouldReconnect.mock.calls).toEqual([
      [{ code: 4000, reason: 'kicked', wasClean: true }, 0],
      [{ code: 1006, reason: '', wasClean: false }, 1],
    ]);
  });

  it('is not asked after the user’s close()', async () => {
    const shouldReconnect = vi.fn(() => true);
    const { ws, socket } = await openClient({ reconnect: { ...exact, shouldReconnect } });
    ws.close();
    socket.serverClose(1000);
    expect(shouldReconnect).not.toHaveBeenCalled();
  });

  it('falls back to the policy when it throws, and reports the throw', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { ws, socket } = await openClient({
      reconnect: {
        ...exact,
        shouldReconnect: () => {
          throw new Error('oops');
        },
      },
    });
    socket.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    expect(spy).toHaveBeenCalled();
  });
});

describe('retryAfter', () => {
  it('by default takes the delay from retry-after=<ms> in the close reason', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const reconnecting = record(ws, 'reconnecting');
    socket.serverClose(1012, 'restarting; retry-after=2500');
    expect(reconnecting[0]!.delay).toBe(2500);
    await advance(2499);
    expect(FakeSocket.instances).toHaveLength(1);
    await advance(1);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('clamps the advised delay to maxDelay', async () => {
    const { ws, socket } = await openClient({ reconnect: { ...exact, maxDelay: 10_000 } });
    const reconnecting = record(ws, 'reconnecting');
    socket.serverClose(1012, 'retry-after=600000');
    expect(reconnecting[0]!.delay).toBe(10_000);
  });

  it('uses a custom retryAfter, clamped to maxDelay, and the backoff when it returns undefined', async () => {
    const retryAfter = vi.fn((ev: CloseInfo) => (ev.code === 4290 ? 60_000 : undefined));
    const ws = client({ reconnect: { ...exact, maxDelay: 20_000, retryAfter } });
    const reconnecting = record(ws, 'reconnecting');
    await settle();
    FakeSocket.last.serverClose(4290, 'rate limited');
    await advance(20_000);
    FakeSocket.last.serverClose(4000, 'retry-after=5');
    expect(reconnecting.map((r) => r.delay)).toEqual([20_000, 2000]);
    expect(retryAfter).toHaveBeenCalledWith({ code: 4290, reason: 'rate limited', wasClean: true });
  });
});

describe('url and protocols providers', () => {
  it('asks a sync url provider before every attempt', async () => {
    let n = 0;
    const ws = client({ reconnect: exact }, () => `ws://node${n++}.example.test/`);
    await settle();
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    expect(FakeSocket.instances.map((s) => s.url)).toEqual(['ws://node0.example.test/', 'ws://node1.example.test/']);
    expect(ws.url).toBe('ws://node1.example.test/');
  });

  it('awaits an async url provider before every attempt', async () => {
    let n = 0;
    client({ reconnect: exact }, async () => {
      await Promise.resolve();
      return new URL(`https://node${n++}.example.test/ws`);
    });
    await settle();
    expect(FakeSocket.last.url).toBe('wss://node0.example.test/ws');
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    expect(FakeSocket.last.url).toBe('wss://node1.example.test/ws');
  });

  it('asks sync and async protocols providers before every attempt', async () => {
    let n = 0;
    client({ reconnect: exact }, WS_URL, () => (n++ === 0 ? 'v1' : Promise.resolve(['v2', 'v1'])));
    await settle();
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    expect(FakeSocket.instances.map((s) => s.protocols)).toEqual([['v1'], ['v2', 'v1']]);
  });

  it.each([
    ['a url provider that throws', { url: true, async: false }],
    ['a url provider that rejects', { url: true, async: true }],
    ['a protocols provider that throws', { url: false, async: false }],
    ['a protocols provider that rejects', { url: false, async: true }],
  ])('retries %s with backoff, as a failed attempt (CONNECT_FAILED)', async (_label, how) => {
    let calls = 0;
    const provider = (): unknown => {
      if (calls++ > 0) return how.url ? WS_URL : 'v1';
      if (how.async) return Promise.reject(new Error('lookup failed'));
      throw new Error('lookup failed');
    };
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const ws = how.url
        ? client({ reconnect: exact }, provider as () => string)
        : client({ reconnect: exact }, WS_URL, provider as () => string);
      const errors = record(ws, 'error');
      const reconnecting = record(ws, 'reconnecting');
      await settle();
      expect(FakeSocket.instances).toHaveLength(0);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.error.code).toBe('CONNECT_FAILED');
      expect((errors[0]!.error.cause as Error).message).toBe('lookup failed');
      expect(ws.state).toBe('reconnecting');
      expect(reconnecting).toEqual([{ attempt: 1, delay: 1000, closeEvent: { code: 1006, reason: 'connect failed', wasClean: false } }]);
      await advance(1000);
      expect(FakeSocket.instances).toHaveLength(1);
      await macrotask();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('retries when the WebSocket constructor throws, naming only the error type (no URL, no token)', async () => {
    let calls = 0;
    const Throwing = function (this: unknown, url: string, protocols?: string | string[]) {
      if (calls++ === 0) throw new SyntaxError(`bad url ${url}`);
      return new FakeSocket(url, protocols);
    } as unknown as WebSocketConstructor;
    const ws = client({ reconnect: exact, WebSocket: Throwing, auth: { token: 'tok-secret-1' } }, 'ws://localhost/');
    const errors = record(ws, 'error');
    await settle();
    expect(errors.map((e) => e.error.code)).toEqual(['CONNECT_FAILED']);
    expect(errors[0]!.error.message).toContain('SyntaxError');
    expect(errors[0]!.error.message).not.toContain('tok-secret-1');
    expect(errors[0]!.error.message).not.toContain('localhost');
    expect(ws.state).toBe('reconnecting');
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(FakeSocket.last.url).toBe('ws://localhost/?token=tok-secret-1');
  });

  it('retries a url provider that returns a bad URL, reporting INVALID_URL', async () => {
    let calls = 0;
    const ws = client({ reconnect: exact }, () => (calls++ === 0 ? 'ftp://example.test/' : WS_URL));
    const errors = record(ws, 'error');
    await settle();
    expect(errors.map((e) => e.error.code)).toEqual(['INVALID_URL']);
    expect(ws.state).toBe('reconnecting');
    await advance(1000);
    expect(FakeSocket.last.url).toBe(WS_URL);
  });

  it('abandons a provider that never settles at connectTimeout', async () => {
    let calls = 0;
    const ws = client({ reconnect: { ...exact, connectTimeout: 2000 } }, () =>
      calls++ === 0 ? new Promise<string>(() => undefined) : WS_URL,
    );
    const errors = record(ws, 'error');
    await advance(2000);
    expect(errors.map((e) => e.error.code)).toEqual(['CONNECT_TIMEOUT']);
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(ws.state).toBe('connecting');
  });

  it('ignores a provider that settles after its attempt was replaced', async () => {
    let release: (url: string) => void = () => undefined;
    let calls = 0;
    const ws = client({ reconnect: exact }, () =>
      calls++ === 0 ? new Promise<string>((resolve) => (release = resolve)) : 'ws://second.example.test/',
    );
    await settle();
    ws.reconnect();
    await settle();
    release('ws://first.example.test/');
    await settle();
    expect(FakeSocket.instances.map((s) => s.url)).toEqual(['ws://second.example.test/']);
  });
});

describe('stale sockets', () => {
  it('ignores every event of a socket replaced by reconnect()', async () => {
    const { ws, socket: old } = await openClient({ reconnect: exact });
    ws.reconnect();
    await settle();
    const states = moves(ws);
    const messages = record(ws, 'message');
    const closes = record(ws, 'close');
    const domEvents: string[] = [];
    for (const type of ['open', 'message', 'close', 'error']) ws.addEventListener(type, () => domEvents.push(type));
    old.receive('late');
    old.serverClose(1006);
    old.open();
    expect(ws.state).toBe('connecting');
    expect(states).toEqual([]);
    expect(messages).toEqual([]);
    expect(closes).toEqual([]);
    expect(domEvents).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('ignores events already on their way through handlers captured before reconnect()', async () => {
    const { ws, socket: old } = await openClient({ reconnect: exact });
    const inFlight = { onmessage: old.onmessage!, onclose: old.onclose!, onerror: old.onerror!, onopen: old.onopen! };
    ws.reconnect();
    await settle();
    FakeSocket.last.open();
    const states = moves(ws);
    const messages = record(ws, 'message');
    inFlight.onmessage({ data: 'late' });
    inFlight.onerror({ type: 'error' });
    inFlight.onclose({ code: 1006, reason: '', wasClean: false });
    inFlight.onopen({ type: 'open' });
    expect(ws.state).toBe('open');
    expect(states).toEqual([]);
    expect(messages).toEqual([]);
  });

  it('closes the replaced socket', async () => {
    const { ws, socket: old } = await openClient({ reconnect: exact });
    ws.reconnect();
    expect(old.closedWith).toEqual({ code: 1000, reason: undefined });
  });
});

describe('events', () => {
  it('emits statechange through a whole life: connect, drop, reconnect, close', async () => {
    const ws = client({ reconnect: exact });
    const states = moves(ws);
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    FakeSocket.last.open();
    ws.close();
    FakeSocket.last.serverClose(1000);
    expect(states).toEqual([
      'connecting→open',
      'open→reconnecting',
      'reconnecting→connecting',
      'connecting→open',
      'open→closing',
      'closing→closed',
    ]);
  });

  it('emits connecting for the first attempt to listeners added right after new', async () => {
    const ws = client();
    const connecting = record(ws, 'connecting');
    await settle();
    expect(connecting).toEqual([{ attempt: 0 }]);
  });

  it('emits statechange for a failed first attempt and a fatal close', async () => {
    const ws = client({ reconnect: exact });
    const states = moves(ws);
    await settle();
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    FakeSocket.last.serverClose(1002);
    expect(states).toEqual(['connecting→reconnecting', 'reconnecting→connecting', 'connecting→closed']);
  });

  it('emits open with the negotiated protocol and extensions', async () => {
    const ws = client();
    const opens = record(ws, 'open');
    await settle();
    FakeSocket.last.extensions = 'permessage-deflate';
    FakeSocket.last.open('chat.v2');
    expect(opens).toEqual([{ protocol: 'chat.v2', extensions: 'permessage-deflate' }]);
  });
});

describe('reconnect() from every state', () => {
  it('before the first attempt started: one attempt, not two', async () => {
    const ws = client();
    ws.reconnect();
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(ws.state).toBe('connecting');
  });

  it('from connecting: abandons the attempt and starts another without a state change', async () => {
    const ws = client({ reconnect: exact });
    await settle();
    const first = FakeSocket.last;
    const states = moves(ws);
    const connecting = record(ws, 'connecting');
    ws.reconnect();
    await settle();
    expect(first.closedWith).toBeDefined();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(states).toEqual([]);
    expect(connecting).toEqual([{ attempt: 0 }]);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('from open: drops the connection and connects again now', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const states = moves(ws);
    const closes: unknown[] = [];
    ws.on('close', (e) => closes.push(e));
    ws.reconnect();
    await settle();
    expect(socket.closedWith?.code).toBe(1000);
    // v2: open → connecting is one move (no reconnecting in between).
    expect(states).toEqual(['open→connecting']);
    // The dropped connection gets its close event like any other that ends.
    expect(closes).toEqual([{ code: 1000, reason: 'reconnect', wasClean: true, willReconnect: true }]);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('from reconnecting: connects now and cancels the scheduled retry', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    socket.serverClose(1006);
    await advance(500);
    ws.reconnect();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(ws.state).toBe('connecting');
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });

  it('from reconnecting: resets the backoff', async () => {
    const ws = client({ reconnect: exact });
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    for (let i = 0; i < 3; i++) {
      await settle();
      FakeSocket.last.serverClose(1006);
      if (i < 2) await advance(delays.at(-1)!);
    }
    ws.reconnect();
    await settle();
    FakeSocket.last.serverClose(1006);
    expect(delays).toEqual([1000, 2000, 4000, 1000]);
  });

  it('from closing: connects again', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    ws.close();
    expect(ws.state).toBe('closing');
    const states = moves(ws);
    ws.reconnect();
    await settle();
    expect(states).toEqual(['closing→connecting']);
    socket.serverClose(1000);
    expect(ws.state).toBe('connecting');
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('from closed: connects again and keeps reconnecting afterwards', async () => {
    const ws = client({ reconnect: exact });
    ws.close();
    // v2: close() while connecting is `closing` at once, `closed` a task later.
    expect(ws.state).toBe('closing');
    await settle();
    expect(ws.state).toBe('closed');
    expect(FakeSocket.instances).toHaveLength(0);
    ws.reconnect();
    await settle();
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('throwing listeners', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('do not break a transition; the error goes to console.error without reportError', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const ws = client();
    const boom = new Error('listener bug');
    ws.on('statechange', () => {
      throw boom;
    });
    const opens = record(ws, 'open');
    const states = moves(ws);
    await settle();
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    expect(opens).toHaveLength(1);
    expect(states).toEqual(['connecting→open']);
    expect(spy.mock.calls.some((args) => args.includes(boom))).toBe(true);
  });

  it('are reported through reportError where it exists', async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const { ws, socket } = await openClient({ reconnect: exact });
    const boom = new Error('reconnecting listener bug');
    ws.on('reconnecting', () => {
      throw boom;
    });
    socket.serverClose(1006);
    expect(reportError).toHaveBeenCalledWith(boom);
    await advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});
