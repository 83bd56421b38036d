// Subprotocols and codecs in the client (SPEC.md §5): what is offered, what `ws.protocol`
// reports, which codec the negotiated protocol picks, and that a message that fails to decode
// is skipped with DECODE_ERROR while the connection lives on.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  jsonCodec,
  ResilientWebSocket,
  type ClientEvents,
  type Codec,
  type IncomingData,
  type Options,
  type ProtocolsProvider,
  type WireData,
} from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

const URL_ = 'wss://chat.example.com/ws';

type Msg = { type: string; n?: number };

const clients: Array<ResilientWebSocket<never, unknown>> = [];

function make<S = WireData, R = IncomingData>(protocols?: ProtocolsProvider, options: Options<S, R> = {}): ResilientWebSocket<S, R> {
  const ws = new ResilientWebSocket<S, R>(URL_, protocols, {
    WebSocket: FakeWebSocket,
    reconnect: { minDelay: 1000, jitter: 'none' },
    ...options,
  });
  clients.push(ws as unknown as ResilientWebSocket<never, unknown>);
  return ws;
}

/** Records one typed event's payloads. */
function record<S, R, K extends keyof ClientEvents<S, R>>(ws: ResilientWebSocket<S, R>, type: K): Array<ClientEvents<S, R>[K]> {
  const out: Array<ClientEvents<S, R>[K]> = [];
  ws.on(type, (p) => out.push(p));
  return out;
}

const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

/** A text codec that marks what it touched, so a test can tell codecs apart on the wire. */
const tagged = (tag: string): Codec<Msg, Msg> => ({
  encode: (m) => `${tag}:${JSON.stringify(m)}`,
  decode: (d) => {
    const text = String(d);
    if (!text.startsWith(`${tag}:`)) throw new Error(`not a ${tag} frame`);
    return JSON.parse(text.slice(tag.length + 1)) as Msg;
  },
});

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});

afterEach(() => {
  for (const ws of clients.splice(0)) if (ws.state !== 'closed' && ws.state !== 'closing') ws.close();
  vi.useRealTimers();
});

describe('offered subprotocols', () => {
  it.each<[string, ProtocolsProvider, string[]]>([
    ['nothing', undefined, []],
    ['a string', 'v1.chat', ['v1.chat']],
    ['an array', ['v2.chat', 'v1.chat'], ['v2.chat', 'v1.chat']],
    ['a sync provider', () => ['v2.chat', 'v1.chat'], ['v2.chat', 'v1.chat']],
    ['an async provider', async () => 'v1.chat', ['v1.chat']],
    ['a provider of undefined', () => undefined, []],
  ])('from %s', async (_, protocols, offered) => {
    make(protocols);
    await settle();
    expect(FakeSocket.last.protocols).toEqual(offered);
  });

  it('a provider is asked again before every attempt', async () => {
    let n = 0;
    make(() => [`v${++n}.chat`]);
    await settle();
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances.map((s) => s.protocols)).toEqual([['v1.chat'], ['v2.chat']]);
  });

  it.each<[string, unknown]>([
    ['a token with a space', 'v1 chat'],
    ['a token with a slash', ['v1/chat']],
    ['a duplicate', ['v1.chat', 'v1.chat']],
    ['an empty string', ''],
  ])('a static value with %s throws INVALID_OPTION (a SyntaxError, as natively) at construction', (_, protocols) => {
    let thrown: unknown;
    try {
      make(protocols as ProtocolsProvider);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ name: 'SyntaxError', code: 'INVALID_OPTION' });
  });

  it('a static number is offered as its String() form, as the native constructor does', async () => {
    make(42 as unknown as ProtocolsProvider);
    await settle();
    expect(FakeSocket.last.protocols).toEqual(['42']);
  });

  it('a provider that returns an invalid protocol fails the attempt with INVALID_OPTION and creates no socket', async () => {
    const ws = make(() => ['ok', 'not ok']);
    const errors = record(ws, 'error');
    await settle();
    expect(errors.map((e) => e.error.code)).toEqual(['INVALID_OPTION']);
    expect(FakeSocket.instances).toHaveLength(0);
    expect(ws.state).toBe('reconnecting');
  });

  it('a provider that throws fails the attempt with CONNECT_FAILED and is retried with backoff', async () => {
    let calls = 0;
    const ws = make(() => {
      if (++calls === 1) throw new Error('config not loaded');
      return 'v1.chat';
    });
    const errors = record(ws, 'error');
    const reconnecting = record(ws, 'reconnecting');
    await settle();
    expect(errors.map((e) => e.error.code)).toEqual(['CONNECT_FAILED']);
    expect(reconnecting.map((r) => r.delay)).toEqual([1000]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.last.protocols).toEqual(['v1.chat']);
  });
});

