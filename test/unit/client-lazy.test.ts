// `lazy`: the connection follows demand. No socket until the first `subscribe()`, one shared by
// every subscriber, closed `lingerMs` after the last one left; a user's close() wins over demand.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type Options } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { installFakePage } from '../support/fake-page.js';

const URL = 'wss://example.test/socket';
const DEFAULT_LINGER = 3000;
const clients: ResilientWebSocket<string, string>[] = [];

function client(options: Options<string, string> = {}): ResilientWebSocket<string, string> {
  const ws = new ResilientWebSocket<string, string>(URL, undefined, {
    WebSocket: FakeWebSocket,
    lazy: true,
    reconnect: { minDelay: 1000, jitter: 'none' },
    ...options,
  });
  clients.push(ws);
  return ws;
}

const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);
const noop = (): void => undefined;
const live = (): FakeSocket[] => FakeSocket.instances.filter((s) => s.readyState < 2 && s.onopen !== s.onclose);

/** A lazy client with one subscriber and an open socket. */
async function demanded(options: Options<string, string> = {}): Promise<{ ws: ResilientWebSocket<string, string>; off: () => void; socket: FakeSocket }> {
  const ws = client(options);
  const off = ws.subscribe(noop);
  await settle();
  const socket = FakeSocket.last;
  socket.open();
  return { ws, off, socket };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
  installFakePage();
});

afterEach(() => {
  for (const ws of clients.splice(0)) ws.close();
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('lazy', () => {
  it('opens no socket until the first subscribe()', async () => {
    const ws = client();
    await advance(60_000);
    expect(FakeSocket.instances).toEqual([]);
    expect(ws.state).toBe('closed');
    // Listeners and sends do not count as demand.
    ws.on('message', noop);
    ws.addEventListener('open', noop);
    await advance(1000);
    expect(FakeSocket.instances).toEqual([]);
    ws.subscribe(noop);
    expect(ws.state).toBe('connecting');
    await settle();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('a second subscriber shares the socket', async () => {
    const { ws, socket } = await demanded();
    ws.subscribe(noop);
    await advance(10_000);
    expect(FakeSocket.instances).toEqual([socket]);
    expect(ws.state).toBe('open');
  });

  it(`closes lingerMs (default ${DEFAULT_LINGER}) after the last subscriber left, with 1000 'idle'`, async () => {
    const { ws, off, socket } = await demanded();
    const off2 = ws.subscribe(noop);
    off();
    await advance(DEFAULT_LINGER * 2);
    expect(ws.state).toBe('open'); // one subscriber is left
    off2();
    await advance(DEFAULT_LINGER - 1);
    expect(ws.state).toBe('open');
    expect(socket.closedWith).toBeUndefined();
    await advance(1);
    expect(ws.state).toBe('closing');
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'idle' });
    socket.serverClose(1000, 'idle', true);
    expect(ws.state).toBe('closed');
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours a custom lazy.lingerMs', async () => {
    const { ws, off, socket } = await demanded({ lazy: { lingerMs: 500 } });
    off();
    await advance(499);
    expect(ws.state).toBe('open');
    await advance(1);
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'idle' });
  });

  it('a subscriber arriving within the linger keeps the same socket', async () => {
    const { ws, off, socket } = await demanded();
    off();
    await advance(DEFAULT_LINGER - 500);
    const off2 = ws.subscribe(noop);
    await advance(DEFAULT_LINGER * 10);
    expect(ws.state).toBe('open');
    expect(FakeSocket.instances).toEqual([socket]);
    expect(socket.closedWith).toBeUndefined();
    off2();
    await advance(DEFAULT_LINGER);
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'idle' });
  });

  it('a subscriber after the linger connects again', async () => {
    const { ws, off, socket } = await demanded();
    off();
    await advance(DEFAULT_LINGER);
    socket.serverClose(1000, 'idle', true);
    expect(ws.state).toBe('closed');
    ws.subscribe(noop);
    expect(ws.state).toBe('connecting');
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    expect(live()).toEqual([FakeSocket.last]);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('a subscriber arriving while the idle close runs reconnects at once', async () => {
    const { ws, off, socket } = await demanded();
    off();
    await advance(DEFAULT_LINGER);
    expect(ws.state).toBe('closing');
    ws.subscribe(noop);
    socket.serverClose(1000, 'idle', true);
    await settle();
    // Demand is back: the client does not stay closed with a subscriber waiting.
    expect(ws.state).not.toBe('closed');
    expect(live()).toHaveLength(1);
  });

  it("the user's close() stops demand-driven starts until reconnect()", async () => {
    const { ws, socket } = await demanded();
    ws.close();
    socket.serverClose(1005, '', true);
    expect(ws.state).toBe('closed');
    const off = ws.subscribe(noop);
    off();
    ws.subscribe(noop);
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(ws.state).toBe('closed');
    ws.reconnect();
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('after reconnect() demand steers again: the last subscriber leaving closes after the linger', async () => {
    const { ws, off, socket } = await demanded();
    ws.close();
    socket.serverClose(1005, '', true);
    ws.reconnect();
    await settle();
    FakeSocket.last.open();
    off();
    await advance(DEFAULT_LINGER);
    expect(FakeSocket.last.closedWith).toEqual({ code: 1000, reason: 'idle' });
  });
});
