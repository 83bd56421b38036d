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

  // As natively: no code means no status code in the close frame, so the server sees 1005.
  it('without a code calls the native close() without one, and reports the 1005 that comes back', async () => {
    const { ws, socket } = await openClient();
    const closes = record(ws, 'close');
    ws.close();
    expect(socket.closedWith).toEqual({ code: undefined, reason: undefined });
    socket.serverClose(1005, '', true);
    expect(closes).toEqual([{ code: 1005, reason: '', wasClean: true, willReconnect: false }]);
  });

  it('with a reason but no code sends 1000 and the reason', async () => {
    const { ws, socket } = await openClient();
    ws.close(undefined, 'bye');
    expect(socket.closedWith).toEqual({ code: 1000, reason: 'bye' });
  });

  it.each([999, 1001, 1005, 1006, 1015, 2999, 5000, 1000.5, Number.NaN, Infinity, -1])(
    'rejects code %s with INVALID_CLOSE_CODE (an InvalidAccessError, as natively) naming it, and stays open',
    async (code) => {
      const { ws, socket } = await openClient();
      expect(() => ws.close(code)).toThrow(
        expect.objectContaining({ name: 'InvalidAccessError', code: 'INVALID_CLOSE_CODE', message: expect.stringContaining(String(code)) }),
      );
      expect(() => ws.close(code)).toThrow(DOMException);
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
  ])('rejects a reason of %s with INVALID_REASON (a SyntaxError, as natively) naming its size', async (_label, reason) => {
    const { ws, socket } = await openClient();
    expect(() => ws.close(1000, reason)).toThrow(
      expect.objectContaining({ name: 'SyntaxError', code: 'INVALID_REASON', message: expect.stringContaining('124') }),
    );
    expect(() => ws.close(1000, reason)).toThrow(DOMException);
    expect(ws.state).toBe('open');
    expect(socket.closedWith).toBeUndefined();
  });

  // The native close() converts the reason with String(); so does the client.
  it('converts a reason that is not a string with String()', async () => {
    const { ws, socket } = await openClient();
    ws.close(1000, 42 as unknown as string);
    expect(socket.closedWith).toEqual({ code: 1000, reason: '42' });
  });

  it('measures a converted reason too', async () => {
    const { ws, socket } = await openClient();
    const long = { toString: () => 'a'.repeat(124) } as unknown as string;
    expect(() => ws.close(1000, long)).toThrow(expect.objectContaining({ code: 'INVALID_REASON' }));
    expect(socket.closedWith).toBeUndefined();
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

  // Natively, close() during the handshake fails the connection: error, then close 1006.
  it('closes while a socket is connecting: closing at once, then error and close 1006 from the native close event', async () => {
    const ws = client();
    await settle();
    const socket = FakeSocket.last;
    const states = moves(ws);
    const closes = record(ws, 'close');
    const dom: string[] = [];
    ws.addEventListener('error', () => dom.push(`error in ${ws.state}`));
    ws.addEventListener('close', (ev) => dom.push(`close ${ev.code} ${ev.wasClean}`));
    ws.close(4000, 'never mind');
    expect(ws.state).toBe('closing');
    expect(ws.readyState).toBe(ws.CLOSING);
    expect(socket.closedWith).toEqual({ code: 4000, reason: 'never mind' });
    expect(closes).toEqual([]);
    socket.serverClose(1006);
    expect(ws.state).toBe('closed');
    expect(states).toEqual(['connecting→closing', 'closing→closed']);
    expect(closes).toEqual([{ code: 1006, reason: '', wasClean: false, willReconnect: false }]);
    expect(dom).toEqual(['error in closed', 'close 1006 false']);
    socket.open();
    expect(ws.state).toBe('closed');
  });

  it('closes while a socket is connecting and lets go after CLOSE_TIMEOUT_MS if no close event comes', async () => {
    const ws = client();
    await settle();
    const closes = record(ws, 'close');
    ws.close();
    await advance(CLOSE_TIMEOUT_MS - 1);
    expect(ws.state).toBe('closing');
    await advance(1);
    expect(ws.state).toBe('closed');
    expect(closes).toEqual([{ code: 1006, reason: 'close timeout', wasClean: false, willReconnect: false }]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('closes before the first attempt: closing at once, a task later error and close 1006; no socket is ever created', async () => {
    const ws = client();
    const states = moves(ws);
    const closes = record(ws, 'close');
    const errors: number[] = [];
    ws.onerror = () => errors.push(ws.readyState);
    ws.close(4000);
    expect(ws.state).toBe('closing');
    expect(ws.readyState).toBe(ws.CLOSING);
    await settle();
    expect(ws.state).toBe('closed');
    expect(states).toEqual(['connecting→closing', 'closing→closed']);
    expect(errors).toEqual([ws.CLOSED]);
    expect(closes).toEqual([{ code: 1006, reason: '', wasClean: false, willReconnect: false }]);
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('closes while waiting to reconnect: closing at once, a task later closed with the user’s code', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    socket.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    const states = moves(ws);
    const closes = record(ws, 'close');
    ws.close(4000, 'bye');
    expect(ws.state).toBe('closing');
    expect(closes).toEqual([]);
    await settle();
    expect(ws.state).toBe('closed');
    expect(states).toEqual(['reconnecting→closing', 'closing→closed']);
    expect(closes).toEqual([{ code: 4000, reason: 'bye', wasClean: true, willReconnect: false }]);
  });

  it('closes while waiting to reconnect without a code: the close reports 1005', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    socket.serverClose(1006);
    const closes = record(ws, 'close');
    ws.close();
    await settle();
    expect(closes).toEqual([{ code: 1005, reason: '', wasClean: true, willReconnect: false }]);
  });

  it('is a no-op the second time', async () => {
    const { ws, socket } = await openClient();
    const states = moves(ws);
    ws.close();
    ws.close(4000);
    expect(socket.closedWith).toEqual({ code: undefined, reason: undefined });
    socket.serverClose(1000);
    ws.close();
    expect(states).toEqual(['open→closing', 'closing→closed']);
  });

  // The native send() does not throw after close() either: the message is dropped, and said so.
  it("makes send() drop the message (drop 'closed', never a throw) while closing and once closed", async () => {
    const { ws, socket } = await openClient();
    const drops = record(ws, 'drop');
    ws.close();
    expect(ws.send('x')).toBe('dropped');
    socket.serverClose(1000);
    expect(ws.send('y')).toBe('dropped');
    expect(drops).toEqual([
      { data: 'x', reason: 'closed' },
      { data: 'y', reason: 'closed' },
    ]);
    expect(socket.sent).toEqual([]);
    expect(ws.queuedMessages).toBe(0);
  });

  it('still refuses bad data after close() with INVALID_DATA', async () => {
    const { ws } = await openClient();
    ws.close();
    expect(() => ws.send(undefined as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_DATA', name: 'TypeError' }));
  });
});

describe('close() and reconnect() from inside listeners', () => {
  it('close() in onclose of a dropped connection stops the retry', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const reconnecting = record(ws, 'reconnecting');
    ws.onclose = () => ws.close();
    socket.serverClose(1006);
    // close() from the listener takes effect at once; the superseded `reconnecting` announcement is skipped.
    expect(ws.state).toBe('closing');
    expect(reconnecting).toEqual([]);
    await settle();
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
    expect(ws.state).toBe('closing');
    await settle();
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
      'while a socket is connecting (which answers with its close event)',
      async () => {
        const ws = client();
        await settle();
        const socket = FakeSocket.last;
        // A native socket answers close() during its handshake with a close event; FakeSocket needs a push.
        ws.on('statechange', ({ to }) => to === 'closing' && queueMicrotask(() => socket.serverClose(1006)));
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
    await settle();
    expect(ws.state).toBe('closed');
    ws.close();
    expect(ws.state).toBe('closed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close() with queued messages that have a ttl', async () => {
    const ws = client({ reconnect: exact });
    ws.send('later', { ttl: 60_000 });
    await settle();
    ws.close();
    // Only the close timeout is left (the expiry timer went with the queue), until the close event.
    expect(vi.getTimerCount()).toBe(1);
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('closed');
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
