import { describe, expect, it } from 'vitest';
import { DEFAULTS, jsonCodec, readRetryAfter, ResilientWebSocket } from '../../src/index.js';
import { normalizeOptions } from '../../src/options.js';
import { FakeWebSocket } from '../support/fake-socket.js';
import { failure } from '../support/failure.js';

const fn = (): undefined => undefined;
const codec = { encode: (x: unknown) => String(x), decode: (x: unknown) => x };

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
  ['auth.message', { auth: { token: 't', message: 'hello' } }, '"hello"'],
  ['auth.failCodes', { auth: { token: 't', failCodes: 4001 } }, '4001'],
  ['auth.failCodes', { auth: { token: 't', failCodes: [999] } }, '999'],
  ['auth.failCodes', { auth: { token: 't', failCodes: [4001.5] } }, '4001.5'],
  ['auth.maxFailures', { auth: { token: 't', maxFailures: 0 } }, '0'],
  ['auth.maxFailures', { auth: { token: 't', maxFailures: 1.5 } }, '1.5'],
  ['auth.requireSecure', { auth: { token: 't', requireSecure: 'yes' } }, '"yes"'],
];

const heartbeatRows: Row[] = [
  ['heartbeat', { heartbeat: true }, 'true'],
  ['heartbeat.interval', { heartbeat: { interval: 0 } }, '0'],
  ['heartbeat.interval', { heartbeat: { interval: Infinity } }, 'Infinity'],
  ['heartbeat.timeout', { heartbeat: { timeout: -1 } }, '-1'],
  ['heartbeat.isPong', { heartbeat: { isPong: 'pong' } }, '"pong"'],
];

const otherRows: Row[] = [
  ['codec', { codec: {} }, '[object Object]'],
  ['codec', { codec: { encode: fn } }, '[object Object]'],
  ['codec', { codec: 'json' }, '"json"'],
  ['codecs', { codecs: 'json' }, '"json"'],
  ['codecs["v1"]', { codecs: { v1: { decode: fn } } }, '[object Object]'],
  ['ready', { ready: true }, 'true'],
  ['pauseWhenHidden', { pauseWhenHidden: 'yes' }, '"yes"'],
  ['WebSocket', { WebSocket: 'ws' }, '"ws"'],
  ['binaryType', { binaryType: 'nodebuffer' }, '"nodebuffer"'],
  ['now', { now: 5 }, '5'],
  ['random', { random: 0.5 }, '0.5'],
];

describe('option validation (INVALID_OPTION naming the option and the value)', () => {
  describe.each([
    ['reconnect', reconnectRows],
    ['queue', queueRows],
    ['auth', authRows],
    ['heartbeat', heartbeatRows],
    ['top level', otherRows],
  ])('%s', (_group, rows) => {
    it.each(rows)('rejects a bad %s (%j)', (path, options, shown) => {
      const message = failure('INVALID_OPTION', () => normalizeOptions(options));
      expect(message).toContain(`options.${path}`);
      expect(message).toContain(shown);
    });
  });

  it('rejects options that are not an object', () => {
    expect(failure('INVALID_OPTION', () => normalizeOptions('fast' as unknown as object))).toBe('options must be an object, got "fast"');
  });

  it('treats null options as none', () => {
    expect(normalizeOptions(null as unknown as object).reconnect.minDelay).toBe(1000);
  });

  it('validates eagerly in the constructor, before any connection', () => {
    let created = 0;
    const Counting = function () {
      created++;
    } as unknown as typeof FakeWebSocket;
    failure('INVALID_OPTION', () => new ResilientWebSocket('wss://example.com', undefined, { WebSocket: Counting, reconnect: { factor: 0 } }));
    expect(created).toBe(0);
  });
});

