// close(): argument validation (SPEC §7), the closing handshake, and no timer left behind.
import { describe, expect, it, vi } from 'vitest';
import { CLOSE_TIMEOUT_MS } from '../../src/constants.js';
import { advance, client, exact, FakeSocket, moves, openClient, record, settle, useFakeClock } from './client-harness.js';

useFakeClock();

describe('close() arguments', () => {
  it.each([1000, 3000, 3001, 4000, 4999])('accepts code %i and passes it to the native socket', async (code) => {
    const { ws, socket } = await openClient();
    ws.close(code, 'bye');
    expect(socket.closedWith).toEqual({ code, reason: 'bye' });
  });

  it('defaults to code 1000 and an empty reason', async () => {
    const { ws, socket } = await openClient();
    ws.close();
    expect(socket.closedWith).toEqual({ code: 1000, reason: '' });
  });

  it.each([999, 1001, 1005, 1006, 1015, 2999, 5000, 1000.5, Number.NaN, Infinity, -1])(
    'rejects code %s with INVALID_CLOSE_CODE naming it, and stays open',
    async (code) => {
      const { ws, socket } = await openClient();
      expect(() => ws.close(code)).toThrow(
        expect.objectContaining({ name: 'ResilientWebSocketError', code: 'INVALID_CLOSE_CODE', message: expect.stringContaining(String(code)) }),
      );
      expect(ws.state).toBe('open');
      expect(socket.closedWith).toBeUndefined();
    },
  );

  it.each([
    ['123 ASCII bytes', 'a'.repeat(123)],
    ['41 three-byte chars (123 bytes)', '€'.repeat(41)],
    ['61 two-byte chars and one byte (123 bytes)', 'é'.repeat(61) + 'x'],
    ['30 four-byte chars and 3 bytes (123 bytes)', '😀'.repeat(30) + 'abc'],
  ])('accepts a reason of %s', async (_label, reason) => {
    const { ws, socket } = await openClient();
    ws.close(1000, reason);
    expect(socket.closedWith).toEqual({ code: 1000, reason });
  });

  it.each([
    ['124 ASCII bytes', 'a'.repeat(124)],
    ['41 three-byte chars and one byte (124 bytes)', '€'.repeat(41) + 'x'],
    ['62 two-byte chars (124 bytes)', 'é'.repeat(62)],
    ['31 four-byte chars (124 bytes, 62 UTF-16 units)', '😀'.repeat(31)],
  ])('rejects a reason of %s with INVALID_REASON naming its size', async (_label, reason) => {
    const { ws, socket } = await openClient();
    expect(() => ws.close(1000, reason)).toThrow(expect.objectContaining({ code: 'INVALID_REASON', message: expect.stringContaining('124') }));
    expect(ws.state).toBe('open');
    expect(socket.closedWith).toBeUndefined();
  });

  it('rejects a reason that is not a string', async () => {
    const { ws } = await openClient();
    expect(() => ws.close(1000, 42 as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_REASON' }));
  });
});

describe('closing', () => {
  it('goes open → closing → closed when the server answers, with one close event', async () => {
    const { ws, socket } = await openClient();
    const states = moves(ws);
    const closes = record(ws, 'close');
    const dom: CloseEvent[] = [];
    ws.addEventListener('close', (ev) => dom.push(ev));
    ws.close(4001, 'logout');
    expect(ws.state).toBe('closing');
    expect(closes).toEqual([]);
    socket.serverClose(4001, 'logout', true);
    expect(states).toEqual(['open→closing', 'closing→closed']);
    expect(closes).toEqual([{ code: 4001, reason: 'logout', wasClean: true, willReconnect: false }]);
    expect(dom.map((e) => e.code)).toEqual([4001]);
  });

  it('lets go after CLOSE_TIMEOUT_MS when the server never answers', async () => {
    const { ws } = await openClient();
    const closes = record(ws, 'close');
    ws.close();
    await advance(CLOSE_TIMEOUT_MS - 1);
    expect(ws.state).toBe('closing');
    await advance(1);
    expect(ws.state).toBe('closed');
    expect(closes).toEqual([{ code: 1006, reason: 'close timeout', wasClean: false, willReconnect: false }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes while connecting: the attempt is dropped and closed reports the user’s code', async () => {
    const ws = client();
    await settle();
    const socket = FakeSocket.last;
    const closes = record(ws, 'close');
    ws.close(4000, 'never mind');
    expect(ws.state).toBe('closed');
    expect(socket.closedWith).toBeDefined();
    expect(closes).toEqual([{ code: 4000, reason: 'never mind', wasClean: true, willReconnect: false }]);
    socket.open();
    expect(ws.state).toBe('closed');
  });

  it('closes before the first attempt: no socket is ever created', async () => {
    const ws = client();
    ws.close();
    await settle();
    expect(ws.state).toBe('closed');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('is a no-op the second time', async () => {
    const { ws, socket } = await openClient();
    const states = moves(ws);
    ws.close();
    ws.close(4000);
    expect(socket.closedWith).toEqual({ code: 1000, reason: '' });
    socket.serverClose(1000);
    ws.close();
    expect(states).toEqual(['open→closing', 'closing→closed']);
  });

  it('makes send() throw CLOSED while closing and once closed', async () => {
    const { ws, socket } = await openClient();
    ws.close();
    expect(() => ws.send('x')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    socket.serverClose(1000);
    expect(() => ws.send('x')).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });
});

describe('close() and reconnect() from inside listeners', () => {
  it('close() in onclose of a dropped connection stops the retry', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const reconnecting = record(ws, 'reconnecting');
    ws.onclose = () => ws.close();
    socket.serverClose(1006);
    expect(ws.state).toBe('closed');
    expect(reconnecting).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('close() in a reconnecting listener stops the retry', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    ws.on('reconnecting', () => ws.close());
    socket.serverClose(1011);
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('reconnect() in a giveup listener connects again', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    let once = true;
    ws.on('giveup', () => {
      if (once) ws.reconnect();
      once = false;
    });
    socket.serverClose(1002);
    expect(ws.state).toBe('connecting');
    await settle();
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });

  it('close() in an open listener leaves the client closing, not open', async () => {
    const ws = client();
    ws.on('open', () => ws.close(4000, 'not now'));
    await settle();
    const socket = FakeSocket.last;
    socket.open();
    expect(ws.state).toBe('closing');
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'not now' });
    socket.serverClose(4000, 'not now');
    expect(ws.state).toBe('closed');
  });
});

describe('no timers left behind', () => {
  it.each([
    ['before the first attempt', async () => client()],
    [
      'while a socket is connecting',
      async () => {
        const ws = client();
        await settle();
        return ws;
      },
    ],
    [
      'while reconnecting',
      async () => {
        const { ws, socket } = await openClient({ reconnect: exact });
        socket.serverClose(1006);
        return ws;
      },
    ],
    [
      'while a provider is pending',
      async () => {
        const ws = client({}, () => new Promise<string>(() => undefined));
        await settle();
        return ws;
      },
    ],
  ])('after close() %s, and no attempt runs later', async (_label, setup) => {
    const ws = await setup();
    ws.close();
    await settle();
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
    const sockets = FakeSocket.instances.length;
    await advance(120_000);
    expect(FakeSocket.instances).toHaveLength(sockets);
  });

  it('after close() while open, once the server answered', async () => {
    const { ws, socket } = await openClient({ heartbeat: { interval: 1000, timeout: 500 } });
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    ws.close();
    socket.serverClose(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close() while closing', async () => {
    const { ws, socket } = await openClient();
    ws.close();
    ws.close();
    socket.serverClose(1000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close() once closed', async () => {
    const ws = client();
    ws.close();
    ws.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close() with queued messages that have a ttl', async () => {
    const ws = client({ reconnect: exact });
    ws.send('later', { ttl: 60_000 });
    await settle();
    ws.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after a give-up on a fatal close code', async () => {
    const { socket } = await openClient({ heartbeat: { interval: 1000, timeout: 500 } });
    socket.serverClose(1002);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after a give-up on maxRetries', async () => {
    const ws = client({ reconnect: { ...exact, maxRetries: 1, connectTimeout: 500 } });
    const giveups = record(ws, 'giveup');
    await advance(500);
    await advance(1000);
    await advance(500);
    expect(giveups).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
