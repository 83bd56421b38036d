// The store contract (SPEC §2): `subscribe(fn)` calls fn at once and after every change;
// `getSnapshot()` is frozen, the same object while nothing changed and a new one on change;
// messages never make snapshots; notifications from a burst are coalesced (one microtask).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type Options, type Snapshot } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { installFakePage, type FakePage } from '../support/fake-page.js';

const URL = 'wss://example.test/socket';
const RETRY = 1000;
let page: FakePage;
const clients: ResilientWebSocket<string, string>[] = [];

function client(options: Options<string, string> = {}): ResilientWebSocket<string, string> {
  const ws = new ResilientWebSocket<string, string>(URL, ['v1', 'v2'], {
    WebSocket: FakeWebSocket,
    reconnect: { minDelay: RETRY, maxDelay: 30_000, factor: 2, jitter: 'none' },
    ...options,
  });
  clients.push(ws);
  return ws;
}

const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

async function openClient(options: Options<string, string> = {}, protocol = 'v1'): Promise<{ ws: ResilientWebSocket<string, string>; socket: FakeSocket }> {
  const ws = client(options);
  await settle();
  const socket = FakeSocket.last;
  socket.open(protocol);
  return { ws, socket };
}

/** Subscribes and collects every snapshot it is given. */
function collect(ws: ResilientWebSocket<string, string>): { seen: Snapshot[]; off: () => void } {
  const seen: Snapshot[] = [];
  const off = ws.subscribe((s) => seen.push(s));
  return { seen, off };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
  page = installFakePage();
});

