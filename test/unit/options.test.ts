// Option validation and defaults, through the constructors of both entries: `resilient-ws`
// (v1 option objects) and `resilient-ws/core` (features as plug-ins). Every bad value throws
// INVALID_OPTION (a TypeError) naming the option and the value; the defaults are checked by
// what a client does with them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { heartbeat, pageLife, ResilientWebSocket as Core, tokenAuth } from '../../src/core.js';
import { DEFAULTS, jsonCodec, readRetryAfter, ResilientWebSocket, type Options } from '../../src/index.js';
import { installFakePage } from '../support/fake-page.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { failure } from '../support/failure.js';

const URL_ = 'wss://example.test/socket';
const fn = (): undefined => undefined;

const live: Array<{ close(): void }> = [];
beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});
afterEach(() => {
  for (const ws of live.splice(0)) ws.close();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A full-entry client on FakeSocket. */
function full(options: Record<string, unknown> = {}): ResilientWebSocket {
  const ws = new ResilientWebSocket(URL_, [], { WebSocket: FakeWebSocket, ...options } as Options);
  live.push(ws);
  return ws;
}

/** The same options for the core entry: v1 feature objects become their plug-ins. */
function coreForm(options: Record<string, unknown>): Record<string, unknown> {
  const { auth, heartbeat: hb, pauseWhenHidden, ...rest } = options;
  return {
    ...rest,
    ...(auth !== undefined && { auth: tokenAuth(auth as Parameters<typeof tokenAuth>[0]) }),
    ...(hb !== undefined && hb !== false && { heartbeat: heartbeat(hb as Parameters<typeof heartbeat>[0]) }),
    ...(pauseWhenHidden !== undefined && { page: pageLife({ pauseWhenHidden: pauseWhenHidden as boolean }) }),
  };
}

/** A core-entry client on FakeSocket. */
function core(options: Record<string, unknown> = {}): Core {
  const ws = new Core(URL_, [], { WebSocket: FakeWebSocket, ...coreForm(options) });
  live.push(ws);
  return ws;
}

/** Runs `make`, expects INVALID_OPTION as a TypeError, returns its message. */
function invalid(make: () => unknown): string {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
  }
  return failure('INVALID_OPTION', make);
}

// [option path, options object, what the message must quote as the bad value]
type Row = [string, Record<string, unknown>, string];

const reconnectRows: Row[] = [
  ['reconnect', { reconnect: true }, 'true'],
  ['reconnect', { reconnect: 'fast' }, '"fast"'],
  ['reconnect.minDelay', { reconnect: { minDelay: -1 } }, '-1'],
  ['reconnect.minDelay', { reconnect: { minDelay: Number.NaN } }, 'NaN'],
  ['reconnect.minDelay', { reconnect: { minDelay: Infinity } }, 'Infinity'],
  ['reconnect.minDelay', { reconnect: { minDelay: '100' } }, '"100"'],
  ['reconnect.maxDelay', { reconnect: { maxDelay: -5 } }, '-5'],
  ['reconnect.maxDelay', { reconnect: { maxDelay: Infinity } }, 'Infinity'],
  ['reconnect.maxDelay', { reconnect: { minDelay: 5000, maxDelay: 4000 } }, '4000'],
  ['reconnect.factor', { reconnect: { factor: 0.5 } }, '0.5'],
  ['reconnect.factor', { reconnect: { factor: Infinity } }, 'Infinity'],
  ['reconnect.jitter', { reconnect: { jitter: 'random' } }, '"random"'],
  ['reconnect.jitter', { reconnect: { jitter: true } }, 'true'],
  ['reconnect.maxRetries', { reconnect: { maxRetries: -1 } }, '-1'],
  ['reconnect.maxRetries', { reconnect: { maxRetries: 2.5 } }, '2.5'],
  ['reconnect.maxRetries', { reconnect: { maxRetries: Number.NaN } }, 'NaN'],
  ['reconnect.connectTimeout', { reconnect: { connectTimeout: 0 } }, '0'],
  ['reconnect.connectTimeout', { reconnect: { connectTimeout: Infinity } }, 'Infinity'],
  ['reconnect.stableAfter', { reconnect: { stableAfter: -1 } }, '-1'],
  ['reconnect.shouldReconnect', { reconnect: { shouldReconnect: true } }, 'true'],
  ['reconnect.retryAfter', { reconnect: { retryAfter: 2500 } }, '2500'],
];

const queueRows: Row[] = [
  ['queue', { queue: 5 }, '5'],
  ['queue.highWaterMark', { queue: { highWaterMark: -1 } }, '-1'],
  // 0 would make every send() queue and never drain.
  ['queue.highWaterMark', { queue: { highWaterMark: 0 } }, '0'],
  ['queue.highWaterMark', { queue: { highWaterMark: Infinity } }, 'Infinity'],
  ['queue.lowWaterMark', { queue: { lowWaterMark: '1' } }, '"1"'],
  ['queue.lowWaterMark', { queue: { highWaterMark: 100, lowWaterMark: 200 } }, '200'],
  ['queue.maxMessages', { queue: { maxMessages: 1.5 } }, '1.5'],
  ['queue.maxMessages', { queue: { maxMessages: -1 } }, '-1'],
  ['queue.maxBytes', { queue: { maxBytes: -1 } }, '-1'],
  ['queue.maxBytes', { queue: { maxBytes: Number.NaN } }, 'NaN'],
  ['queue.overflow', { queue: { overflow: 'block' } }, '"block"'],
  ['queue.ttl', { queue: { ttl: -10 } }, '-10'],
  ['queue.ttl', { queue: { ttl: '1s' } }, '"1s"'],
  ['queue.resend', { queue: { resend: true } }, 'true'],
  ['queue.resend', { queue: { resend: 'all' } }, '"all"'],
];

const authRows: Row[] = [
  ['auth', { auth: 42 }, 'number'],
  ['auth.via', { auth: { token: 't', via: 'header' } }, '"header"'],
  ['auth.param', { auth: { token: 't', param: '' } }, '""'],
  ['auth.param', { auth: { token: 't', param: 5 } }, '5'],
  ['auth.protocolPrefix', { auth: { token: 't', protocolPrefix: 1 } }, '1'],
  // Checked on its own, also when the token comes from a provider (and only exists later).
  ['auth.protocolPrefix', { auth: { token: () => 't', via: 'protocol', protocolPrefix: 'bad prefix' } }, '"bad prefix"'],
  ['auth.protocolPrefix', { auth: { token: () => 't', protocolPrefix: 'a,b' } }, '"a,b"'],
  ['auth.message', { auth: { token: 't', message: 'hello' } }, '"hello"'],
  ['auth.failCodes', { auth: { token: 't', failCodes: 4001 } }, '4001'],
  ['auth.failCodes', { auth: { token: 't', failCodes: [999] } }, '999 is not one'],
  ['auth.failCodes', { auth: { token: 't', failCodes: [4001, 4001.5] } }, '4001.5 is not one'],
  ['auth.failCodes', { auth: { token: 't', failCodes: [4001, undefined] } }, 'undefined is not one'],
  ['auth.maxFailures', { auth: { token: 't', maxFailures: 0 } }, '0'],
  ['auth.maxFailures', { auth: { token: 't', maxFailures: 1.5 } }, '1.5'],
  // Infinity would retry a refused token for ever, outside the backoff.
  ['auth.maxFailures', { auth: { token: 't', maxFailures: Infinity } }, 'Infinity'],
  ['auth.requireSecure', { auth: { token: 't', requireSecure: 'yes' } }, '"yes"'],
];

const heartbeatRows: Row[] = [
  ['heartbeat', { heartbeat: true }, 'true'],
  ['heartbeat.interval', { heartbeat: { interval: 0 } }, '0'],
  ['heartbeat.interval', { heartbeat: { interval: Infinity } }, 'Infinity'],
  ['heartbeat.timeout', { heartbeat: { timeout: -1 } }, '-1'],
  // The ping is sent as it is: it must be something the native send() takes.
  ['heartbeat.message', { heartbeat: { message: { type: 'ping' } } }, 'an object'],
  ['heartbeat.message', { heartbeat: { message: 42 } }, '42'],
  ['heartbeat.message', { heartbeat: { message: null } }, 'null'],
  ['heartbeat.isPong', { heartbeat: { isPong: 'pong' } }, '"pong"'],
];

const otherRows: Row[] = [
  ['codec', { codec: {} }, 'an object'],
  ['codec', { codec: { encode: fn } }, 'an object'],
  ['codec', { codec: 'json' }, '"json"'],
  ['codecs', { codecs: 'json' }, '"json"'],
  ['codecs["v1"]', { codecs: { v1: { decode: fn } } }, 'an object'],
  ['ready', { ready: true }, 'true'],
  ['pauseWhenHidden', { pauseWhenHidden: 'yes' }, '"yes"'],
  ['WebSocket', { WebSocket: 'ws' }, '"ws"'],
  ['binaryType', { binaryType: 'nodebuffer' }, '"nodebuffer"'],
  ['lazy', { lazy: 'yes' }, '"yes"'],
  ['lazy', { lazy: 0 }, '0'],
  ['lazy', { lazy: null }, 'null'],
  ['lazy.lingerMs', { lazy: { lingerMs: -1 } }, '-1'],
  ['lazy.lingerMs', { lazy: { lingerMs: '3s' } }, '"3s"'],
  ['plugins', { plugins: 'reliable' }, '"reliable"'],
  ['plugins', { plugins: { state: fn } }, 'an object'],
  ['plugins[0]', { plugins: [{}] }, 'an object'],
  ['plugins[1]', { plugins: [{ state: fn }, 5] }, '5'],
  ['page', { page: 5 }, '5'],
  ['page', { page: true }, 'true'],
  ['page', { page: null }, 'null'],
  ['page', { page: { pauseWhenHidden: true } }, 'an object'],
];

describe.each([
  ['resilient-ws', full, (path: string) => path],
  // The core takes pageLife({ pauseWhenHidden }) where the full entry takes pauseWhenHidden.
  ['resilient-ws/core', core, (path: string) => (path === 'pauseWhenHidden' ? 'page.pauseWhenHidden' : path)],
])('option validation in %s (INVALID_OPTION naming the option and the value)', (_entry, make, pathIn) => {
  describe.each([
    ['reconnect', reconnectRows],
    ['queue', queueRows],
    ['auth', authRows],
    ['heartbeat', heartbeatRows],
    ['top level', otherRows],
  ])('%s', (_group, rows) => {
    it.each(rows)('rejects a bad %s (%j)', (path, options, shown) => {
      const message = invalid(() => make(options));
      expect(message).toContain(`options.${pathIn(path)}`);
      expect(message).toContain(shown);
    });
  });

  it.each([
    ['a string', 'fast', 'options must be an object, got "fast"'],
    ['an array', [], 'options must be an object, got an array'],
    ['a number', 3, 'options must be an object, got 3'],
  ])('rejects options that are %s', (_label, options, message) => {
    const Ctor = make === full ? ResilientWebSocket : Core;
    expect(invalid(() => new Ctor(URL_, [], options as never))).toBe(message);
  });

  it('treats null and undefined options as none', () => {
    const Ctor = make === full ? ResilientWebSocket : Core;
    vi.stubGlobal('WebSocket', FakeWebSocket); // what a browser has, and these clients fall back to
    expect(() => live.push(new Ctor(URL_, [], null as never), new Ctor(URL_, [], undefined), new Ctor(URL_))).not.toThrow();
  });

  it('validates eagerly in the constructor, before any connection', async () => {
    let created = 0;
    const Counting = function () {
      created++;
    } as unknown as typeof FakeWebSocket;
    invalid(() => make({ WebSocket: Counting, reconnect: { factor: 0 } }));
    await vi.advanceTimersByTimeAsync(0);
    expect(created).toBe(0);
  });

  it('points options passed as the second argument to the third, with a TypeError', () => {
    const Ctor = make === full ? ResilientWebSocket : Core;
    const message = invalid(() => new Ctor(URL_, { WebSocket: FakeWebSocket, reconnect: false } as never));
    expect(message).toContain('pass [] or undefined for protocols first');
  });

  it.each([
    ['top level', { reconnectDelay: 1 }, 'options.reconnectDelay'],
    ['reconnect', { reconnect: { delay: 1 } }, 'options.reconnect.delay'],
    ['queue', { queue: { size: 1 } }, 'options.queue.size'],
    ['auth', { auth: { token: 't', header: 'x' } }, 'options.auth.header'],
    ['heartbeat', { heartbeat: { pingInterval: 1 } }, 'options.heartbeat.pingInterval'],
    ['lazy', { lazy: { linger: 1 } }, 'options.lazy.linger'],
    // v1 had a clock and a random source as options: tests now fake the globals instead.
    ['now (gone in v2)', { now: () => 5 }, 'options.now'],
    ['random (gone in v2)', { random: () => 0.5 }, 'options.random'],
  ])('rejects an unknown key (%s) and lists the known ones', (_label, options, named) => {
    const message = invalid(() => make(options));
    expect(message).toContain(named);
    expect(message).toContain('is not an option');
    expect(message).toContain('known:');
  });

  it('never echoes the token: not as auth itself, not for a bad token, not next to another bad auth option', () => {
    const asAuth = invalid(() => make({ auth: 'eyJhbGciOi.secret' }));
    expect(asAuth).toContain('options.auth');
    expect(asAuth).toContain('string');
    expect(asAuth).not.toContain('eyJhbGciOi');
    expect(invalid(() => make({ auth: { token: 'tok-123456', via: 'cookie' } }))).not.toContain('tok-123456');
  });

  it.each([
    ['missing', { auth: {} }, 'undefined'],
    ['empty', { auth: { token: '' } }, 'string'],
    ['a number', { auth: { token: 918273645 } }, 'number'],
    ['an object', { auth: { token: { secret: 's3cr3t-value' } } }, 'object'],
  ])('rejects a %s token naming only its type', (_label, options, type) => {
    const message = invalid(() => make(options));
    expect(message).toContain('options.auth.token');
    expect(message).toContain(type);
    expect(message).not.toContain('918273645');
    expect(message).not.toContain('s3cr3t-value');
  });

  it("rejects a token that cannot be a subprotocol for via 'protocol' without quoting it", () => {
    const token = 'secret token/with spaces';
    const message = invalid(() => make({ auth: { token, via: 'protocol' } }));
    expect(message).toContain('base64url');
    expect(message).not.toContain(token);
    expect(message).not.toContain('secret');
  });

  it('accepts the boundary values', () => {
    expect(() =>
      make({
        reconnect: { minDelay: 0, maxDelay: 0, factor: 1, maxRetries: 0, connectTimeout: 1, stableAfter: 0 },
        queue: { highWaterMark: 1, lowWaterMark: 0, maxMessages: 0, maxBytes: 0, ttl: 0, resend: false },
        auth: { token: () => 't', maxFailures: 1, failCodes: [1000, 4999], protocolPrefix: '' },
        heartbeat: { interval: 1, timeout: 1, message: new Uint8Array([1]) },
        lazy: { lingerMs: 0 },
      }),
    ).not.toThrow();
    expect(() => make({ reconnect: { maxRetries: Infinity }, queue: { maxMessages: Infinity, maxBytes: Infinity, ttl: Infinity }, lazy: false })).not.toThrow();
  });
});

describe('resilient-ws only', () => {
  it.each([
    ['minReconnectionDelay', 'reconnect.minDelay'],
    ['maxReconnectionDelay', 'reconnect.maxDelay'],
    ['reconnectionDelayGrowFactor', 'reconnect.factor'],
    ['minUptime', 'reconnect.stableAfter'],
    ['connectionTimeout', 'reconnect.connectTimeout'],
    ['maxRetries', 'reconnect.maxRetries'],
    ['maxEnqueuedMessages', 'queue.maxMessages'],
    ['startClosed', 'lazy: true'],
    ['debug', "ws.on('statechange'"],
  ])('points %s to its new home', (old, hint) => {
    const message = invalid(() => full({ [old]: 1 }));
    expect(message).toContain(`options.${old} was renamed`);
    expect(message).toContain(hint);
  });

  it('points a renamed key inside a group to its new home too', () => {
    const message = invalid(() => full({ reconnect: { maxReconnectionDelay: 1 } }));
    expect(message).toContain('options.reconnect.maxReconnectionDelay was renamed');
    expect(message).toContain('reconnect.maxDelay');
  });

  it('takes plug-ins where it takes the v1 option objects', () => {
    expect(() => full({ auth: tokenAuth({ token: 't' }), heartbeat: heartbeat({}), page: pageLife({}) })).not.toThrow();
  });
});

describe('resilient-ws/core only', () => {
  it.each([
    ['auth', { auth: { token: 't' } }],
    ['heartbeat', { heartbeat: { interval: 1000 } }],
    ['page', { page: { pauseWhenHidden: true } }],
  ])('refuses a v1 %s object: features are plug-ins here', (key, options) => {
    const message = invalid(() => new Core(URL_, [], { WebSocket: FakeWebSocket, ...options } as never));
    expect(message).toContain(`options.${key} must be a plug-in`);
  });

  it('refuses the options of the full entry', () => {
    expect(invalid(() => new Core(URL_, [], { WebSocket: FakeWebSocket, pauseWhenHidden: true } as never))).toContain('options.pauseWhenHidden is not an option');
  });
});

describe('send() options', () => {
  it.each([
    ['a number', 5],
    ['a string', 'volatile'],
    ['null', null],
    ['an array', [true]],
    ['a Map', new Map([['volatile', true]])],
    ['a class instance', new (class SendOpts {
      volatile = true;
    })()],
  ])('rejects %s with INVALID_OPTION (a TypeError)', (_label, options) => {
    const ws = full();
    const message = invalid(() => ws.send('x', options as never));
    expect(message.startsWith('send() options')).toBe(true);
    expect(ws.queuedMessages).toBe(0);
  });

  it.each([
    ['an unknown key', { volatle: true }, 'send() options.volatle is not an option'],
    ['a bad volatile', { volatile: 'yes' }, 'send() options.volatile'],
    ['a bad ttl', { ttl: -1 }, 'send() options.ttl'],
    ['a bad beforeReady', { beforeReady: 1 }, 'send() options.beforeReady'],
  ])('rejects %s, naming it', (_label, options, named) => {
    const ws = core();
    expect(invalid(() => ws.send('x', options as never))).toContain(named);
  });

  it('accepts a plain object, also one without a prototype', () => {
    const ws = full();
    expect(ws.send('a', { ttl: 1000 })).toBe('queued');
    expect(ws.send('b', Object.assign(Object.create(null) as object, { beforeReady: true }))).toBe('queued');
    expect(ws.send('c', undefined)).toBe('queued');
  });
});

describe('defaults', () => {
  it('has the documented default values', () => {
    expect(DEFAULTS.reconnect).toMatchObject({
      minDelay: 1000,
      maxDelay: 30_000,
      factor: 2,
      jitter: 'full',
      maxRetries: Infinity,
      connectTimeout: 10_000,
      stableAfter: 5000,
    });
    expect(DEFAULTS.reconnect.retryAfter).toBe(readRetryAfter);
    expect(DEFAULTS.queue).toEqual({
      highWaterMark: 1024 * 1024,
      lowWaterMark: 256 * 1024,
      maxMessages: 10_000,
      maxBytes: 16 * 1024 * 1024,
      overflow: 'drop-oldest',
      ttl: Infinity,
      resend: 'unsent',
    });
    expect(DEFAULTS.lazy).toEqual({ lingerMs: 3000 });
    expect(DEFAULTS).toMatchObject({ binaryType: 'blob', pauseWhenHidden: false });
    expect(DEFAULTS.auth).toMatchObject({ via: 'query', param: 'token', protocolPrefix: 'bearer.', maxFailures: 3, requireSecure: false });
    expect(DEFAULTS.auth.failCodes).toEqual([1008, 4001, 4003, 4401, 4403]);
    expect(DEFAULTS.auth.message('abc')).toBe('{"type":"auth","token":"abc"}');
    expect(DEFAULTS.heartbeat).toMatchObject({ interval: 25_000, timeout: 10_000, message: 'ping' });
    expect(DEFAULTS.heartbeat.isPong('pong')).toBe(true);
    expect(DEFAULTS.heartbeat.isPong('ping')).toBe(false);
  });

  it.each([
    ['resilient-ws', full],
    ['resilient-ws/core', core],
  ])('%s: the reconnect defaults are in effect (10 s connect timeout, full jitter under minDelay 1000)', async (_entry, make) => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const ws = make();
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(ws.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.state).toBe('reconnecting');
    expect(ws.getSnapshot().lastError?.code).toBe('CONNECT_TIMEOUT');
    expect(delays).toEqual([500]);
  });

  it('keeps the defaults of a group next to the given fields, and treats an undefined field as absent', async () => {
    const ws = full({ reconnect: { maxDelay: 5000, jitter: 'none', minDelay: undefined } });
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 4; i++) {
      FakeSocket.last.serverClose(1006);
      await vi.advanceTimersByTimeAsync(delays.at(-1)!);
    }
    // minDelay 1000 and factor 2 from the defaults, capped at the given maxDelay.
    expect(delays).toEqual([1000, 2000, 4000, 5000]);
  });

  it('turns reconnect: false into no retry at all', async () => {
    const ws = full({ reconnect: false });
    const reasons: string[] = [];
    ws.on('giveup', ({ reason, error }) => reasons.push(`${reason} ${error.code}`));
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    expect(ws.state).toBe('closed');
    expect(reasons).toEqual(['retries RETRIES_EXHAUSTED']);
  });

  it('asks the shouldReconnect given, with the close and the attempt', async () => {
    const asked: unknown[] = [];
    const ws = full({ reconnect: { maxRetries: Infinity, shouldReconnect: (ev: unknown, attempt: number) => (asked.push([ev, attempt]), false) } });
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1011, 'restart', true);
    expect(asked).toEqual([[{ code: 1011, reason: 'restart', wasClean: true }, 0]]);
    expect(ws.state).toBe('closed');
  });

  it('does not freeze, keep or share the caller’s objects', async () => {
    const given = { reconnect: { minDelay: 2000, jitter: 'none' as const } };
    const ws = full(given);
    expect(Object.isFrozen(given.reconnect)).toBe(false);
    given.reconnect.minDelay = 1;
    const delays: Array<number | null> = [];
    ws.on('reconnecting', ({ delay }) => delays.push(delay));
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.serverClose(1006);
    expect(delays).toEqual([2000]);
    expect(DEFAULTS.reconnect.minDelay).toBe(1000);
  });

  it('uses codecs per protocol, binaryType and ready as given', async () => {
    const v1 = { encode: (x: unknown) => `v1:${String(x)}`, decode: (x: unknown) => `got ${String(x)}` };
    const ws = new ResilientWebSocket<unknown, unknown>(URL_, ['v1'], {
      WebSocket: FakeWebSocket,
      codec: jsonCodec,
      codecs: { v1 },
      binaryType: 'arraybuffer',
      ready: (m) => m === 'got hello',
    });
    live.push(ws);
    await vi.advanceTimersByTimeAsync(0);
    const s = FakeSocket.last;
    expect(s.binaryType).toBe('arraybuffer');
    s.open('v1');
    expect(ws.send('a')).toBe('queued');
    s.receive('hello');
    expect(s.sent).toEqual(['v1:a']);
  });

  it('resilient-ws adds page life by default, page: false leaves it out; the core has none unless given', async () => {
    const page = installFakePage();
    full();
    await vi.advanceTimersByTimeAsync(0);
    const withPage = page.window.held() + page.document.held();
    expect(withPage).toBeGreaterThan(0);
    full({ page: false });
    core();
    await vi.advanceTimersByTimeAsync(0);
    expect(page.window.held() + page.document.held()).toBe(withPage);
    core({ page: pageLife() });
    await vi.advanceTimersByTimeAsync(0);
    expect(page.window.held() + page.document.held()).toBe(2 * withPage);
  });

  it('resilient-ws/core runs no heartbeat unless given one', async () => {
    const ws = core();
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(FakeSocket.last.sent).toEqual([]);
    expect(ws.state).toBe('open');
  });
});

describe('readRetryAfter (default reconnect.retryAfter)', () => {
  it.each([
    ['retry-after=2500', 2500],
    ['overloaded; retry-after=100', 100],
    ['busy, Retry-After=7', 7],
    ['server restart retry-after=0', 0],
    ['', undefined],
    ['retry-after=soon', undefined],
    ['xretry-after=5', undefined],
  ])('reads %j as %s', (reason, ms) => {
    expect(readRetryAfter({ code: 1012, reason, wasClean: true })).toBe(ms);
  });
});
