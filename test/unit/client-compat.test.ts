// SPEC §2: code written for the native WebSocket works unchanged.
import { describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket } from '../../src/index.js';
import { advance, client, exact, FakeSocket, openClient, settle, useFakeClock, WS_URL } from './client-harness.js';

useFakeClock();

describe('constants', () => {
  it.each([
    ['CONNECTING', 0],
    ['OPEN', 1],
    ['CLOSING', 2],
    ['CLOSED', 3],
  ] as const)('%s is %i, static and on the instance', (name, value) => {
    expect(ResilientWebSocket[name]).toBe(value);
    expect(client()[name]).toBe(value);
  });
});

describe('readyState', () => {
  it('is CONNECTING while connecting', async () => {
    const ws = client();
    expect(ws.readyState).toBe(ws.CONNECTING);
    await settle();
    expect(ws.readyState).toBe(ws.CONNECTING);
  });

  it('is OPEN while open', async () => {
    const { ws } = await openClient();
    expect(ws.readyState).toBe(ws.OPEN);
  });

  it('is CONNECTING while waiting to reconnect', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    socket.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    expect(ws.readyState).toBe(ws.CONNECTING);
  });

  it('is CLOSING after close() until the server answers, then CLOSED', async () => {
    const { ws, socket } = await openClient();
    ws.close();
    expect(ws.readyState).toBe(ws.CLOSING);
    socket.serverClose(1000);
    expect(ws.readyState).toBe(ws.CLOSED);
  });
});

