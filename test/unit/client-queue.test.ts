// The client's send queue (SPEC §4) through the public API, with a FakeSocket whose
// bufferedAmount the tests control and fake timers: order across reconnects, overflow, byte
// counting, ttl, volatile, the ready gate, flush, water marks, resend of unsent bytes, close.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { jsonCodec } from '../../src/codec.js';
import { DEFAULTS, ResilientWebSocket, isResilientWebSocketError, type ClientEvents, type Options, type ResilientWebSocketError } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

const URL_ = 'ws://127.0.0.1:9/';
const RETRY_MS = 100;
const HWM = 1000;
const LWM = 200;
const POLL_MS = 8;

type Ws = ResilientWebSocket<any, any>;
const clients: Ws[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});

afterEach(() => {
  for (const ws of clients.splice(0)) {
    try {
      ws.close();
    } catch {
      // Already closed by the test.
    }
  }
  vi.useRealTimers();
});

const utf8 = (s: string): number => new TextEncoder().encode(s).length;

/** A client on FakeSockets with a fixed, jitter-free retry delay; its first attempt has run. */
async function client(options: Options<any, any> = {}): Promise<{ ws: Ws; log: Logged[] }> {
  const ws: Ws = new ResilientWebSocket<any, any>(URL_, [], {
    WebSocket: FakeWebSocket,
    ...options,
    reconnect: { minDelay: RETRY_MS, maxDelay: RETRY_MS, jitter: 'none', ...(options.reconnect || {}) },
  });
  clients.push(ws);
  const log: Logged[] = [];
  for (const type of ['drop', 'drain', 'ready', 'open', 'close'] as const) {
    ws.on(type, (p: ClientEvents<any, any>[typeof type]) => log.push({ type, ...p, at: Date.now() }));
  }
  await vi.advanceTimersByTimeAsync(0);
  return { ws, log };
}

interface Logged {
  type: string;
  at: number;
  [k: string]: unknown;
}

const of = (log: Logged[], type: string): Logged[] => log.filter((e) => e.type === type);
const drops = (log: Logged[]): Array<[unknown, unknown]> => of(log, 'drop').map((e) => [e.data, e.reason]);

/** Opens the newest FakeSocket; its `bufferedAmount` grows by what is sent, like a socket whose peer reads nothing. */
function openLast(grow = true): FakeSocket {
  const s = FakeSocket.last;
  if (grow) {
    const send = s.send.bind(s);
    s.send = (data: unknown) => {
      send(data);
      s.bufferedAmount += typeof data === 'string' ? utf8(data) : (data as Blob).size ?? (data as ArrayBuffer).byteLength;
    };
  }
  s.open();
  return s;
}

/** The connection dies without a close frame; `unsent` is what the browser still reports. */
function die(s: FakeSocket, unsent = 0): void {
  s.bufferedAmount = unsent;
  s.serverClose(1006);
}

/** Waits out the retry delay; the next FakeSocket exists (not open yet). */
async function nextAttempt(): Promise<FakeSocket> {
  const before = FakeSocket.instances.length;
  await vi.advanceTimersByTimeAsync(RETRY_MS);
  expect(FakeSocket.instances.length).toBe(before + 1);
  return FakeSocket.last;
}

const caught = (fn: () => unknown): ResilientWebSocketError | undefined => {
  try {
    fn();
  } catch (err) {
    if (isResilientWebSocketError(err)) return err;
    throw err;
  }
  return undefined;
};

describe('order across reconnects', () => {
  it('queues while connecting and sends in order on open, before what is sent after', async () => {
    const { ws } = await client();
    expect(['a', 'b', 'c'].map((d) => ws.send(d))).toEqual(['queued', 'queued', 'queued']);
    const s = openLast(false);
    expect(ws.send('d')).toBe('sent');
    expect(s.sent).toEqual(['a', 'b', 'c', 'd']);
    expect(ws.queuedMessages).toBe(0);
  });

  it('messages sent from statechange/open listeners go after the queued ones', async () => {
    const { ws } = await client();
    ws.on('statechange', ({ to }) => to === 'open' && ws.send('from-statechange'));
    ws.on('open', () => ws.send('from-open'));
    ws.onopen = () => ws.send('from-onopen');
    ws.send('a');
    ws.send('b');
    const s = openLast(false);
    expect(s.sent).toEqual(['a', 'b', 'from-statechange', 'from-open', 'from-onopen']);
  });

  it('queues while reconnecting and sends before anything sent after the new open', async () => {
    const { ws } = await client();
    const first = openLast(false);
    ws.send('x');
    die(first);
    expect(ws.state).toBe('reconnecting');
    expect([ws.send('a'), ws.send('b')]).toEqual(['queued', 'queued']);
    const second = await nextAttempt();
    ws.on('open', () => ws.send('after-open'));
    second.open();
    ws.send('later');
    expect(first.sent).toEqual(['x']);
    expect(second.sent).toEqual(['a', 'b', 'after-open', 'later']);
  });

  it('sends every message exactly once, in order, across several reconnects', async () => {
    const { ws } = await client();
    let n = 0;
    const burst = (): void => {
      for (let i = 0; i < 5; i++) ws.send(String(n++));
    };
    burst();
    for (let round = 0; round < 4; round++) {
      const s = round === 0 ? FakeSocket.last : await nextAttempt();
      burst();
      openLast(false);
      burst();
      die(s);
      burst();
    }
    const last = await nextAttempt();
    openLast(false);
    const all = FakeSocket.instances.flatMap((s) => s.sent);
    expect(last.sent.length).toBeGreaterThan(0);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });
});