describe('ws.protocol', () => {
  it("is '' until open, then the one the server picked, also in the open event", async () => {
    const ws = make(['v2.chat', 'v1.chat']);
    const opens = record(ws, 'open');
    await settle();
    expect(ws.protocol).toBe('');
    FakeSocket.last.open('v1.chat');
    expect(ws.protocol).toBe('v1.chat');
    expect(opens).toEqual([{ protocol: 'v1.chat', extensions: '' }]);
  });

  it('follows what each new connection negotiated', async () => {
    const ws = make(['v2.chat', 'v1.chat']);
    await settle();
    FakeSocket.last.open('v2.chat');
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last.open('v1.chat');
    expect(ws.protocol).toBe('v1.chat');
  });
});

describe('jsonCodec', () => {
  it('round-trips values through JSON text', () => {
    const value = { type: 'chat', text: 'héllo 👋', n: [1, 2, { deep: null }] };
    const wire = jsonCodec.encode(value);
    expect(typeof wire).toBe('string');
    expect(jsonCodec.decode(wire as string)).toEqual(value);
  });

  it.each<[string, IncomingData]>([
    ['a binary frame', new ArrayBuffer(2)],
    ['a Blob', new Blob(['{}'])],
    ['invalid JSON', '{not json'],
  ])('throws on %s', (_, data) => {
    expect(() => jsonCodec.decode(data)).toThrow();
  });

  it('encodes what send() gets and decodes what arrives, for ws.on and onmessage', async () => {
    const ws = make<Msg, Msg>('v1.json', { codec: jsonCodec });
    const messages = record(ws, 'message');
    const dom: unknown[] = [];
    ws.onmessage = (ev) => dom.push(ev.data);
    await settle();
    FakeSocket.last.open('v1.json');
    expect(ws.send({ type: 'hello', n: 1 })).toBe('sent');
    expect(FakeSocket.last.sent).toEqual(['{"type":"hello","n":1}']);
    FakeSocket.last.receive('{"type":"welcome","n":2}');
    expect(messages).toEqual([{ data: { type: 'welcome', n: 2 } }]);
    expect(dom).toEqual([{ type: 'welcome', n: 2 }]);
  });
});

describe('codecs per negotiated subprotocol', () => {
  const codecs = { 'a.v1': tagged('A'), 'b.v1': tagged('B') };

  it.each([
    ['a.v1', 'A'],
    ['b.v1', 'B'],
  ])('picks the codec of %s for sending and receiving', async (protocol, tag) => {
    const ws = make<Msg, Msg>(['a.v1', 'b.v1'], { codecs });
    const messages = record(ws, 'message');
    await settle();
    FakeSocket.last.open(protocol);
    ws.send({ type: 'x' });
    FakeSocket.last.receive(`${tag}:{"type":"y"}`);
    expect(FakeSocket.last.sent).toEqual([`${tag}:{"type":"x"}`]);
    expect(messages).toEqual([{ data: { type: 'y' } }]);
  });

  it('falls back to codec when the negotiated protocol has no entry', async () => {
    const ws = make<Msg, Msg>(['c.v1'], { codecs, codec: tagged('F') });
    await settle();
    FakeSocket.last.open('c.v1');
    ws.send({ type: 'x' });
    expect(FakeSocket.last.sent).toEqual(['F:{"type":"x"}']);
  });

  it("falls back to codec when the server picked no protocol ('')", async () => {
    const ws = make<Msg, Msg>(['a.v1'], { codecs, codec: tagged('F') });
    await settle();
    FakeSocket.last.open('');
    ws.send({ type: 'x' });
    expect(FakeSocket.last.sent).toEqual(['F:{"type":"x"}']);
  });

  it('encodes messages queued before open with the codec the connection negotiated', async () => {
    const ws = make<Msg, Msg>(['a.v1', 'b.v1'], { codecs, codec: tagged('F') });
    ws.send({ type: 'early', n: 1 });
    ws.send({ type: 'early', n: 2 });
    await settle();
    FakeSocket.last.open('b.v1');
    expect(FakeSocket.last.sent).toEqual(['B:{"type":"early","n":1}', 'B:{"type":"early","n":2}']);
  });

  it('switches codec when a reconnection negotiates another protocol, re-encoding what was queued', async () => {
    const ws = make<Msg, Msg>(['a.v1', 'b.v1'], { codecs });
    await settle();
    FakeSocket.last.open('a.v1');
    FakeSocket.last.serverClose(1006);
    ws.send({ type: 'queued' });
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last.open('b.v1');
    ws.send({ type: 'after' });
    expect(FakeSocket.last.sent).toEqual(['B:{"type":"queued"}', 'B:{"type":"after"}']);
  });

  it('keeps every message queued before open when only codecs (no fallback codec) is given', async () => {
    const ws = make<Msg, Msg>(['a.v1'], { codecs });
    const drops = record(ws, 'drop');
    for (let n = 0; n < 3; n++) ws.send({ type: 'early', n });
    expect(ws.queuedMessages).toBe(3);
    expect(Number.isFinite(ws.queuedAmount)).toBe(true);
    await settle();
    FakeSocket.last.open('a.v1');
    expect(drops).toEqual([]);
    expect(FakeSocket.last.sent).toEqual([0, 1, 2].map((n) => `A:{"type":"early","n":${n}}`));
  });
});

