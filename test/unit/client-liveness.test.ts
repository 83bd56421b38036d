// The client's heartbeat: pings over a FakeSocket, death detection, the discarded socket, the
// close/error/reconnect that follow, and pong filtering. Time is fake (vi.useFakeTimers also
// fakes performance.now); `skew` moves the clock without firing timers, as a frozen tab does.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type Options } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

const INTERVAL = 1000;
const TIMEOUT = 500;
const RETRY = 100;

let skew = 0;

const clients: ResilientWebSocket<string, string>[] = [];

/** A client with the heartbeat on (unless overridden), its first socket already open. */
async function openClient(options: Options<string, string> = {}): Promise<ResilientWebSocket<string, string>> {
  const ws = new ResilientWebSocket<string, string>('ws://127.0.0.1:1/live', undefined, {
    WebSocket: FakeWebSocket,
    heartbeat: { interval: INTERVAL, timeout: TIMEOUT },
    reconnect: { minDelay: RETRY, jitter: 'none' },
    ...options,
  });
  clients.push(ws);
  await vi.advanceTimersByTimeAsync(0);
  FakeSocket.last.open();
  return ws;
}

/** Records every typed event of `ws`, in order. */
function record(ws: ResilientWebSocket<string, string>): Array<{ type: string; payload: unknown }> {
  const log: Array<{ type: string; payload: unknown }> = [];
  for (const type of ['statechange', 'connecting', 'open', 'message', 'close', 'reconnecting', 'error', 'drop'] as const) {
    ws.on(type, (payload) => log.push({ type, payload }));
  }
  return log;
}

const pings = (s: FakeSocket): number => s.sent.filter((d) => d === 'ping').length;

beforeEach(() => {
  vi.useFakeTimers();
  skew = 0;
  // The client reads performance.now(); time that passed without timers firing is added on top.
  const fakeNow = performance.now.bind(performance);
  vi.spyOn(performance, 'now').mockImplementation(() => fakeNow() + skew);
  FakeSocket.reset();
});

afterEach(() => {
  for (const ws of clients.splice(0)) if (ws.state !== 'closed' && ws.state !== 'closing') ws.close();
  // The spy goes before the fake clock does, so the clock restores the real performance.now.
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('heartbeat: pings', () => {
  it('sends the ping message after `interval` ms without inbound data', async () => {
    await openClient();
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(s.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.sent).toEqual(['ping']);
  });

  it('postpones the ping while messages arrive', async () => {
    await openClient();
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL - 100);
    s.receive('data');
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(pings(s)).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings(s)).toBe(1);
  });

  it('sends a custom heartbeat.message', async () => {
    await openClient({ heartbeat: { interval: INTERVAL, timeout: TIMEOUT, message: '{"t":"hb"}' } });
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(FakeSocket.last.sent).toEqual(['{"t":"hb"}']);
  });

  it('uses the defaults (25 s interval) with heartbeat: {}', async () => {
    await openClient({ heartbeat: {} });
    await vi.advanceTimersByTimeAsync(24_999);
    expect(pings(FakeSocket.last)).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings(FakeSocket.last)).toBe(1);
  });

  it('sends no ping while the heartbeat is off (the default)', async () => {
    await openClient({ heartbeat: undefined });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeSocket.last.sent).toEqual([]);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a pong keeps the connection alive', async () => {
    const ws = await openClient();
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT - 1);
    s.receive('pong');
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(ws.state).toBe('open');
    expect(s.closedWith).toBeUndefined();
  });
});