afterEach(() => {
  for (const ws of clients.splice(0)) ws.close();
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('subscribe()', () => {
  it('calls the subscriber at once with the current snapshot', () => {
    const ws = client();
    const { seen } = collect(ws);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(ws.getSnapshot());
    expect(seen[0]!.state).toBe('connecting');
  });

  it('calls it again after every change, with the snapshot of that moment, and never twice with the same one', async () => {
    const ws = client();
    const { seen } = collect(ws);
    await settle();
    FakeSocket.last.open('v1');
    FakeSocket.last.serverClose(1006);
    await advance(RETRY);
    FakeSocket.last.open('v2');
    ws.close();
    FakeSocket.last.serverClose(1005, '', true);
    await settle();
    const states = seen.map((s) => s.state);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'connecting', 'open', 'closing', 'closed']);
    seen.forEach((s, i) => i > 0 && expect(s).not.toBe(seen[i - 1]));
    expect(seen.at(-1)).toBe(ws.getSnapshot());
  });

  it('stops calling after unsubscribe', async () => {
    const ws = client();
    const { seen, off } = collect(ws);
    off();
    await settle();
    FakeSocket.last.open();
    ws.send('q');
    await settle();
    expect(seen).toHaveLength(1);
    off(); // a second call does nothing
  });

  it('refuses a subscriber that is not a function with INVALID_OPTION', () => {
    const ws = client();
    expect(() => ws.subscribe(42 as unknown as () => void)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', name: 'TypeError' }));
  });

  it('a subscriber that throws does not stop the others or the client', async () => {
    const ws = client();
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let armed = false;
    ws.subscribe(() => {
      if (armed) throw new Error('boom');
    });
    armed = true;
    const { seen } = collect(ws);
    await settle();
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    expect(seen.map((s) => s.state)).toEqual(['connecting', 'open']);
    expect(err).toHaveBeenCalled();
  });
});

describe('getSnapshot()', () => {
  it('is frozen', async () => {
    const ws = client();
    const s = ws.getSnapshot();
    expect(Object.isFrozen(s)).toBe(true);
    expect(() => {
      (s as { state: string }).state = 'open';
    }).toThrow(TypeError);
    await settle();
    FakeSocket.last.open();
    expect(Object.isFrozen(ws.getSnapshot())).toBe(true);
  });

  it('is the same object while nothing changed, and a new one on change', async () => {
    const { ws, socket } = await openClient();
    const a = ws.getSnapshot();
    expect(ws.getSnapshot()).toBe(a);
    socket.receive('hello');
    ws.send('sent straight out');
    expect(ws.getSnapshot()).toBe(a);
    socket.serverClose(1006);
    const b = ws.getSnapshot();
    expect(b).not.toBe(a);
    expect(ws.getSnapshot()).toBe(b);
  });

  it('has every field, each kept current', async () => {
    const ws = client();
    const s0 = ws.getSnapshot();
    expect(Object.keys(s0).sort()).toEqual(['attempt', 'lastClose', 'lastError', 'nextRetryAt', 'online', 'protocol', 'queuedBytes', 'queuedMessages', 'state']);
    expect(s0).toEqual({
      state: 'connecting',
      attempt: 0,
      nextRetryAt: null,
      lastClose: null,
      lastError: null,
      queuedMessages: 0,
      queuedBytes: 0,
      online: true,
      protocol: '',
    });
    await settle();
    ws.send('héllo'); // 6 UTF-8 bytes
    ws.send('abc');
    expect(ws.getSnapshot()).toMatchObject({ queuedMessages: 2, queuedBytes: 9 });
    FakeSocket.last.open('v2');
    expect(ws.getSnapshot()).toMatchObject({ state: 'open', protocol: 'v2', queuedMessages: 0, queuedBytes: 0 });
    const at = Date.now();
    FakeSocket.last.serverClose(4000, 'go away', true);
    expect(ws.getSnapshot()).toMatchObject({
      state: 'reconnecting',
      attempt: 1,
      nextRetryAt: at + RETRY,
      lastClose: { code: 4000, reason: 'go away', wasClean: true },
    });
    page.offline();
    await settle();
    expect(ws.getSnapshot()).toMatchObject({ online: false, nextRetryAt: null });
    page.online();
    await settle();
    expect(ws.getSnapshot()).toMatchObject({ online: true, state: 'connecting', nextRetryAt: null });
    await advance(10_000); // the connect timeout
    expect(ws.getSnapshot().lastError).toMatchObject({ code: 'CONNECT_TIMEOUT' });
    expect(ws.getSnapshot().attempt).toBe(2);
  });

  it('reports an error outside a move (a message that fails to decode) in lastError, and notifies', async () => {
    const { ws, socket } = await openClient({
      codec: {
        encode: (d: string) => d,
        decode: (d) => {
          throw new Error(`cannot decode ${String(d)}`);
        },
      },
    });
    const { seen } = collect(ws);
    socket.receive('x');
    await settle();
    expect(ws.getSnapshot().lastError).toMatchObject({ code: 'DECODE_ERROR' });
    expect(seen.at(-1)).toBe(ws.getSnapshot());
  });
});

describe('what does not make snapshots', () => {
  it('messages produce no snapshot and no notification', async () => {
    const { ws, socket } = await openClient();
    const { seen } = collect(ws);
    const before = ws.getSnapshot();
    for (let i = 0; i < 1000; i++) socket.receive(`m${i}`);
    await settle();
    expect(seen).toEqual([before]);
    expect(ws.getSnapshot()).toBe(before);
  });

  it('a burst of 10 000 sends while queued produces far fewer than 10 000 notifications', async () => {
    const ws = client({ queue: { maxMessages: 20_000 } });
    await settle();
    const { seen } = collect(ws);
    for (let i = 0; i < 10_000; i++) ws.send(`m${i}`);
    await settle();
    expect(ws.getSnapshot().queuedMessages).toBe(10_000);
    // One at subscribe, then one per microtask in which something changed.
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(seen.at(-1)!.queuedMessages).toBe(10_000);
  });
});

describe('subscribers that act', () => {
  it('a subscriber that calls close() when the client opens stops it for good, and the others see every step in order', async () => {
    const ws = client();
    ws.subscribe((s) => s.state === 'open' && ws.close());
    const { seen } = collect(ws);
    const moves: string[] = [];
    ws.on('statechange', ({ from, to }) => moves.push(`${from}>${to}`));
    await settle();
    FakeSocket.last.open();
    expect(ws.state).toBe('closing');
    FakeSocket.last.serverClose(1005, '', true);
    await advance(60_000);
    expect(moves).toEqual(['connecting>open', 'open>closing', 'closing>closed']);
    expect(seen.map((s) => s.state)).toEqual(['connecting', 'open', 'closing', 'closed']);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a subscriber that calls close() from a coalesced notification (a queued send) runs no listener inside its own call', async () => {
    const ws = client();
    await settle();
    let inside = false;
    const nested: string[] = [];
    ws.subscribe((s) => {
      if (s.queuedMessages === 1 && s.state === 'connecting') {
        inside = true;
        ws.close();
        inside = false;
      }
    });
    const { seen } = collect(ws);
    ws.on('statechange', ({ to }) => inside && nested.push(to));
    ws.on('drop', () => inside && nested.push('drop'));
    ws.send('q');
    await advance(10);
    expect(nested).toEqual([]);
    expect(ws.state).toBe('closing');
    FakeSocket.last.serverClose(1006); // the handshake the close() cut short ends
    expect(ws.state).toBe('closed');
    // The later subscriber sees the queued state first, then the close: never an older one last.
    expect(seen.map((s) => [s.state, s.queuedMessages])).toEqual([
      ['connecting', 0],
      ['connecting', 1],
      ['closing', 0],
      ['closed', 0],
    ]);
  });

  it('a subscriber that calls reconnect() while waiting to retry leaves one live socket', async () => {
    const { ws, socket } = await openClient();
    let once = true;
    ws.subscribe((s) => {
      if (s.state === 'reconnecting' && once) {
        once = false;
        ws.reconnect();
      }
    });
    const { seen } = collect(ws);
    socket.serverClose(1006);
    await settle();
    const live = FakeSocket.instances.filter((s) => s.readyState < 2 && s.onopen !== s.onclose);
    expect(live).toHaveLength(1);
    live[0]!.open();
    await advance(60_000);
    expect(ws.state).toBe('open');
    expect(FakeSocket.instances).toHaveLength(2);
    expect(seen.at(-1)).toBe(ws.getSnapshot());
  });
});