describe('a message that fails to decode', () => {
  const setup = async (options: Options<Msg, Msg> = {}) => {
    const ws = make<Msg, Msg>('v1.json', { codec: jsonCodec, ...options });
    const messages = record(ws, 'message');
    const errors = record(ws, 'error');
    const closes = record(ws, 'close');
    const dom: unknown[] = [];
    ws.addEventListener('message', (ev) => dom.push(ev.data));
    await settle();
    FakeSocket.last.open('v1.json');
    return { ws, messages, errors, closes, dom };
  };

  it('emits error with DECODE_ERROR (the codec error as cause) and is skipped', async () => {
    const { messages, errors, dom } = await setup();
    FakeSocket.last.receive('{broken');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.code).toBe('DECODE_ERROR');
    expect(errors[0]!.error.cause).toBeInstanceOf(SyntaxError);
    expect(messages).toEqual([]);
    expect(dom).toEqual([]);
  });

  it('does not close the connection, and later messages arrive', async () => {
    const { ws, messages, closes } = await setup();
    FakeSocket.last.receive('{"type":"a"}');
    FakeSocket.last.receive('{broken');
    FakeSocket.last.receive(new ArrayBuffer(4));
    FakeSocket.last.receive('{"type":"b"}');
    expect(ws.state).toBe('open');
    expect(closes).toEqual([]);
    expect(FakeSocket.last.closedWith).toBeUndefined();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(messages.map((m) => m.data.type)).toEqual(['a', 'b']);
    expect(ws.send({ type: 'still works' })).toBe('sent');
  });

  it('names the frame kind in the error', async () => {
    const { errors } = await setup();
    FakeSocket.last.receive('{broken');
    FakeSocket.last.receive(new ArrayBuffer(4));
    expect(errors.map((e) => /\btext\b/.test(e.error.message) ? 'text' : /\bbinary\b/.test(e.error.message) ? 'binary' : '?')).toEqual(['text', 'binary']);
  });

  it('cannot pass the ready gate; the next good message can', async () => {
    const { ws } = await setup({ ready: (m) => m.type === 'welcome' });
    ws.send({ type: 'queued' });
    FakeSocket.last.receive('{"type":"welcome"');
    expect(FakeSocket.last.sent).toEqual([]);
    FakeSocket.last.receive('{"type":"welcome"}');
    expect(FakeSocket.last.sent).toEqual(['{"type":"queued"}']);
  });
});

describe('untyped callers without a codec (plain JavaScript)', () => {
  // v2: like the native send(), values with a sensible string form go out as String(value).
  it.each<[string, unknown, string]>([
    ['a number', 5, '5'],
    ['a boolean', true, 'true'],
    ['null', null, 'null'],
    ['a bigint', 12n, '12'],
  ])('queueing %s counts and sends its string form and drops nothing else', async (_, value, asText) => {
    const ws = make();
    const drops = record(ws, 'drop');
    ws.send('first');
    (ws.send as (d: unknown) => string)(value);
    ws.send('last');
    expect(ws.queuedMessages).toBe(3);
    expect(ws.queuedAmount).toBe('first'.length + asText.length + 'last'.length);
    await settle();
    FakeSocket.last.open();
    expect(drops).toEqual([]);
    expect(FakeSocket.last.sent).toEqual(['first', asText, 'last']);
  });

  // v2: a plain object without a codec is refused with INVALID_DATA (a TypeError), in every state.
  it('refuses a plain object with INVALID_DATA and queues nothing, before and after open', async () => {
    const ws = make();
    const drops = record(ws, 'drop');
    ws.send('first');
    const send = (d: unknown): unknown => (ws.send as (d: unknown) => string)(d);
    expect(() => send({ a: 1 })).toThrow(TypeError);
    expect(() => send({ a: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    expect(ws.queuedMessages).toBe(1);
    expect(ws.queuedAmount).toBe('first'.length);
    await settle();
    FakeSocket.last.open();
    expect(() => send({ a: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_DATA' }));
    expect(drops).toEqual([]);
    expect(FakeSocket.last.sent).toEqual(['first']);
  });
});

describe('a codec whose encode throws', () => {
  it('makes send() throw that error and queues nothing', async () => {
    const bad: Codec<Msg, Msg> = {
      encode: () => {
        throw new RangeError('too big');
      },
      decode: (d) => JSON.parse(String(d)) as Msg,
    };
    const ws = make<Msg, Msg>(undefined, { codec: bad });
    expect(() => ws.send({ type: 'x' })).toThrow(RangeError);
    expect(ws.queuedMessages).toBe(0);
  });
});
