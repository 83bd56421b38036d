// Type tests of the public API: `tsc --strict` (npm run typecheck) checks the expectTypeOf calls
// and fails on every `@ts-expect-error` line that stops being an error. The runtime half checks
// that the typed values are what the client really delivers.
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  jsonCodec,
  ResilientWebSocket,
  type AuthOptions,
  type ClientEvents,
  type CloseInfo,
  type Codec,
  type ErrorCode,
  type GiveupReason,
  type IncomingData,
  type Options,
  type ResilientWebSocketError,
  type SendResult,
  type State,
  type TokenRequest,
  type WireData,
} from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

type Msg = { type: string };
const URL_ = 'wss://example.com/ws';

const clients: Array<{ close(): void; state: State }> = [];
function track<T extends { close(): void; state: State }>(ws: T): T {
  clients.push(ws);
  return ws;
}

/** Type-checks `check` without running it: for the lines that must not compile. */
const compileOnly = (_check: () => unknown): void => undefined;

afterEach(() => {
  for (const ws of clients.splice(0)) if (ws.state !== 'closed') ws.close();
  FakeSocket.reset();
});

describe('send and message types follow the codec', () => {
  it('jsonCodec fits explicit message types without a cast', async () => {
    const ws = track(new ResilientWebSocket<Msg, Msg>(URL_, [], { WebSocket: FakeWebSocket, codec: jsonCodec }));
    expectTypeOf(ws.send).parameter(0).toEqualTypeOf<Msg>();
    expectTypeOf(ws.send({ type: 'hi' })).toEqualTypeOf<SendResult>();
    compileOnly(() => {
      // @ts-expect-error -- a number is not a Msg
      ws.send(123);
      // @ts-expect-error -- a Msg needs `type`
      ws.send({ kind: 'hi' });
    });
    const got: Msg[] = [];
    ws.on('message', (e) => {
      expectTypeOf(e.data).toEqualTypeOf<Msg>();
      got.push(e.data);
    });
    ws.onmessage = (ev) => expectTypeOf(ev.data).toEqualTypeOf<Msg>();
    ws.on('drop', (e) => expectTypeOf(e.data).toEqualTypeOf<Msg>());
    ws.on('ready', (e) => expectTypeOf(e.data).toEqualTypeOf<Msg | undefined>());
    await vi.waitFor(() => FakeSocket.last);
    FakeSocket.last.open();
    FakeSocket.last.receive('{"type":"welcome"}');
    expect(got).toEqual([{ type: 'welcome' }]);
  });

  it('a typed codec infers both type parameters', () => {
    const codec: Codec<Msg, number> = { encode: (m) => m.type, decode: (d) => String(d).length };
    const ws = track(new ResilientWebSocket(URL_, [], { WebSocket: FakeWebSocket, codec }));
    expectTypeOf(ws).toEqualTypeOf<ResilientWebSocket<Msg, number>>();
    ws.on('message', (e) => expectTypeOf(e.data).toEqualTypeOf<number>());
    // @ts-expect-error -- the codec encodes Msg, not strings
    compileOnly(() => ws.send('raw'));
    expect(ws.send({ type: 'queued' })).toBe('queued');
  });

  it('codecs per protocol and ready() take the same types', () => {
    const options: Options<Msg, Msg> = {
      WebSocket: FakeWebSocket,
      codecs: { 'v1.json': jsonCodec },
      ready: (m) => {
        expectTypeOf(m).toEqualTypeOf<Msg>();
        return m.type === 'welcome';
      },
    };
    // @ts-expect-error -- a codec for other types does not fit
    const wrong: Options<Msg, Msg> = { codecs: { v1: { encode: (n: number) => String(n), decode: () => 1 } } };
    expect(wrong.codecs).toBeDefined();
    const ws = track(new ResilientWebSocket<Msg, Msg>(URL_, 'v1.json', options));
    expect(ws.readyState).toBe(ws.CONNECTING);
  });

  it('without a codec, send takes wire data and message delivers incoming data', () => {
    const ws = track(new ResilientWebSocket(URL_, undefined, { WebSocket: FakeWebSocket }));
    expectTypeOf(ws).toEqualTypeOf<ResilientWebSocket<WireData, IncomingData>>();
    ws.send('text');
    ws.send(new Uint8Array(2));
    ws.send(new ArrayBuffer(2));
    // @ts-expect-error -- objects need a codec
    compileOnly(() => ws.send({ type: 'x' }));
    ws.on('message', (e) => expectTypeOf(e.data).toEqualTypeOf<IncomingData>());
    expect(ws.queuedMessages).toBe(3);
  });

  it('jsonCodec alone leaves inferred data unknown, so it must be narrowed before use', () => {
    const ws = track(new ResilientWebSocket(URL_, [], { WebSocket: FakeWebSocket, codec: jsonCodec }));
    ws.on('message', (e) => expectTypeOf(e.data).toBeUnknown());
    expectTypeOf(jsonCodec.decode<Msg>).returns.toEqualTypeOf<Msg>();
    expect(ws.send({ anything: true })).toBe('queued');
  });
});