describe('message events', () => {
  it('delivers a real MessageEvent with the data to onmessage, with the client as this', async () => {
    const { ws, socket } = await openClient();
    const got: Array<{ ev: MessageEvent; self: unknown }> = [];
    ws.onmessage = function (ev) {
      got.push({ ev, self: this });
    };
    socket.receive('hello');
    expect(got).toHaveLength(1);
    expect(got[0]!.ev).toBeInstanceOf(MessageEvent);
    expect(got[0]!.ev.type).toBe('message');
    expect(got[0]!.ev.data).toBe('hello');
    expect(got[0]!.self).toBe(ws);
  });

  it('delivers a real MessageEvent with the data to addEventListener("message")', async () => {
    const { ws, socket } = await openClient();
    const got: MessageEvent[] = [];
    ws.addEventListener('message', (ev) => got.push(ev));
    const bytes = new Uint8Array([1, 2, 3]).buffer;
    socket.receive(bytes);
    expect(got).toHaveLength(1);
    expect(got[0]).toBeInstanceOf(MessageEvent);
    expect(got[0]!.data).toBe(bytes);
  });

  it('delivers each message once to onmessage, a listener and the typed API', async () => {
    const { ws, socket } = await openClient();
    const seen: string[] = [];
    ws.onmessage = (ev) => seen.push(`on:${String(ev.data)}`);
    ws.addEventListener('message', (ev) => seen.push(`listener:${String(ev.data)}`));
    ws.on('message', ({ data }) => seen.push(`typed:${String(data)}`));
    socket.receive('a');
    socket.receive('b');
    expect(seen.sort()).toEqual(['listener:a', 'listener:b', 'on:a', 'on:b', 'typed:a', 'typed:b']);
  });

  it('stops calling a listener after removeEventListener', async () => {
    const { ws, socket } = await openClient();
    const listener = vi.fn();
    ws.addEventListener('message', listener);
    socket.receive('one');
    ws.removeEventListener('message', listener);
    socket.receive('two');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('stops calling onmessage after it is set to null, and reads back what was set', async () => {
    const { ws, socket } = await openClient();
    const handler = vi.fn();
    ws.onmessage = handler;
    expect(ws.onmessage).toBe(handler);
    socket.receive('one');
    ws.onmessage = null;
    expect(ws.onmessage).toBeNull();
    socket.receive('two');
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('replaces the previous onmessage instead of adding another', async () => {
    const { ws, socket } = await openClient();
    const first = vi.fn();
    const second = vi.fn();
    ws.onmessage = first;
    ws.onmessage = second;
    socket.receive('x');
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });
});

describe('open, close and error events', () => {
  it('calls onopen and open listeners with an Event', async () => {
    const ws = client();
    const onopen = vi.fn();
    const listener = vi.fn();
    ws.onopen = onopen;
    ws.addEventListener('open', listener);
    await settle();
    expect(onopen).not.toHaveBeenCalled();
    FakeSocket.last.open();
    expect(onopen).toHaveBeenCalledTimes(1);
    expect(onopen.mock.calls[0]![0]).toBeInstanceOf(Event);
    expect((onopen.mock.calls[0]![0] as Event).type).toBe('open');
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('calls onclose with a CloseEvent-like event carrying code, reason and wasClean', async () => {
    const { ws, socket } = await openClient();
    const events: CloseEvent[] = [];
    ws.onclose = (ev) => events.push(ev);
    ws.close(4000, 'bye');
    socket.serverClose(4000, 'bye', true);
    expect(events).toHaveLength(1);
    expect(events[0]).toBeInstanceOf(Event);
    expect(events[0]!.type).toBe('close');
    expect({ code: events[0]!.code, reason: events[0]!.reason, wasClean: events[0]!.wasClean }).toEqual({ code: 4000, reason: 'bye', wasClean: true });
  });

  it('calls onclose for every dropped connection, also ones that will be retried', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const codes: number[] = [];
    ws.addEventListener('close', (ev) => codes.push(ev.code));
    socket.serverClose(1011, 'crash');
    await advance(1000);
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    expect(codes).toEqual([1011, 1006]);
    expect(ws.state).toBe('reconnecting');
  });

  it('calls onerror with an Event when the connection fails', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const onerror = vi.fn();
    ws.onerror = onerror;
    socket.serverClose(1006);
    expect(onerror).toHaveBeenCalledTimes(1);
    expect((onerror.mock.calls[0]![0] as Event).type).toBe('error');
  });

  it('calls onerror before onclose, as the browser does', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    const order: string[] = [];
    ws.onerror = () => order.push('error');
    ws.onclose = () => order.push('close');
    socket.serverClose(1006);
    expect(order).toEqual(['error', 'close']);
  });

  it('dispatches events sent with dispatchEvent to listeners', () => {
    const ws = client();
    const listener = vi.fn();
    ws.addEventListener('custom', listener);
    expect(ws.dispatchEvent(new Event('custom'))).toBe(true);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('is an EventTarget', () => {
    expect(client()).toBeInstanceOf(EventTarget);
  });
});

describe('typed events', () => {
  it('on() returns a function that unsubscribes', async () => {
    const { ws, socket } = await openClient();
    const handler = vi.fn();
    const off = ws.on('message', handler);
    socket.receive('one');
    off();
    socket.receive('two');
    expect(handler).toHaveBeenCalledTimes(1);
    expect(handler).toHaveBeenCalledWith({ data: 'one' });
  });

  it('keeps other subscribers of the same event after one unsubscribes', async () => {
    const { ws, socket } = await openClient();
    const kept = vi.fn();
    const off = ws.on('message', () => undefined);
    ws.on('message', kept);
    off();
    socket.receive('x');
    expect(kept).toHaveBeenCalledTimes(1);
  });
});

describe('binaryType', () => {
  it('defaults to blob and is applied to the native socket', async () => {
    const ws = client();
    await settle();
    expect(ws.binaryType).toBe('blob');
    expect(FakeSocket.last.binaryType).toBe('blob');
  });

  it('applies the binaryType option to every new native socket', async () => {
    client({ binaryType: 'arraybuffer', reconnect: exact });
    await settle();
    FakeSocket.last.serverClose(1006);
    await advance(1000);
    expect(FakeSocket.instances.map((s) => s.binaryType)).toEqual(['arraybuffer', 'arraybuffer']);
  });

  it('applies a binaryType set later to the current socket and every later one', async () => {
    const { ws, socket } = await openClient({ reconnect: exact });
    ws.binaryType = 'arraybuffer';
    expect(socket.binaryType).toBe('arraybuffer');
    socket.serverClose(1006);
    await advance(1000);
    expect(FakeSocket.last).not.toBe(socket);
    expect(FakeSocket.last.binaryType).toBe('arraybuffer');
    ws.reconnect();
    await settle();
    expect(FakeSocket.instances).toHaveLength(3);
    expect(FakeSocket.last.binaryType).toBe('arraybuffer');
  });

  it('ignores a bad value, as the native setter does', async () => {
    const { ws, socket } = await openClient();
    ws.binaryType = 'nodebuffer' as BinaryType;
    expect(ws.binaryType).toBe('blob');
    expect(socket.binaryType).toBe('blob');
  });
});

describe('url, protocol, extensions', () => {
  it('shows the normalized URL at once', () => {
    expect(client({}, 'https://example.test/live').url).toBe('wss://example.test/live');
  });

  it('passes the URL to the native constructor', async () => {
    client();
    await settle();
    expect(FakeSocket.last.url).toBe(WS_URL);
  });

  it('passes string protocols to the native constructor as an array', async () => {
    client({}, WS_URL, 'chat.v1');
    await settle();
    expect(FakeSocket.last.protocols).toEqual(['chat.v1']);
  });

  it('rejects bad protocols in the constructor with INVALID_OPTION', () => {
    expect(() => client({}, WS_URL, ['chat', 'chat'])).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => client({}, WS_URL, 'has space')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });

  it('rejects a bad URL in the constructor with INVALID_URL', () => {
    expect(() => client({}, 'ftp://example.test/')).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    expect(() => client({}, 'wss://example.test/#x')).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
    expect(() => client({}, 42 as unknown as string)).toThrow(expect.objectContaining({ code: 'INVALID_URL' }));
  });

  it('shows the protocol and extensions the server picked, empty before open', async () => {
    const ws = client({}, WS_URL, ['chat.v2', 'chat.v1']);
    await settle();
    expect(ws.protocol).toBe('');
    expect(ws.extensions).toBe('');
    FakeSocket.last.extensions = 'permessage-deflate';
    FakeSocket.last.open('chat.v1');
    expect(ws.protocol).toBe('chat.v1');
    expect(ws.extensions).toBe('permessage-deflate');
  });

  it('updates the protocol on every new connection', async () => {
    const { ws, socket } = await openClient({ reconnect: exact }, 'v1');
    socket.serverClose(1006);
    await advance(1000);
    FakeSocket.last.open('v2');
    expect(ws.protocol).toBe('v2');
  });

  it('needs a WebSocket where there is no global one', () => {
    expect(typeof (globalThis as { WebSocket?: unknown }).WebSocket).toBe('undefined');
    expect(() => new ResilientWebSocket(WS_URL)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('options.WebSocket') }));
  });
});