describe('auth.token validation never echoes the token', () => {
  it('rejects auth given as the token string itself, naming only its type', () => {
    const message = failure('INVALID_OPTION', () => normalizeOptions({ auth: 'eyJhbGciOi.secret' }));
    expect(message).toContain('options.auth');
    expect(message).toContain('string');
    expect(message).not.toContain('eyJhbGciOi');
  });

  it.each([
    ['missing', { auth: {} }, 'undefined'],
    ['empty', { auth: { token: '' } }, 'string'],
    ['a number', { auth: { token: 918273645 } }, 'number'],
    ['an object', { auth: { token: { secret: 's3cr3t-value' } } }, 'object'],
  ])('rejects a %s token naming only its type', (_label, options, type) => {
    const message = failure('INVALID_OPTION', () => normalizeOptions(options));
    expect(message).toContain('options.auth.token');
    expect(message).toContain(type);
    expect(message).not.toContain('918273645');
    expect(message).not.toContain('s3cr3t-value');
  });

  it("rejects a token that cannot be a subprotocol for via 'protocol' without quoting it", () => {
    const token = 'secret token/with spaces';
    const message = failure(
      'INVALID_OPTION',
      () => new ResilientWebSocket('wss://example.com', undefined, { WebSocket: FakeWebSocket, auth: { token, via: 'protocol' } }),
    );
    expect(message).toContain('base64url');
    expect(message).not.toContain(token);
    expect(message).not.toContain('secret');
  });

  it('does not echo a valid token next to another bad auth option', () => {
    const message = failure('INVALID_OPTION', () => normalizeOptions({ auth: { token: 'tok-123456', via: 'cookie' } }));
    expect(message).not.toContain('tok-123456');
  });
});

describe('unknown and renamed options', () => {
  it.each([
    ['top level', { reconnectDelay: 1 }, 'options.reconnectDelay'],
    ['reconnect', { reconnect: { delay: 1 } }, 'options.reconnect.delay'],
    ['queue', { queue: { size: 1 } }, 'options.queue.size'],
    ['auth', { auth: { token: 't', header: 'x' } }, 'options.auth.header'],
    ['heartbeat', { heartbeat: { pingInterval: 1 } }, 'options.heartbeat.pingInterval'],
  ])('rejects an unknown key (%s) and lists the known ones', (_label, options, named) => {
    const message = failure('INVALID_OPTION', () => normalizeOptions(options));
    expect(message).toContain(named);
    expect(message).toContain('is not an option');
    expect(message).toContain('known:');
  });

  it.each([
    ['minReconnectionDelay', 'reconnect.minDelay'],
    ['maxReconnectionDelay', 'reconnect.maxDelay'],
    ['reconnectionDelayGrowFactor', 'reconnect.factor'],
    ['minUptime', 'reconnect.stableAfter'],
    ['connectionTimeout', 'reconnect.connectTimeout'],
    ['maxRetries', 'reconnect.maxRetries'],
    ['maxEnqueuedMessages', 'queue.maxMessages'],
    ['startClosed', 'reconnect()'],
    ['debug', "ws.on('statechange'"],
  ])('points %s to its new home', (old, hint) => {
    const message = failure('INVALID_OPTION', () => normalizeOptions({ [old]: 1 }));
    expect(message).toContain(`options.${old} was renamed`);
    expect(message).toContain(hint);
  });

  it('points a renamed key inside a group to its new home too', () => {
    const message = failure('INVALID_OPTION', () => normalizeOptions({ reconnect: { maxReconnectionDelay: 1 } }));
    expect(message).toContain('options.reconnect.maxReconnectionDelay was renamed');
    expect(message).toContain('reconnect.maxDelay');
  });
});

