// The core entry (`resilient-ws/core`, src/core.ts): nothing but the connection engine unless
// plug-ins are passed. Without pageLife no window/document listener, without heartbeat no ping
// timer, without auth no token; each plug-in, passed in, does its job; v1 option objects and
// other shapes that are not plug-ins are refused with a message that says what to pass instead.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, pageLife, ResilientWebSocket, tokenAuth, type CoreOptions, type Plugin } from '../../src/core.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { installFakePage, type FakePage } from '../support/fake-page.js';

const URL = 'wss://example.test/socket';
const STABLE_AFTER = 5000;
let page: FakePage;
const clients: ResilientWebSocket<string, string>[] = [];

function core(options: CoreOptions<string, string> = {}, protocols: string[] = []): ResilientWebSocket<string, string> {
  const ws = new ResilientWebSocket<string, string>(URL, protocols, {
    WebSocket: FakeWebSocket,
    reconnect: { minDelay: 1000, jitter: 'none', stableAfter: STABLE_AFTER },
    ...options,
  });
  clients.push(ws);
  return ws;
}

const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);
const pageCalls = (): number => page.window.adds + page.document.adds;
const held = (): number => page.window.held() + page.document.held();

async function opened(ws: ResilientWebSocket<string, string>): Promise<FakeSocket> {
  await settle();
  const s = FakeSocket.last;
  s.open();
  expect(ws.state).toBe('open');
  return s;
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

describe('the core without plug-ins', () => {
  it('adds no window or document listener, in any state', async () => {
    const ws = core();
    const socket = await opened(ws);
    socket.serverClose(1006);
    expect(ws.state).toBe('reconnecting');
    page.offline();
    page.online();
    page.hide();
    page.show();
    await advance(1000);
    expect(ws.state).toBe('connecting');
    ws.close();
    expect(pageCalls()).toBe(0);
    expect(held()).toBe(0);
  });

  it('ignores the page: going offline does not pause a retry', async () => {
    const ws = core();
    const waits: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => waits.push(delay));
    const socket = await opened(ws);
    socket.serverClose(1006);
    page.offline();
    expect(waits).toEqual([1000]);
    await advance(1000);
    expect(ws.state).toBe('connecting');
  });

  it('runs no ping timer: while open the only timer is the stable-after one', async () => {
    const ws = core();
    const socket = await opened(ws);
    expect(vi.getTimerCount()).toBe(1);
    await advance(STABLE_AFTER);
    expect(vi.getTimerCount()).toBe(0);
    await advance(10 * 60_000);
    expect(socket.sent).toEqual([]);
    expect(ws.state).toBe('open');
  });

  it('asks for no token: the URL and the subprotocols are the ones given', async () => {
    const ws = core({}, ['v1']);
    await opened(ws);
    expect(FakeSocket.last.url).toBe(URL);
    expect(FakeSocket.last.protocols).toEqual(['v1']);
    expect(FakeSocket.last.sent).toEqual([]);
  });
});