describe('heartbeat: death', () => {
  it('declares the link dead interval + timeout ms after the last inbound data, not earlier', async () => {
    const ws = await openClient();
    FakeSocket.last.receive('x');
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT - 1);
    expect(ws.state).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.state).toBe('reconnecting');
  });

  it('discards the native socket at once: closes it without waiting for a close handshake', async () => {
    const ws = await openClient();
    const log = record(ws);
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(s.closedWith).toBeDefined();
    expect(ws.state).toBe('reconnecting');
    // The dead socket's late events go nowhere: no second close event.
    s.serverClose(1006);
    expect(log.filter((e) => e.type === 'close')).toHaveLength(1);
  });

  it("emits close {1006, 'heartbeat timeout', willReconnect: true} and a DOM close event with the same fields", async () => {
    const ws = await openClient();
    const log = record(ws);
    const dom: Array<{ code: number; reason: string; wasClean: boolean }> = [];
    ws.onclose = (ev) => dom.push({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(log.filter((e) => e.type === 'close').map((e) => e.payload)).toEqual([
      { code: 1006, reason: 'heartbeat timeout', wasClean: false, willReconnect: true },
    ]);
    expect(dom).toEqual([{ code: 1006, reason: 'heartbeat timeout', wasClean: false }]);
  });

  it('emits an error with code HEARTBEAT_TIMEOUT', async () => {
    const ws = await openClient();
    const log = record(ws);
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    const errors = log.filter((e) => e.type === 'error').map((e) => (e.payload as { error: { code: string } }).error.code);
    expect(errors).toEqual(['HEARTBEAT_TIMEOUT']);
  });

  it('schedules a reconnect with backoff and opens a new socket that runs its own heartbeat', async () => {
    const ws = await openClient();
    const log = record(ws);
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(log.find((e) => e.type === 'reconnecting')?.payload).toMatchObject({ attempt: 1, delay: RETRY, closeEvent: { code: 1006 } });
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RETRY);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(FakeSocket.last.sent).toEqual(['ping']);
  });

  it('delivers after the reconnect what was sent after the death', async () => {
    const ws = await openClient();
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(ws.state).toBe('reconnecting');
    expect(ws.send('b')).toBe('queued');
    await vi.advanceTimersByTimeAsync(RETRY);
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual(['b']);
  });

  // The abandoned socket is still open natively: if the link recovers it delivers its buffer,
  // so re-sending that buffer could deliver a message twice, which the library never does.
  it('does not re-send what the abandoned, still-open socket holds in its buffer', async () => {
    const ws = await openClient();
    const dead = FakeSocket.last;
    expect(ws.send('a')).toBe('sent');
    dead.bufferedAmount = 1;
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(dead.closedWith).toBeDefined();
    await vi.advanceTimersByTimeAsync(RETRY);
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual([]);
  });

  it('does not declare death when timers fired late but data did arrive (throttled tab)', async () => {
    const ws = await openClient();
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(pings(s)).toBe(1);
    skew += 60_000;
    s.receive('pong');
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(ws.state).toBe('open');
    expect(s.closedWith).toBeUndefined();
  });

  it('re-pings instead of declaring death when the deadline timer fires long after its time (frozen tab)', async () => {
    const ws = await openClient();
    const s = FakeSocket.last;
    await vi.advanceTimersByTimeAsync(INTERVAL);
    skew += 60_000;
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(ws.state).toBe('open');
    expect(pings(s)).toBe(2);
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(ws.state).toBe('reconnecting');
  });

  it('stops pinging a socket that closed on its own', async () => {
    const ws = await openClient();
    const s = FakeSocket.last;
    s.serverClose(1006);
    await vi.advanceTimersByTimeAsync(RETRY - 1);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(s.sent).toEqual([]);
    expect(ws.state).not.toBe('open');
  });

  it('leaves no timer behind after close() with the heartbeat on', async () => {
    const ws = await openClient();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    ws.close();
    FakeSocket.last.serverClose(1000, '', true);
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind after close() while reconnecting from a heartbeat death', async () => {
    const ws = await openClient();
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT);
    expect(ws.state).toBe('reconnecting');
    ws.close();
    // closing at once; a task later closed (no socket to wait for).
    expect(ws.state).toBe('closing');
    await vi.advanceTimersByTimeAsync(0);
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('heartbeat: pong filtering', () => {
  it.each<[string, Options<string, string>['heartbeat'], string, boolean]>([
    ["default 'pong' is swallowed", { interval: INTERVAL, timeout: TIMEOUT }, 'pong', false],
    ['other messages still arrive', { interval: INTERVAL, timeout: TIMEOUT }, 'hello', true],
    ['custom isPong swallows its pongs', { interval: INTERVAL, timeout: TIMEOUT, isPong: (d) => d === '{"t":"hb"}' }, '{"t":"hb"}', false],
    ["custom isPong lets 'pong' through", { interval: INTERVAL, timeout: TIMEOUT, isPong: (d) => d === '{"t":"hb"}' }, 'pong', true],
    ["heartbeat off: 'pong' is a normal message", false, 'pong', true],
  ])('%s', async (_name, heartbeat, data, delivered) => {
    const ws = await openClient({ heartbeat });
    const typed: unknown[] = [];
    const dom: unknown[] = [];
    ws.on('message', (e) => typed.push(e.data));
    ws.onmessage = (ev) => dom.push(ev.data);
    FakeSocket.last.receive(data);
    expect(typed).toEqual(delivered ? [data] : []);
    expect(dom).toEqual(delivered ? [data] : []);
  });
});