describe('defaults', () => {
  it('fills every group from DEFAULTS', () => {
    const n = normalizeOptions(undefined);
    expect(n.reconnect).toEqual(DEFAULTS.reconnect);
    expect(n.queue).toEqual(DEFAULTS.queue);
    expect(n.auth).toBeUndefined();
    expect(n.heartbeat).toBeUndefined();
    expect(n.codec).toBeUndefined();
    expect(n.codecs).toEqual({});
    expect(n.ready).toBeUndefined();
    expect(n.pauseWhenHidden).toBe(false);
    expect(n.WebSocket).toBeUndefined();
    expect(n.binaryType).toBe('blob');
    expect(n.random).toBe(Math.random);
    expect(typeof n.now()).toBe('number');
  });

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
  });

  it('keeps the defaults of a group next to the given fields', () => {
    const n = normalizeOptions({ reconnect: { maxDelay: 5000 }, queue: { maxMessages: 3 } });
    expect(n.reconnect).toEqual({ ...DEFAULTS.reconnect, maxDelay: 5000 });
    expect(n.queue).toEqual({ ...DEFAULTS.queue, maxMessages: 3 });
  });

  it('treats an undefined field as absent', () => {
    expect(normalizeOptions({ reconnect: { minDelay: undefined } }).reconnect.minDelay).toBe(1000);
  });

  it('fills auth defaults around the token', () => {
    const n = normalizeOptions({ auth: { token: 't' } });
    expect(n.auth).toMatchObject({ token: 't', via: 'query', param: 'token', protocolPrefix: 'bearer.', maxFailures: 3, requireSecure: false });
    expect(n.auth!.failCodes).toEqual([1008, 4001, 4003, 4401, 4403]);
    expect(n.auth!.message('abc')).toBe('{"type":"auth","token":"abc"}');
  });

  it('fills heartbeat defaults when heartbeat is {}', () => {
    const n = normalizeOptions({ heartbeat: {} });
    expect(n.heartbeat).toMatchObject({ interval: 25_000, timeout: 10_000, message: 'ping' });
    expect(n.heartbeat!.isPong('pong')).toBe(true);
    expect(n.heartbeat!.isPong('ping')).toBe(false);
  });

  it('turns heartbeat: false into no heartbeat', () => {
    expect(normalizeOptions({ heartbeat: false }).heartbeat).toBeUndefined();
  });

  it('turns reconnect: false into zero retries', () => {
    expect(normalizeOptions({ reconnect: false }).reconnect.maxRetries).toBe(0);
  });

  it('keeps shouldReconnect and accepts maxRetries Infinity', () => {
    const shouldReconnect = (): boolean => true;
    const n = normalizeOptions({ reconnect: { shouldReconnect, maxRetries: Infinity } });
    expect(n.reconnect.shouldReconnect).toBe(shouldReconnect);
    expect(n.reconnect.maxRetries).toBe(Infinity);
  });

  it('accepts the boundary values', () => {
    const n = normalizeOptions({
      reconnect: { minDelay: 0, maxDelay: 0, factor: 1, maxRetries: 0, connectTimeout: 1, stableAfter: 0 },
      queue: { highWaterMark: 0, lowWaterMark: 0, maxMessages: 0, maxBytes: 0, ttl: 0, resend: false },
      auth: { token: () => 't', maxFailures: 1, failCodes: [1000, 4999] },
      heartbeat: { interval: 1, timeout: 1 },
    });
    expect(n.reconnect.maxDelay).toBe(0);
    expect(n.queue.resend).toBe(false);
  });

  it('keeps codec, codecs and callbacks as given', () => {
    const ready = (): boolean => true;
    const now = (): number => 5;
    const random = (): number => 0.1;
    const n = normalizeOptions({ codec: jsonCodec, codecs: { v1: codec }, ready, now, random, binaryType: 'arraybuffer', pauseWhenHidden: true });
    expect(n.codec).toBe(jsonCodec);
    expect(n.codecs.v1).toBe(codec);
    expect(n.ready).toBe(ready);
    expect(n.now).toBe(now);
    expect(n.random).toBe(random);
    expect(n.binaryType).toBe('arraybuffer');
    expect(n.pauseWhenHidden).toBe(true);
  });
});

describe('the normalized result', () => {
  const n = normalizeOptions({ auth: { token: 't' }, heartbeat: {}, codecs: { v1: codec } });

  it.each([
    ['the result', n],
    ['reconnect', n.reconnect],
    ['queue', n.queue],
    ['auth', n.auth],
    ['heartbeat', n.heartbeat],
    ['codecs', n.codecs],
  ])('freezes %s', (_label, part) => {
    expect(Object.isFrozen(part)).toBe(true);
  });

  it('does not freeze or share the caller’s objects', () => {
    const given = { reconnect: { maxDelay: 5000 }, codecs: { v1: codec } };
    const m = normalizeOptions(given);
    expect(Object.isFrozen(given.reconnect)).toBe(false);
    expect(m.reconnect).not.toBe(given.reconnect);
    given.reconnect.maxDelay = 1;
    expect(m.reconnect.maxDelay).toBe(5000);
  });

  it('does not let a caller mutate DEFAULTS through the result', () => {
    const m = normalizeOptions({});
    expect(() => {
      (m.reconnect as { minDelay: number }).minDelay = 1;
    }).toThrow(TypeError);
    expect(DEFAULTS.reconnect.minDelay).toBe(1000);
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