describe('overflow policies', () => {
  it('drop-oldest (default): drops the oldest by count, with the original data', async () => {
    const { ws, log } = await client({ queue: { maxMessages: 2 } });
    expect(['a', 'b', 'c'].map((d) => ws.send(d))).toEqual(['queued', 'queued', 'queued']);
    expect(drops(log)).toEqual([['a', 'overflow']]);
    expect(openLast(false).sent).toEqual(['b', 'c']);
  });

  it('drop-oldest: drops by bytes, UTF-8 counted', async () => {
    const { ws, log } = await client({ queue: { maxBytes: 10 } });
    ws.send('👋👋'); // 8 bytes, 4 UTF-16 units
    ws.send('abc');
    expect(drops(log)).toEqual([['👋👋', 'overflow']]);
    expect([ws.queuedMessages, ws.queuedAmount]).toEqual([1, 3]);
  });

  it('drop-newest: the new message is dropped and send says so', async () => {
    const { ws, log } = await client({ queue: { maxMessages: 2, overflow: 'drop-newest' } });
    expect(['a', 'b', 'c'].map((d) => ws.send(d))).toEqual(['queued', 'queued', 'dropped']);
    expect(drops(log)).toEqual([['c', 'overflow']]);
    expect(openLast(false).sent).toEqual(['a', 'b']);
  });

  it("error: send throws QUEUE_FULL and changes nothing", async () => {
    const { ws, log } = await client({ queue: { maxMessages: 2, maxBytes: 100, overflow: 'error' } });
    ws.send('a');
    ws.send('b');
    const err = caught(() => ws.send('c'));
    expect(err?.code).toBe('QUEUE_FULL');
    expect([ws.queuedMessages, ws.queuedAmount, drops(log)]).toEqual([2, 2, []]);
    expect(openLast(false).sent).toEqual(['a', 'b']);
  });

  it("error: a message over maxBytes throws QUEUE_FULL even into an empty queue", async () => {
    const { ws } = await client({ queue: { maxBytes: 10, overflow: 'error' } });
    expect(ws.send('x'.repeat(10))).toBe('queued');
    expect(caught(() => ws.send('y'))?.code).toBe('QUEUE_FULL');
    expect(caught(() => ws.send('👋👋👋'))?.code).toBe('QUEUE_FULL'); // 6 units but 12 bytes
    expect(ws.queuedAmount).toBe(10);
  });

  it('drop events carry what was passed to send(), not its encoding', async () => {
    const { ws, log } = await client({ codec: jsonCodec, queue: { maxMessages: 1 } });
    const first = { n: 1 };
    ws.send(first);
    ws.send({ n: 2 });
    expect(of(log, 'drop')[0]!.data).toBe(first);
  });

  it('applies while open and backed up, too', async () => {
    const { ws, log } = await client({ queue: { maxMessages: 1, highWaterMark: HWM, lowWaterMark: LWM } });
    const s = openLast(false);
    s.bufferedAmount = HWM;
    expect([ws.send('a'), ws.send('b')]).toEqual(['queued', 'queued']);
    expect(drops(log)).toEqual([['a', 'overflow']]);
  });
});

describe('byte counting', () => {
  it.each([
    { name: 'ASCII', data: 'hello' },
    { name: '2- and 3-byte characters', data: 'é€✓' },
    { name: 'surrogate pairs', data: '👋😀' },
    { name: 'lone surrogates', data: 'a\ud83d b\udc4b' },
  ])('queuedAmount counts UTF-8 bytes: $name', async ({ data }) => {
    const { ws } = await client();
    ws.send(data);
    expect(ws.queuedAmount).toBe(utf8(data));
    expect(ws.bufferedAmount).toBe(utf8(data));
  });

  it('queuedAmount matches TextEncoder over 300 random strings', async () => {
    const { ws } = await client({ queue: { maxMessages: 1000 } });
    // A fixed-seed LCG: reproducible, and it covers every UTF-16 unit class including lone surrogates.
    let seed = 12345;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    let total = 0;
    for (let i = 0; i < 300; i++) {
      const units = Array.from({ length: rand(30) }, () => [rand(0x80), rand(0x800), rand(0x10000), 0xd800 + rand(0x800)][rand(4)]!);
      const s = String.fromCharCode(...units);
      total += utf8(s);
      ws.send(s);
      expect(ws.queuedAmount).toBe(total);
    }
    expect(ws.queuedMessages).toBe(300);
  });

  it('counts Blob size and the byteLength of buffers and views (not of their whole buffer)', async () => {
    const { ws } = await client();
    const big = new ArrayBuffer(1024);
    const parts = [new Blob(['👋', new Uint8Array(10)]), new Uint8Array(big, 100, 7), new Float64Array(big, 8, 3), new DataView(big, 0, 5), new ArrayBuffer(33)];
    for (const p of parts) ws.send(p);
    expect(ws.queuedAmount).toBe(14 + 7 + 24 + 5 + 33);
    expect(openLast(false).sent).toEqual(parts);
  });

  it('bufferedAmount is native + queued bytes', async () => {
    const { ws } = await client({ queue: { highWaterMark: HWM, lowWaterMark: LWM } });
    const s = openLast(false);
    s.bufferedAmount = 1500;
    ws.send('héllo');
    expect([ws.queuedAmount, ws.bufferedAmount]).toEqual([6, 1506]);
  });

  it('treats a missing native bufferedAmount as 0', async () => {
    const { ws } = await client();
    const s = openLast(false);
    (s as { bufferedAmount?: number }).bufferedAmount = undefined;
    expect(ws.send('a')).toBe('sent');
    expect(ws.bufferedAmount).toBe(0);
  });
});