describe('typed events', () => {
  it('ws.on knows every event name and payload', () => {
    const ws = track(new ResilientWebSocket(URL_, [], { WebSocket: FakeWebSocket }));
    compileOnly(() => {
      // @ts-expect-error -- not an event
      ws.on('nope', () => undefined);
      // @ts-expect-error -- the DOM name is 'message', the typed map has no 'onmessage'
      ws.on('onmessage', () => undefined);
    });
    ws.on('reconnecting', (e) => {
      expectTypeOf(e.delay).toEqualTypeOf<number | null>();
      expectTypeOf(e.attempt).toEqualTypeOf<number>();
      expectTypeOf(e.closeEvent).toEqualTypeOf<CloseInfo | undefined>();
    });
    ws.on('statechange', (e) => expectTypeOf(e.to).toEqualTypeOf<State>());
    ws.on('close', (e) => expectTypeOf(e.willReconnect).toEqualTypeOf<boolean>());
    ws.on('giveup', (e) => {
      expectTypeOf(e.reason).toEqualTypeOf<GiveupReason>();
      expectTypeOf(e.error).toEqualTypeOf<ResilientWebSocketError>();
    });
    ws.on('error', (e) => expectTypeOf(e.error.code).toEqualTypeOf<ErrorCode>());
    ws.on('warning', (e) => expectTypeOf(e.code).toEqualTypeOf<'INSECURE_TOKEN'>());
    ws.on('open', (e) => expectTypeOf(e.protocol).toEqualTypeOf<string>());
    // @ts-expect-error -- payloads are objects: `delay` is not a string
    compileOnly(() => ws.on('reconnecting', (e: { delay: string }) => e.delay));
    const off = ws.on('drain', () => undefined);
    expectTypeOf(off).toEqualTypeOf<() => void>();
    expect(typeof off).toBe('function');
  });

  it('the reasons and codes an auth failure reports are in the unions', () => {
    expectTypeOf<'auth'>().toMatchTypeOf<GiveupReason>();
    expectTypeOf<'protocol-mismatch'>().toMatchTypeOf<GiveupReason>();
    expectTypeOf<'AUTH_FAILED' | 'PROTOCOL_MISMATCH' | 'DECODE_ERROR' | 'CONNECT_FAILED'>().toMatchTypeOf<ErrorCode>();
    expectTypeOf<ClientEvents['warning']>().toEqualTypeOf<{ code: 'INSECURE_TOKEN'; message: string }>();
    const reasons: GiveupReason[] = ['auth', 'protocol-mismatch', 'insecure'];
    expect(reasons).toHaveLength(3);
  });
});

describe('auth and protocols options', () => {
  it('auth.token takes a string or a (sync or async) provider of one', () => {
    const tokens: Array<AuthOptions['token']> = ['t', () => 't', async () => 't', ({ attempt, reason }) => `${attempt}-${reason}`];
    const provider: AuthOptions['token'] = (request) => {
      expectTypeOf(request).toEqualTypeOf<TokenRequest>();
      expectTypeOf(request.reason).toEqualTypeOf<'initial' | 'reconnect' | 'rejected'>();
      return 't';
    };
    // @ts-expect-error -- a number is not a token
    const num: AuthOptions['token'] = 42;
    // @ts-expect-error -- a provider must return a string
    const bad: AuthOptions['token'] = () => 42;
    expect([...tokens, provider, num, bad]).toHaveLength(7);
  });

  it('auth.via, param, prefix, message and limits have their types', () => {
    const ok: AuthOptions = {
      token: 't',
      via: 'protocol',
      param: 'access_token',
      protocolPrefix: 'bearer.',
      message: (token) => JSON.stringify({ token }),
      failCodes: [4001],
      maxFailures: 2,
      requireSecure: true,
    };
    // @ts-expect-error -- there is no cookie carrier
    const via: AuthOptions = { token: 't', via: 'cookie' };
    // @ts-expect-error -- token is required when auth is given
    const missing: AuthOptions = { via: 'query' };
    expect([ok, via, missing]).toHaveLength(3);
  });

  it('protocols take a string, an array or a (sync or async) provider', () => {
    const ctor = (p: ConstructorParameters<typeof ResilientWebSocket>[1]): ResilientWebSocket =>
      track(new ResilientWebSocket(URL_, p, { WebSocket: FakeWebSocket }));
    ctor('v1');
    ctor(['v2', 'v1']);
    ctor(() => ['v1']);
    ctor(async () => 'v1');
    // @ts-expect-error -- not a subprotocol list (at runtime String(1) is one, as natively)
    ctor(1);
    // @ts-expect-error -- options go third
    expect(() => ctor({ reconnect: false })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', name: 'TypeError' }));
    expect(clients).toHaveLength(5);
  });
});