describe('plug-ins passed to the core', () => {
  it('tokenAuth() puts the token where it is told to, and asks for it before every attempt', async () => {
    const token = vi.fn((_request: { reason: string }) => 'tok-1');
    const ws = core({ auth: tokenAuth({ token, via: 'query' }) });
    const socket = await opened(ws);
    expect(new globalThis.URL(socket.url).searchParams.get('token')).toBe('tok-1');
    expect(ws.url).toBe(URL);
    socket.serverClose(1006);
    await advance(1000);
    expect(token).toHaveBeenCalledTimes(2);
    expect(token.mock.calls.map(([r]) => r.reason)).toEqual(['initial', 'reconnect']);
  });

  it("tokenAuth({ via: 'message' }) sends the auth message first", async () => {
    const ws = core({ auth: tokenAuth({ token: 'tok', via: 'message' }) });
    ws.send('queued');
    const socket = await opened(ws);
    expect(socket.sent).toEqual([JSON.stringify({ type: 'auth', token: 'tok' }), 'queued']);
  });

  it('heartbeat() pings after the interval and declares the link dead after the timeout', async () => {
    const ws = core({ heartbeat: heartbeat({ interval: 1000, timeout: 500 }) });
    const errors: string[] = [];
    ws.on('error', ({ error }) => errors.push(error.code));
    const socket = await opened(ws);
    await advance(1000);
    expect(socket.sent).toEqual(['ping']);
    socket.receive('pong');
    await advance(1000);
    expect(socket.sent).toEqual(['ping', 'ping']);
    await advance(500);
    expect(ws.state).toBe('reconnecting');
    expect(errors).toEqual(['HEARTBEAT_TIMEOUT']);
  });

  it('pageLife() attaches its listeners while not closed, pauses offline and detaches on close', async () => {
    const ws = core({ page: pageLife() });
    const waits: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => waits.push(delay));
    const socket = await opened(ws);
    expect(held()).toBe(6);
    socket.serverClose(1006);
    page.offline();
    expect(waits).toEqual([1000, null]);
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    page.online();
    expect(ws.state).toBe('connecting');
    ws.close();
    await advance(1);
    expect(ws.state).toBe('closed');
    expect(held()).toBe(0);
  });

  it('pageLife({ pauseWhenHidden: true }) waits for a visible page', async () => {
    const ws = core({ page: pageLife({ pauseWhenHidden: true }) });
    const socket = await opened(ws);
    page.hide();
    socket.serverClose(1006);
    await advance(60_000);
    expect(FakeSocket.instances).toHaveLength(1);
    page.show();
    expect(ws.state).toBe('connecting');
  });

  it('runs custom plug-ins from plugins: [...], after the built-in slots, in order', async () => {
    const seen: string[] = [];
    const logger = (name: string): Plugin => ({ state: (to, from) => void seen.push(`${name} ${from}>${to}`) });
    const ws = core({ plugins: [logger('a'), logger('b')] });
    await opened(ws);
    expect(seen).toEqual(['a connecting>connecting', 'b connecting>connecting', 'a connecting>open', 'b connecting>open']);
  });
});

describe('what the core refuses', () => {
  it.each([
    ['auth', 'tokenAuth(', { token: 'abc' }],
    ['heartbeat', 'heartbeat(', { interval: 25_000, timeout: 10_000 }],
    ['page', 'pageLife(', { pauseWhenHidden: true }],
  ])('a plain v1 options object as %s is refused with INVALID_OPTION naming the fix, %s…)', (key, fix, value) => {
    let thrown: unknown;
    try {
      core({ [key]: value } as CoreOptions<string, string>);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_OPTION', name: 'TypeError' });
    const message = (thrown as Error).message;
    expect(message).toContain(`options.${key}`);
    expect(message).toContain(fix);
    // The token is never quoted back.
    expect(message).not.toContain('abc');
  });

  it.each([
    ['an empty object', {}],
    ['an object without hooks', { name: 'logger', run: 1 }],
    ['a function', () => undefined],
    ['a string', 'heartbeat'],
    ['a number', 42],
    ['null', null],
  ])('an unknown plug-in shape (%s) in plugins is refused with INVALID_OPTION', (_label, value) => {
    expect(() => core({ plugins: [value as unknown as Plugin] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('options.plugins[0]') }));
  });

  it('plugins that is not an array is refused', () => {
    expect(() => core({ plugins: { state() {} } as unknown as Plugin[] })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('options.plugins') }));
  });

  it('an unknown plug-in shape in a built-in slot is refused', () => {
    expect(() => core({ auth: 'secret-token' as unknown as Plugin })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    expect(() => core({ heartbeat: 25_000 as unknown as Plugin })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
  });
});

describe('the full entry builds the page plug-in in', () => {
  // The native-API call shape: no protocols, no options (or `undefined`/`null` for them).
  it.each([
    ['no options', []],
    ['undefined options', [undefined, undefined]],
    ['null options', [[], null]],
  ] as const)('with %s it follows the page: listeners attached, offline holds the retry', async (_label, rest) => {
    const { ResilientWebSocket: Full } = await import('../../src/index.js');
    vi.stubGlobal('WebSocket', FakeWebSocket);
    const ws = new Full('ws://example.test/socket', ...(rest as unknown as []));
    clients.push(ws as unknown as ResilientWebSocket<string, string>);
    await settle();
    expect(held()).toBe(6);
    const waits: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => waits.push(delay));
    page.offline();
    FakeSocket.last.serverClose(1006);
    expect(waits).toEqual([null]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