describe('ttl', () => {
  it('drops a queued message with "expired" exactly when its ttl ends', async () => {
    const { ws, log } = await client({ queue: { ttl: 1000 } });
    const t0 = Date.now();
    ws.send('a');
    await vi.advanceTimersByTimeAsync(500);
    ws.send('b');
    await vi.advanceTimersByTimeAsync(499);
    expect(drops(log)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(of(log, 'drop').map((e) => [e.data, e.reason, e.at - t0])).toEqual([['a', 'expired', 1000]]);
    await vi.advanceTimersByTimeAsync(500);
    expect(of(log, 'drop').map((e) => [e.data, e.at - t0])).toEqual([
      ['a', 1000],
      ['b', 1500],
    ]);
    expect(ws.queuedMessages).toBe(0);
  });

  it('a shorter per-message ttl overrides queue.ttl and fires first', async () => {
    const { ws, log } = await client({ queue: { ttl: 300 } });
    const t0 = Date.now();
    ws.send('long');
    ws.send('short', { ttl: 100 });
    ws.send('forever', { ttl: Infinity });
    await vi.advanceTimersByTimeAsync(1000);
    expect(of(log, 'drop').map((e) => [e.data, e.at - t0])).toEqual([
      ['short', 100],
      ['long', 300],
    ]);
    expect(openLast(false).sent).toEqual(['forever']);
  });

  it('expired messages are never sent after reconnecting', async () => {
    const { ws, log } = await client();
    openLast(false);
    die(FakeSocket.last);
    ws.send('stale', { ttl: 50 });
    ws.send('fresh');
    const s = await nextAttempt();
    s.open();
    expect(s.sent).toEqual(['fresh']);
    expect(drops(log)).toEqual([['stale', 'expired']]);
  });

  it.each([-1, Number.NaN, '5' as unknown as number])('rejects ttl %s with INVALID_OPTION', async (ttl) => {
    const { ws } = await client();
    expect(caught(() => ws.send('a', { ttl }))?.code).toBe('INVALID_OPTION');
    expect(ws.queuedMessages).toBe(0);
  });

  it.each([
    [{ volatle: true }, 'volatle'],
    [{ volatile: 'yes' }, 'volatile'],
    [{ beforeReady: 1 }, 'beforeReady'],
  ])('rejects send options %o with INVALID_OPTION naming %s', async (options, named) => {
    const { ws } = await client();
    const error = caught(() => ws.send('a', options as never));
    expect(error?.code).toBe('INVALID_OPTION');
    expect(error?.message).toMatch(/^send\(\) options/);
    expect(error?.message).toContain(`options.${named}`);
    expect(ws.queuedMessages).toBe(0);
  });

  it('leaves no timer once the queue emptied by expiry (open, backed up)', async () => {
    const { ws, log } = await client({ queue: { highWaterMark: HWM, lowWaterMark: LWM } });
    const s = openLast(false);
    await vi.advanceTimersByTimeAsync(5000); // past reconnect.stableAfter
    expect(vi.getTimerCount()).toBe(0);
    s.bufferedAmount = HWM;
    ws.send('a', { ttl: 100 });
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(100 + POLL_MS);
    expect(drops(log)).toEqual([['a', 'expired']]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('volatile', () => {
  it('is dropped, not queued, while not open', async () => {
    const { ws, log } = await client();
    expect(ws.send('v', { volatile: true })).toBe('dropped');
    expect([ws.queuedMessages, drops(log)]).toEqual([0, [['v', 'volatile']]]);
    expect(openLast(false).sent).toEqual([]);
  });

  it('goes out while open and not backed up', async () => {
    const { ws, log } = await client();
    const s = openLast(false);
    expect(ws.send('v', { volatile: true })).toBe('sent');
    expect([s.sent, drops(log)]).toEqual([['v'], []]);
  });

  it('is dropped while open but above the high-water mark', async () => {
    const { ws, log } = await client({ queue: { highWaterMark: HWM, lowWaterMark: LWM } });
    const s = openLast(false);
    s.bufferedAmount = HWM;
    expect(ws.send('v', { volatile: true })).toBe('dropped');
    expect([ws.queuedMessages, drops(log)]).toEqual([0, [['v', 'volatile']]]);
  });
});

describe('the ready gate', () => {
  const gate = { ready: (d: unknown) => d === 'hello' };

  it('holds queued messages after open until a message passes ready()', async () => {
    const { ws, log } = await client(gate);
    ws.send('a');
    const s = openLast(false);
    expect(ws.send('b')).toBe('queued');
    s.receive('noise');
    expect([s.sent, of(log, 'ready')]).toEqual([[], []]);
    s.receive('hello');
    expect(s.sent).toEqual(['a', 'b']);
    expect(of(log, 'ready').map((e) => e.data)).toEqual(['hello']);
    expect(ws.send('c')).toBe('sent');
  });

  it('sends beforeReady messages first, in their order, then the rest', async () => {
    const { ws } = await client(gate);
    ws.send('a');
    ws.send('hi-1', { beforeReady: true });
    ws.send('b');
    ws.send('hi-2', { beforeReady: true });
    const s = openLast(false);
    expect(s.sent).toEqual(['hi-1', 'hi-2']);
    ws.send('hi-3', { beforeReady: true });
    expect(s.sent).toEqual(['hi-1', 'hi-2', 'hi-3']);
    s.receive('hello');
    expect(s.sent).toEqual(['hi-1', 'hi-2', 'hi-3', 'a', 'b']);
  });

  it('lets auth.message through before the gate, then the queue', async () => {
    const { ws } = await client({ ...gate, auth: { token: 't0k', via: 'message' } });
    ws.send('a');
    const s = openLast(false);
    expect(s.sent).toEqual(['{"type":"auth","token":"t0k"}']);
    s.receive('hello');
    expect(s.sent).toEqual(['{"type":"auth","token":"t0k"}', 'a']);
  });

  it('emits ready once per connection, and gates again after a reconnect', async () => {
    const { ws, log } = await client(gate);
    const first = openLast(false);
    first.receive('hello');
    first.receive('hello');
    die(first);
    ws.send('a');
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual([]);
    second.receive('hello');
    expect(second.sent).toEqual(['a']);
    expect(of(log, 'ready')).toHaveLength(2);
  });

  it('without a gate, ready follows open with undefined data', async () => {
    const { log } = await client();
    openLast(false);
    expect(log.filter((e) => e.type === 'open' || e.type === 'ready').map((e) => [e.type, e.data])).toEqual([
      ['open', undefined],
      ['ready', undefined],
    ]);
  });
});

describe('flush()', () => {
  const settled = async (p: Promise<void>): Promise<string> => {
    let state = 'pending';
    p.then(
      () => (state = 'resolved'),
      (e: ResilientWebSocketError) => (state = `rejected ${e.code}`),
    );
    await vi.advanceTimersByTimeAsync(0);
    return state;
  };

  it('resolves once the queue is empty and the native bufferedAmount is 0', async () => {
    const { ws } = await client();
    ws.send('a');
    const p = ws.flush();
    expect(await settled(p)).toBe('pending');
    const s = openLast(true);
    expect(s.sent).toEqual(['a']);
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled(p)).toBe('pending');
    s.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(await settled(p)).toBe('resolved');
  });

  it('resolves at once when nothing is queued or buffered', async () => {
    const { ws } = await client();
    openLast(false);
    expect(await settled(ws.flush())).toBe('resolved');
  });

  it('waits across a reconnect while messages are queued', async () => {
    const { ws } = await client();
    die(openLast(false));
    ws.send('a');
    const p = ws.flush();
    const s = await nextAttempt();
    expect(await settled(p)).toBe('pending');
    s.open();
    expect(await settled(p)).toBe('resolved');
    expect(s.sent).toEqual(['a']);
  });

  it('resolves when only beforeReady messages were queued and went out before the gate', async () => {
    const { ws } = await client({ ready: () => false });
    ws.send('hi', { beforeReady: true });
    const p = ws.flush();
    const s = openLast(false);
    expect(s.sent).toEqual(['hi']);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(await settled(p)).toBe('resolved');
  });

  it('rejects with CLOSED when close() comes first', async () => {
    const { ws } = await client();
    ws.send('a');
    const p = ws.flush();
    ws.close();
    expect(await settled(p)).toBe('rejected CLOSED');
  });

  it('rejects with CLOSED after close()', async () => {
    const { ws } = await client();
    ws.close();
    expect(await settled(ws.flush())).toBe('rejected CLOSED');
  });
});

describe('high- and low-water marks', () => {
  const marks = { queue: { highWaterMark: HWM, lowWaterMark: LWM } };

  it.each([
    { native: 0, result: 'sent' },
    { native: HWM - 1, result: 'sent' },
    { native: HWM, result: 'queued' },
    { native: HWM + 1, result: 'queued' },
  ])('native bufferedAmount $native: send says $result', async ({ native, result }) => {
    const { ws } = await client(marks);
    const s = openLast(false);
    s.bufferedAmount = native;
    expect(ws.send('m')).toBe(result);
    expect(s.sent).toEqual(result === 'sent' ? ['m'] : []);
  });

  it('drains only once the native bufferedAmount is at or below the low-water mark', async () => {
    const { ws, log } = await client(marks);
    const s = openLast(false);
    s.bufferedAmount = HWM;
    ws.send('a');
    s.bufferedAmount = LWM + 1;
    await vi.advanceTimersByTimeAsync(20 * POLL_MS);
    expect(ws.send('b')).toBe('queued'); // behind 'a', though the socket is below the HWM
    expect([s.sent, of(log, 'drain')]).toEqual([[], []]);
    s.bufferedAmount = LWM;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(s.sent).toEqual(['a', 'b']);
    expect(of(log, 'drain')).toHaveLength(1);
  });

  it('refills the socket up to the high-water mark per drain step, and emits drain once', async () => {
    const { ws, log } = await client(marks);
    const s = openLast(true);
    s.bufferedAmount = HWM;
    const msgs = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(300, '.'));
    for (const m of msgs) expect(ws.send(m)).toBe('queued');
    s.bufferedAmount = LWM; // 200 → 500 → 800 → 1100: three go out
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect([s.sent.length, ws.queuedMessages, s.bufferedAmount]).toEqual([3, 7, 1100]);
    s.bufferedAmount = 0; // 0 → 300 → 600 → 900 → 1200: four go out
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect([s.sent.length, of(log, 'drain').length]).toEqual([7, 0]);
    s.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(s.sent).toEqual(msgs);
    expect(of(log, 'drain')).toHaveLength(1);
  });

  it('the native bufferedAmount never exceeds the high-water mark plus one message', async () => {
    const { ws } = await client(marks);
    const s = openLast(true);
    let peak = 0;
    const send = s.send.bind(s);
    s.send = (d: unknown) => {
      send(d);
      peak = Math.max(peak, s.bufferedAmount);
    };
    for (let i = 0; i < 50; i++) {
      ws.send('x'.repeat(150));
      // The network takes 100 bytes per poll.
      s.bufferedAmount = Math.max(0, s.bufferedAmount - 100);
      await vi.advanceTimersByTimeAsync(POLL_MS);
    }
    while (ws.queuedMessages) {
      s.bufferedAmount = Math.max(0, s.bufferedAmount - 100);
      await vi.advanceTimersByTimeAsync(POLL_MS);
    }
    expect(s.sent).toHaveLength(50);
    expect(peak).toBeGreaterThanOrEqual(HWM);
    expect(peak).toBeLessThan(HWM + 150);
  });

  it('polls bufferedAmount only while something waits: no timer after the drain', async () => {
    const { ws } = await client(marks);
    const s = openLast(false);
    await vi.advanceTimersByTimeAsync(5000); // past reconnect.stableAfter
    expect(vi.getTimerCount()).toBe(0);
    s.bufferedAmount = HWM;
    ws.send('a');
    expect(vi.getTimerCount()).toBe(1);
    s.bufferedAmount = 0;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(s.sent).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('direct sends do not emit drain', async () => {
    const { ws, log } = await client(marks);
    openLast(false);
    ws.send('a');
    ws.send('b');
    await vi.advanceTimersByTimeAsync(100);
    expect(of(log, 'drain')).toEqual([]);
  });
});

describe("resend: 'unsent'", () => {
  const m = ['m1-aaaa', 'm2-bb', 'm3-cccccc', 'm4-d'];

  it('re-sends exactly the messages whose bytes the browser still reports, first, whole, in order', async () => {
    const { ws } = await client();
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, utf8(m[2]!) + utf8(m[3]!));
    expect([ws.queuedMessages, ws.queuedAmount]).toEqual([2, utf8(m[2]!) + utf8(m[3]!)]);
    ws.send('queued-while-down');
    const second = await nextAttempt();
    second.open();
    ws.send('after-open');
    expect(second.sent).toEqual(['m3-cccccc', 'm4-d', 'queued-while-down', 'after-open']);
  });

  it('a partly transmitted message is re-sent whole', async () => {
    const { ws } = await client();
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, utf8(m[3]!) + 1);
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual(['m3-cccccc', 'm4-d']);
  });

  it('re-sends nothing when the browser reports nothing unsent', async () => {
    const { ws } = await client();
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, 0);
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual([]);
  });

  it('re-sends a message at most once, even if the next connection dies too', async () => {
    const { ws } = await client();
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, utf8(m[3]!));
    const second = await nextAttempt();
    openLast(true);
    die(second, 0);
    const third = await nextAttempt();
    third.open();
    expect([second.sent, third.sent]).toEqual([['m4-d'], []]);
  });

  it('never re-sends heartbeat pings', async () => {
    const { ws } = await client({ heartbeat: { interval: 1000, timeout: 5000 } });
    const first = openLast(true);
    ws.send('m1');
    await vi.advanceTimersByTimeAsync(1000);
    ws.send('m2');
    expect(first.sent).toEqual(['m1', 'ping', 'm2']);
    die(first, first.bufferedAmount);
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual(['m1', 'm2']);
  });

  it('never re-sends the auth message (each connection sends its own)', async () => {
    let n = 0;
    const { ws } = await client({ auth: { token: () => `tok${n++}`, via: 'message' } });
    const first = openLast(true);
    ws.send('m1');
    die(first, first.bufferedAmount);
    const second = await nextAttempt();
    second.open();
    expect(first.sent).toEqual(['{"type":"auth","token":"tok0"}', 'm1']);
    expect(second.sent).toEqual(['{"type":"auth","token":"tok1"}', 'm1']);
  });

  it('reconnect() does not re-send what the old, still open socket buffers (it goes out before the close frame)', async () => {
    const { ws } = await client();
    const first = openLast(true);
    for (const d of m) ws.send(d);
    ws.reconnect();
    expect([first.closedWith?.code, ws.queuedMessages]).toEqual([1000, 0]);
    await vi.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.open();
    expect(second).not.toBe(first);
    expect(second.sent).toEqual([]);
  });

  it('resend: false loses them', async () => {
    const { ws, log } = await client({ queue: { resend: false } });
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, first.bufferedAmount);
    expect(ws.queuedMessages).toBe(0);
    const second = await nextAttempt();
    second.open();
    expect([second.sent, drops(log)]).toEqual([[], []]);
  });

  it('re-queued messages count against the bounds (oldest dropped as overflow)', async () => {
    const { ws, log } = await client({ queue: { maxMessages: 3 } });
    const first = openLast(true);
    for (const d of m) ws.send(d);
    die(first, first.bufferedAmount);
    expect(drops(log)).toEqual([['m1-aaaa', 'overflow']]);
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual(['m2-bb', 'm3-cccccc', 'm4-d']);
  });

  it('re-sends with the codec, reporting the original value', async () => {
    const { ws } = await client({ codec: jsonCodec });
    const first = openLast(true);
    ws.send({ n: 1 });
    ws.send({ n: 2 });
    die(first, utf8('{"n":2}'));
    const second = await nextAttempt();
    second.open();
    expect(second.sent).toEqual(['{"n":2}']);
  });
});

describe('close()', () => {
  it("drops queued messages with 'closed', in order", async () => {
    const { ws, log } = await client();
    ws.send('a');
    ws.send('b');
    ws.close();
    expect([ws.queuedMessages, ws.queuedAmount, drops(log)]).toEqual([
      0,
      0,
      [
        ['a', 'closed'],
        ['b', 'closed'],
      ],
    ]);
  });

  it("drops the backlog of an open, backed-up socket with 'closed' and cancels every timer", async () => {
    const { ws, log } = await client({ queue: { highWaterMark: HWM, lowWaterMark: LWM, ttl: 60_000 } });
    const s = openLast(false);
    s.bufferedAmount = HWM;
    ws.send('a');
    ws.close();
    s.serverClose(1000, '', true);
    expect(drops(log)).toEqual([['a', 'closed']]);
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  // v2: as natively, send() after close() never throws; it drops and reports the message.
  it.each(['connecting', 'open', 'reconnecting'] as const)("send after close() from %s returns 'dropped' with drop 'closed'", async (from) => {
    const { ws, log } = await client();
    if (from !== 'connecting') openLast(false);
    if (from === 'reconnecting') die(FakeSocket.last);
    expect(ws.state).toBe(from);
    const sockets = FakeSocket.instances.length;
    ws.close();
    expect(ws.state).toBe('closing');
    expect(ws.send('x')).toBe('dropped');
    expect(drops(log)).toEqual([['x', 'closed']]);
    expect(ws.queuedMessages).toBe(0);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.serverClose(1005, '', true);
    expect(ws.state).toBe('closed');
    expect(ws.send('y')).toBe('dropped');
    expect(drops(log)).toEqual([
      ['x', 'closed'],
      ['y', 'closed'],
    ]);
    expect(FakeSocket.instances.length).toBe(sockets);
    expect(FakeSocket.instances.flatMap((sock) => sock.sent)).toEqual([]);
  });

  it("after a give-up (fatal close code) the queue is dropped and send returns 'dropped'", async () => {
    const { ws, log } = await client({ queue: { highWaterMark: HWM, lowWaterMark: LWM } });
    const s = openLast(false);
    s.bufferedAmount = HWM;
    ws.send('a');
    s.serverClose(1002, 'protocol error');
    expect(ws.state).toBe('closed');
    expect(drops(log)).toEqual([['a', 'closed']]);
    expect(ws.send('b')).toBe('dropped');
    expect(drops(log)).toEqual([
      ['a', 'closed'],
      ['b', 'closed'],
    ]);
    expect(s.sent).toEqual([]);
  });

  it('bytes left in the native buffer at close() are not re-sent after reconnect()', async () => {
    const { ws } = await client();
    const first = openLast(true);
    ws.send('a');
    ws.close();
    die(first, first.bufferedAmount);
    ws.reconnect();
    await vi.advanceTimersByTimeAsync(0);
    const second = FakeSocket.last;
    second.open();
    expect(second).not.toBe(first);
    expect(second.sent).toEqual([]);
  });
});

describe('idle', () => {
  it('an open, idle client with an empty queue holds no timer', async () => {
    const { ws } = await client();
    openLast(false);
    ws.send('a');
    await vi.advanceTimersByTimeAsync(5000); // past reconnect.stableAfter
    expect([ws.queuedMessages, vi.getTimerCount()]).toEqual([0, 0]);
  });

  it('no timer is left after a beforeReady message with a ttl went out before the gate', async () => {
    const { ws } = await client({ ready: () => false });
    ws.send('hi', { beforeReady: true, ttl: 60_000 });
    const s = openLast(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect([s.sent, ws.queuedMessages, vi.getTimerCount()]).toEqual([['hi'], 0, 0]);
  });
});

// Issue 14 / SPEC §4 "Bursts": with default options a healthy connection never drops what a
// native WebSocket would deliver; flow control only delays. The bounds apply while there is no
// connection (or when the user set them), and every drop is reported.
describe('bursts and backpressure (issue 14)', () => {
  const D = DEFAULTS.queue;
  const SIZE = 64;
  const BURST = 200_000;
  /** How many 64-byte messages go straight out before the native buffer reaches the default mark. */
  const DIRECT = Math.ceil(D.highWaterMark / SIZE);
  const burst = (n: number): string[] => Array.from({ length: n }, (_, i) => `m${i}`.padEnd(SIZE, '.'));
  /** 64 KiB views on one shared buffer: 64 MiB of messages without 64 MiB of memory, told apart by identity. */
  const chunks = (n: number): Uint8Array[] => {
    const shared = new ArrayBuffer(64 * 1024);
    return Array.from({ length: n }, () => new Uint8Array(shared));
  };

  /** The first index where `got` and `want` differ (by identity), or -1. */
  const mismatch = (got: readonly unknown[], want: readonly unknown[]): number => {
    for (let i = 0; i < Math.max(got.length, want.length); i++) if (got[i] !== want[i]) return i;
    return -1;
  };

  /** Records the peak native bufferedAmount right after each native send. */
  const peakOf = (s: FakeSocket): (() => number) => {
    let peak = 0;
    const send = s.send.bind(s);
    s.send = (d: unknown) => {
      send(d);
      peak = Math.max(peak, s.bufferedAmount);
    };
    return () => peak;
  };

  /** The network takes `perPoll` bytes per drain poll until nothing is queued or buffered. */
  async function drainAll(ws: Ws, s: FakeSocket, perPoll: number, each?: () => void): Promise<number> {
    let polls = 0;
    while (ws.queuedMessages || s.bufferedAmount) {
      if (++polls > 100_000) throw new Error('the queue did not drain');
      s.bufferedAmount = Math.max(0, s.bufferedAmount - perPoll);
      each?.();
      await vi.advanceTimersByTimeAsync(POLL_MS);
    }
    return polls;
  }

  /** A promise's outcome so far, and what held when it settled. */
  function track(p: Promise<void>, atSettle: () => unknown = () => undefined): { state: string; seen: unknown } {
    const t = { state: 'pending', seen: undefined as unknown };
    p.then(
      () => {
        t.state = 'resolved';
        t.seen = atSettle();
      },
      (e: ResilientWebSocketError) => (t.state = `rejected ${e.code}`),
    );
    return t;
  }

  const count = (results: readonly string[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of results) out[r] = (out[r] ?? 0) + 1;
    return out;
  };

  it('a 200 000-message synchronous burst with default options drops nothing and sends everything in order as the buffer drains', async () => {
    const { ws, log } = await client();
    const s = openLast(true);
    const peak = peakOf(s);
    const msgs = burst(BURST);
    const results = msgs.map((m) => ws.send(m));
    expect(count(results)).toEqual({ sent: DIRECT, queued: BURST - DIRECT });
    // Far over the default maxMessages: while open, flow control holds them without bound.
    expect(BURST - DIRECT).toBeGreaterThan(D.maxMessages);
    expect(drops(log)).toEqual([]);
    expect([ws.queuedMessages, ws.queuedAmount]).toEqual([BURST - DIRECT, (BURST - DIRECT) * SIZE]);
    // Memory stays honest: the native buffer stays at the mark, the rest waits in the queue.
    expect(s.bufferedAmount).toBe(DIRECT * SIZE);
    expect(ws.bufferedAmount).toBe(s.bufferedAmount + ws.queuedAmount);
    const flushed = track(ws.flush(), () => [ws.queuedMessages, s.bufferedAmount]);
    let honest = true;
    await drainAll(ws, s, 300_000, () => {
      honest &&= ws.bufferedAmount === s.bufferedAmount + ws.queuedAmount;
      if (ws.queuedMessages || s.bufferedAmount) expect(flushed.state).toBe('pending');
    });
    expect(honest).toBe(true);
    expect(drops(log)).toEqual([]);
    expect(s.sent).toHaveLength(BURST);
    expect(mismatch(s.sent, msgs)).toBe(-1);
    expect(peak()).toBeLessThan(D.highWaterMark + SIZE);
    expect(of(log, 'drain')).toHaveLength(1);
    expect(flushed).toEqual({ state: 'resolved', seen: [0, 0] });
  });

  it('64 MiB in 64 KiB chunks with default options, through a server that stops reading for a second: nothing dropped, in order', async () => {
    const { ws, log } = await client();
    const s = openLast(true);
    const peak = peakOf(s);
    const data = chunks(1024);
    const results = data.map((c) => ws.send(c));
    const direct = D.highWaterMark / (64 * 1024);
    expect(count(results)).toEqual({ sent: direct, queued: 1024 - direct });
    // Over the default maxBytes (16 MiB), still nothing dropped while open.
    expect(ws.queuedAmount).toBeGreaterThan(D.maxBytes);
    // The server stops reading: nothing moves, nothing is lost, no native growth.
    await vi.advanceTimersByTimeAsync(1000);
    expect([s.sent.length, ws.queuedMessages, s.bufferedAmount, drops(log)]).toEqual([direct, 1024 - direct, D.highWaterMark, []]);
    const flushed = track(ws.flush());
    await drainAll(ws, s, 512 * 1024);
    expect(drops(log)).toEqual([]);
    expect(mismatch(s.sent, data)).toBe(-1);
    expect(peak()).toBeLessThanOrEqual(D.highWaterMark + 64 * 1024);
    expect(flushed.state).toBe('resolved');
  });

  // 16 384 go straight out at the default high-water mark; the queue then holds 100.
  const kept = 100;
  it.each([
    { name: 'maxMessages, drop-oldest', queue: { maxMessages: kept } },
    { name: 'maxBytes, drop-oldest', queue: { maxBytes: kept * SIZE } },
    { name: 'maxMessages, drop-newest', queue: { maxMessages: kept, overflow: 'drop-newest' as const } },
  ])('user-set small bounds ($name) apply while open: every drop reported, the rest sent in order', async ({ queue }) => {
    const { ws, log } = await client({ queue });
    const s = openLast(true);
    const msgs = burst(BURST);
    const results = msgs.map((m) => ws.send(m));
    const newest = queue.overflow === 'drop-newest';
    // drop-oldest keeps the newest `kept`; drop-newest keeps the first `kept` that were queued.
    const survivors = newest ? msgs.slice(DIRECT, DIRECT + kept) : msgs.slice(BURST - kept);
    const lost = newest ? msgs.slice(DIRECT + kept) : msgs.slice(DIRECT, BURST - kept);
    expect(count(results)).toEqual(newest ? { sent: DIRECT, queued: kept, dropped: BURST - DIRECT - kept } : { sent: DIRECT, queued: BURST - DIRECT });
    const dropped = drops(log);
    expect(dropped.every(([, reason]) => reason === 'overflow')).toBe(true);
    expect(dropped).toHaveLength(lost.length);
    expect(mismatch(dropped.map(([d]) => d), lost)).toBe(-1);
    expect(ws.queuedMessages).toBe(kept);
    await drainAll(ws, s, 300_000);
    expect(mismatch(s.sent, [...msgs.slice(0, DIRECT), ...survivors])).toBe(-1);
    expect(drops(log)).toHaveLength(lost.length);
  });

  it("user-set bounds with overflow 'error' while open: QUEUE_FULL for each message over the bound, nothing dropped silently", async () => {
    const { ws, log } = await client({ queue: { maxMessages: kept, overflow: 'error' } });
    const s = openLast(true);
    const msgs = burst(DIRECT + kept + 1000);
    const refused: string[] = [];
    for (const m of msgs) {
      const err = caught(() => ws.send(m));
      if (err) {
        expect(err.code).toBe('QUEUE_FULL');
        refused.push(m);
      }
    }
    expect(mismatch(refused, msgs.slice(DIRECT + kept))).toBe(-1);
    expect(drops(log)).toEqual([]);
    await drainAll(ws, s, 300_000);
    expect(mismatch(s.sent, msgs.slice(0, DIRECT + kept))).toBe(-1);
  });

  describe('writable()', () => {
    const marks = { queue: { highWaterMark: HWM, lowWaterMark: LWM } };

    it('stays pending while connecting and before the ready gate; resolves when a send would go straight out', async () => {
      const { ws } = await client({ ...marks, ready: (d: unknown) => d === 'welcome' });
      const w = track(ws.writable(), () => ws.send('probe'));
      await vi.advanceTimersByTimeAsync(10 * POLL_MS);
      expect(w.state).toBe('pending');
      const s = openLast(false);
      await vi.advanceTimersByTimeAsync(10 * POLL_MS);
      expect(w.state).toBe('pending'); // open, but a send now would wait for the gate
      s.receive('welcome');
      await vi.advanceTimersByTimeAsync(0);
      expect(w).toEqual({ state: 'resolved', seen: 'sent' });
      expect(s.sent).toEqual(['probe']);
    });

    it('resolves at once on an idle open connection', async () => {
      const { ws } = await client(marks);
      openLast(false);
      const w = track(ws.writable(), () => ws.send('probe'));
      await vi.advanceTimersByTimeAsync(0);
      expect(w).toEqual({ state: 'resolved', seen: 'sent' });
    });

    it('stays pending while the native buffer is at the high-water mark, resolves once it is below', async () => {
      const { ws } = await client(marks);
      const s = openLast(false);
      s.bufferedAmount = HWM;
      const w = track(ws.writable(), () => [ws.queuedMessages, s.bufferedAmount, ws.send('probe')]);
      await vi.advanceTimersByTimeAsync(20 * POLL_MS);
      expect(w.state).toBe('pending');
      s.bufferedAmount = HWM - 1;
      await vi.advanceTimersByTimeAsync(POLL_MS);
      expect(w).toEqual({ state: 'resolved', seen: [0, HWM - 1, 'sent'] });
    });

    it('stays pending while messages wait in the queue, even below the high-water mark; resolves when the queue empties', async () => {
      const { ws } = await client(marks);
      const s = openLast(true);
      s.bufferedAmount = HWM;
      expect(ws.send('a')).toBe('queued');
      const w = track(ws.writable(), () => [ws.queuedMessages, ws.send('probe')]);
      s.bufferedAmount = LWM + 1; // below the high-water mark, but the queue drains only at the low-water mark
      await vi.advanceTimersByTimeAsync(20 * POLL_MS);
      expect(w.state).toBe('pending');
      s.bufferedAmount = LWM;
      await vi.advanceTimersByTimeAsync(POLL_MS);
      expect(w).toEqual({ state: 'resolved', seen: [0, 'sent'] });
      expect(s.sent).toEqual(['a', 'probe']);
    });

    it('waits across a reconnect', async () => {
      const { ws } = await client(marks);
      die(openLast(false));
      const w = track(ws.writable(), () => ws.send('probe'));
      const next = await nextAttempt();
      expect(w.state).toBe('pending');
      next.open();
      await vi.advanceTimersByTimeAsync(0);
      expect(w).toEqual({ state: 'resolved', seen: 'sent' });
    });

    it.each(['connecting', 'open', 'reconnecting'] as const)('rejects with CLOSED on close() from %s, and when called after it', async (from) => {
      const { ws } = await client(marks);
      if (from !== 'connecting') openLast(false).bufferedAmount = HWM;
      if (from === 'reconnecting') die(FakeSocket.last);
      expect(ws.state).toBe(from);
      const w = track(ws.writable());
      await vi.advanceTimersByTimeAsync(2 * POLL_MS);
      expect(w.state).toBe('pending');
      ws.close();
      await vi.advanceTimersByTimeAsync(0);
      expect(w.state).toBe('rejected CLOSED');
      const later = track(ws.writable());
      await vi.advanceTimersByTimeAsync(0);
      expect(later.state).toBe('rejected CLOSED');
    });

    it('rejects with CLOSED on a give-up', async () => {
      const { ws } = await client(marks);
      const s = openLast(false);
      s.bufferedAmount = HWM;
      const w = track(ws.writable());
      s.serverClose(1002, 'protocol error');
      await vi.advanceTimersByTimeAsync(0);
      expect([ws.state, w.state]).toEqual(['closed', 'rejected CLOSED']);
    });

    it('paces a producer: awaiting it before every send never queues and never drops', async () => {
      const { ws, log } = await client(marks);
      const s = openLast(true);
      const msgs = burst(200);
      const results: string[] = [];
      const producer = (async () => {
        for (const m of msgs) {
          await ws.writable();
          results.push(ws.send(m));
        }
      })();
      // The network takes 100 bytes per poll while the producer runs.
      let polls = 0;
      while (results.length < msgs.length && ++polls < 10_000) {
        s.bufferedAmount = Math.max(0, s.bufferedAmount - 100);
        await vi.advanceTimersByTimeAsync(POLL_MS);
      }
      await producer;
      expect(count(results)).toEqual({ sent: msgs.length });
      expect(drops(log)).toEqual([]);
      expect(mismatch(s.sent, msgs)).toBe(-1);
    });
  });

  describe('the link dies with a long queue', () => {
    it.each([
      { unsent: 'everything', requeued: DIRECT },
      { unsent: 'nothing', requeued: 0 },
    ])('the queue is trimmed to the no-connection bounds (maxMessages), oldest dropped with overflow, each reported; the browser sent $unsent', async ({ requeued }) => {
      const { ws, log } = await client();
      const s = openLast(true);
      const n = 30_000;
      const msgs = burst(n);
      for (const m of msgs) ws.send(m);
      expect([ws.queuedMessages, drops(log)]).toEqual([n - DIRECT, []]);
      die(s, requeued ? s.bufferedAmount : 0);
      expect(ws.state).toBe('reconnecting');
      // Re-queued unsent messages go first; then the oldest are dropped down to the bound.
      const held = [...msgs.slice(DIRECT - requeued, DIRECT), ...msgs.slice(DIRECT)];
      const lost = held.slice(0, held.length - D.maxMessages);
      const dropped = drops(log);
      expect(dropped).toHaveLength(lost.length);
      expect(dropped.every(([, reason]) => reason === 'overflow')).toBe(true);
      expect(mismatch(dropped.map(([d]) => d), lost)).toBe(-1);
      expect([ws.queuedMessages, ws.queuedAmount]).toEqual([D.maxMessages, D.maxMessages * SIZE]);
      expect(ws.bufferedAmount).toBe(ws.queuedAmount); // no native socket now
      const second = await nextAttempt();
      const more = second.send.bind(second);
      second.send = (d: unknown) => {
        more(d);
        second.bufferedAmount += SIZE;
      };
      second.open();
      await drainAll(ws, second, 300_000);
      expect(mismatch(second.sent, held.slice(-D.maxMessages))).toBe(-1);
      expect(drops(log)).toHaveLength(lost.length);
    });

    it('the queue is trimmed to maxBytes (64 KiB chunks), oldest dropped with overflow, each reported', async () => {
      const { ws, log } = await client();
      const s = openLast(true);
      const data = chunks(1024);
      for (const c of data) ws.send(c);
      expect(drops(log)).toEqual([]);
      die(s, s.bufferedAmount);
      const keep = D.maxBytes / (64 * 1024);
      const dropped = drops(log);
      expect(dropped.every(([, reason]) => reason === 'overflow')).toBe(true);
      expect(mismatch(dropped.map(([d]) => d), data.slice(0, 1024 - keep))).toBe(-1);
      expect([ws.queuedMessages, ws.queuedAmount, ws.bufferedAmount]).toEqual([keep, D.maxBytes, D.maxBytes]);
      const second = await nextAttempt();
      const more = second.send.bind(second);
      second.send = (d: unknown) => {
        more(d);
        second.bufferedAmount += (d as Uint8Array).byteLength;
      };
      second.open();
      await drainAll(ws, second, 512 * 1024);
      expect(mismatch(second.sent, data.slice(1024 - keep))).toBe(-1);
    });

    it('user-set bounds are the no-connection bounds too', async () => {
      const { ws, log } = await client({ queue: { maxMessages: 5_000, maxBytes: Infinity } });
      const s = openLast(true);
      const msgs = burst(DIRECT + 5_000);
      for (const m of msgs) ws.send(m);
      expect(drops(log)).toEqual([]);
      die(s, s.bufferedAmount);
      expect(drops(log)).toHaveLength(DIRECT);
      expect(mismatch(drops(log).map(([d]) => d), msgs.slice(0, DIRECT))).toBe(-1);
      expect(ws.queuedMessages).toBe(5_000);
    });
  });
});
