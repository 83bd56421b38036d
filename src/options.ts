import type { Jitter } from './backoff.js';
import type { Codec, IncomingData, WireData } from './codec.js';
import { fail } from './errors.js';

/** A value, or a function (sync or async) asked before every connection attempt. */
export type Provider<T> = T | (() => T | Promise<T>);

/** The URL to connect to: `ws:`, `wss:`, `http:`, `https:` or relative to the page. */
export type UrlProvider = Provider<string | URL>;

/** The subprotocols to offer, as for the native constructor. */
export type ProtocolsProvider = Provider<string | string[] | undefined>;

/** What a close looked like: the native `CloseEvent` fields, also for closes the library made. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** What the token provider is told about the attempt it serves. */
export interface TokenRequest {
  /** 0 for a fresh connection, n for the n-th retry since the last stable one. */
  readonly attempt: number;
  /** `'initial'` first, `'reconnect'` before a retry, `'rejected'` after the server refused the token. */
  readonly reason: 'initial' | 'reconnect' | 'rejected';
}

/** A token, or a function (sync or async) that returns a fresh one. */
export type TokenProvider = string | ((request: TokenRequest) => string | Promise<string>);

/** The WHATWG `WebSocket` constructor shape (the browser's, Node's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount?: number;
  binaryType: string;
  onopen: ((ev: never) => unknown) | null;
  onmessage: ((ev: never) => unknown) | null;
  onerror: ((ev: never) => unknown) | null;
  onclose: ((ev: never) => unknown) | null;
  send(data: never): void;
  close(code?: number, reason?: string): void;
}
/** A constructor for {@link WebSocketLike}, e.g. `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `reconnect.*`: when and how often to try again. */
export interface ReconnectOptions {
  /**
   * The delay cap before the first retry, in ms; attempt n waits up to `minDelay * factor^n`.
   * @default 1000
   */
  minDelay?: number;
  /** The largest delay between attempts, in ms. @default 30000 */
  maxDelay?: number;
  /** How much the delay cap grows per failed attempt. At least 1. @default 2 */
  factor?: number;
  /**
   * How randomness spreads the delay: `'full'` draws from `[0, cap)`, `'equal'` from
   * `[cap/2, cap)`, `'none'` uses the cap.
   * @default 'full'
   */
  jitter?: Jitter;
  /** Retries after which the client gives up (`giveup`, state `closed`). @default Infinity */
  maxRetries?: number;
  /** An attempt that has not opened after this many ms is abandoned and counted as failed. @default 10000 */
  connectTimeout?: number;
  /**
   * The backoff resets only after a connection stayed open this many ms, so a server that
   * accepts and drops at once sees growing delays.
   * @default 5000
   */
  stableAfter?: number;
  /**
   * Overrides the close-code policy: return `false` to give up (`FATAL_CLOSE`), `true` to retry.
   * Not asked after the user's own `close()`, nor for `auth.failCodes`.
   * @example
   * ```ts
   * shouldReconnect: (ev) => ev.code !== 4000 // our server's "kicked out"
   * ```
   */
  shouldReconnect?: (event: CloseInfo, attempt: number) => boolean;
  /**
   * The server's advice on the delay in ms for the next attempt, or `undefined` for none;
   * clamped to `maxDelay`. The default reads a `retry-after=<ms>` token from the close reason.
   * @example
   * ```ts
   * retryAfter: (ev) => (ev.code === 4290 ? 60000 : undefined)
   * ```
   */
  retryAfter?: (event: CloseInfo) => number | undefined;
}

/** `queue.*`: what happens to messages that cannot go out at once. */
export interface QueueOptions {
  /** While open, messages go straight to the socket only below this native `bufferedAmount`, in bytes. @default 1048576 */
  highWaterMark?: number;
  /** The queue drains again once the native `bufferedAmount` falls below this, in bytes. @default 262144 */
  lowWaterMark?: number;
  /** The most messages the queue holds. @default 10000 */
  maxMessages?: number;
  /** The most bytes the queue holds. @default 16777216 */
  maxBytes?: number;
  /**
   * When the queue is full: `'drop-oldest'` and `'drop-newest'` drop a message (with a `drop`
   * event), `'error'` makes `send()` throw `QUEUE_FULL`.
   * @default 'drop-oldest'
   */
  overflow?: 'drop-oldest' | 'drop-newest' | 'error';
  /** Queued messages older than this many ms are dropped (`drop` with `'expired'`). @default Infinity */
  ttl?: number;
  /**
   * `'unsent'`: when a connection dies, the messages whose bytes the browser still held in
   * `bufferedAmount` are queued again, whole, and sent after reconnecting. `false`: they are lost.
   * @default 'unsent'
   */
  resend?: 'unsent' | false;
}

/** `auth.*`: a token that is fetched before every attempt and refreshed when refused. */
export interface AuthOptions {
  /**
   * The token, or a (sync or async) provider asked before every attempt.
   * @example
   * ```ts
   * token: async ({ reason }) => (await fetch('/token', { cache: 'no-store' })).text()
   * ```
   */
  token: TokenProvider;
  /**
   * Where the token travels: `'query'` (URL parameter `param`), `'protocol'` (an extra
   * subprotocol `protocolPrefix + token`), or `'message'` (`message(token)` sent first on open).
   * @default 'query'
   */
  via?: 'query' | 'protocol' | 'message';
  /** The query parameter for `via: 'query'`. @default 'token' */
  param?: string;
  /**
   * The prefix of the carrier subprotocol for `via: 'protocol'`. The token must then be a legal
   * subprotocol token; encode it with `base64url()` if it is not.
   * @default 'bearer.'
   */
  protocolPrefix?: string;
  /** Builds the first message for `via: 'message'`; its result is sent as it is. @default (token) => JSON.stringify({ type: 'auth', token }) */
  message?: (token: string) => WireData;
  /** Close codes that mean "token refused": the token is refreshed and the attempt repeated at once. @default [1008, 4001, 4003, 4401, 4403] */
  failCodes?: readonly number[];
  /** Consecutive refusals after which the client gives up with `AUTH_FAILED`. @default 3 */
  maxFailures?: number;
  /** Refuse (with `AUTH_FAILED`) instead of warn when a token would go over `ws://` to a non-local host. @default false */
  requireSecure?: boolean;
}

/** `heartbeat.*`: application-level pings that find dead links. Recommended: `{ interval: 25000, timeout: 10000 }`. */
export interface HeartbeatOptions {
  /** Send a ping after this many ms without inbound data. @default 25000 */
  interval?: number;
  /** Declare the link dead when nothing arrives this many ms after a ping. @default 10000 */
  timeout?: number;
  /** The ping, sent as it is. @default 'ping' */
  message?: WireData;
  /** Recognises the server's pong, which is then not emitted as `message`. @default (data) => data === 'pong' */
  isPong?: (data: IncomingData) => boolean;
}

/**
 * Everything `new ResilientWebSocket(url, protocols, options)` accepts. All fields are optional
 * except `auth.token` when `auth` is given.
 */
export interface Options<TSend = WireData, TReceive = IncomingData> {
  /** Reconnection and backoff, or `false` to never retry. */
  reconnect?: ReconnectOptions | false;
  /** Queue bounds and flow control. */
  queue?: QueueOptions;
  /** Token authentication. Off unless given. */
  auth?: AuthOptions;
  /** Application-level heartbeat. Off unless given. */
  heartbeat?: HeartbeatOptions | false;
  /** One codec for every connection. */
  codec?: Codec<TSend, TReceive>;
  /** A codec per negotiated subprotocol; falls back to `codec`. */
  codecs?: Readonly<Record<string, Codec<TSend, TReceive>>>;
  /**
   * The handshake gate: after `open`, queued messages wait until an incoming message passes
   * this test (the server's hello or auth reply). Only `auth.message` and messages sent with
   * `{ beforeReady: true }` go out before.
   * @example
   * ```ts
   * ready: (msg) => msg.type === 'welcome'
   * ```
   */
  ready?: (data: TReceive) => boolean;
  /** Stop retrying while the page is hidden; try at once when it is visible again. @default false */
  pauseWhenHidden?: boolean;
  /** The WebSocket constructor; defaults to `globalThis.WebSocket`. Pass `ws` in old Node versions. */
  WebSocket?: WebSocketConstructor;
  /** Applied to every native socket. @default 'blob' */
  binaryType?: BinaryType;
  /** @internal Clock in ms (tests simulate throttled timers). */
  now?: () => number;
  /** @internal Randomness in [0, 1) for jitter. */
  random?: () => number;
}

/** @internal What the rest of the code reads: every option present and checked. */
export interface Normalized {
  readonly reconnect: Readonly<Required<Omit<ReconnectOptions, 'shouldReconnect'>>> &
    Pick<ReconnectOptions, 'shouldReconnect'>;
  readonly queue: Readonly<Required<QueueOptions>>;
  readonly auth: Readonly<Required<AuthOptions>> | undefined;
  readonly heartbeat: Readonly<Required<HeartbeatOptions>> | undefined;
  readonly codec: Codec<unknown, unknown> | undefined;
  readonly codecs: Readonly<Record<string, Codec<unknown, unknown>>>;
  readonly ready: ((data: unknown) => boolean) | undefined;
  readonly pauseWhenHidden: boolean;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly binaryType: BinaryType;
  readonly now: () => number;
  readonly random: () => number;
}

const retryAfterToken = /(?:^|[\s;,])retry-after=(\d+)/i;

/**
 * The default `reconnect.retryAfter`: a `retry-after=<ms>` token in the close reason.
 *
 * @example
 * ```ts
 * readRetryAfter({ code: 1013, reason: 'busy; retry-after=5000', wasClean: true }); // 5000
 * ```
 */
export const readRetryAfter = (event: CloseInfo): number | undefined => {
  const m = retryAfterToken.exec(event.reason);
  return m ? Number(m[1]) : undefined;
};

/**
 * Every default in one place; the README table is checked against it by a test.
 *
 * @example
 * ```ts
 * new ResilientWebSocket(url, [], { reconnect: { maxDelay: DEFAULTS.reconnect.maxDelay * 2 } });
 * ```
 */
export const DEFAULTS = {
  reconnect: {
    minDelay: 1000,
    maxDelay: 30_000,
    factor: 2,
    jitter: 'full' as Jitter,
    maxRetries: Infinity,
    connectTimeout: 10_000,
    stableAfter: 5000,
    retryAfter: readRetryAfter,
  },
  queue: {
    highWaterMark: 1024 * 1024,
    lowWaterMark: 256 * 1024,
    maxMessages: 10_000,
    maxBytes: 16 * 1024 * 1024,
    overflow: 'drop-oldest' as const,
    ttl: Infinity,
    resend: 'unsent' as const,
  },
  auth: {
    via: 'query' as const,
    param: 'token',
    protocolPrefix: 'bearer.',
    message: (token: string): WireData => JSON.stringify({ type: 'auth', token }),
    failCodes: [1008, 4001, 4003, 4401, 4403] as readonly number[],
    maxFailures: 3,
    requireSecure: false,
  },
  heartbeat: {
    interval: 25_000,
    timeout: 10_000,
    message: 'ping' as WireData,
    isPong: (data: IncomingData): boolean => data === 'pong',
  },
  pauseWhenHidden: false,
  binaryType: 'blob' as BinaryType,
} as const;

// Names from reconnecting-websocket and partysocket, so a migration gets a pointer, not a shrug.
const RENAMED: Readonly<Record<string, string>> = {
  minReconnectionDelay: 'reconnect.minDelay',
  maxReconnectionDelay: 'reconnect.maxDelay',
  reconnectionDelayGrowFactor: 'reconnect.factor',
  minUptime: 'reconnect.stableAfter',
  connectionTimeout: 'reconnect.connectTimeout',
  maxRetries: 'reconnect.maxRetries',
  maxEnqueuedMessages: 'queue.maxMessages',
  startClosed: "nothing: call close() right after construction, then reconnect()",
  debug: "nothing: subscribe with ws.on('statechange', …) instead",
};

const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : typeof v === 'function' ? 'a function' : String(v);

const bad = (path: string, value: unknown, want: string): never => {
  throw fail('INVALID_OPTION', `${path ? `options.${path}` : 'options'} must be ${want}, got ${show(value)}`);
};

/** A check returns what the value should have been, or nothing when it is fine. */
type Check = (v: unknown) => string | undefined;

const atLeast =
  (min: number, kind: 'finite' | 'number' | 'integer'): Check =>
  (v) =>
    typeof v === 'number' &&
    v >= min &&
    (kind === 'finite' ? Number.isFinite(v) : kind === 'integer' ? Number.isInteger(v) || v === Infinity : true)
      ? undefined
      : `${kind === 'finite' ? 'a finite number' : kind === 'integer' ? 'an integer' : 'a number'} >= ${min}`;
const oneOf =
  (...allowed: readonly unknown[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `one of ${allowed.map(show).join(', ')}`;
const typed =
  (type: 'function' | 'boolean' | 'string', optional = true): Check =>
  (v) =>
    typeof v === type || (optional && v === undefined) ? undefined : `a ${type}`;
const isCodec = (c: unknown): boolean =>
  typeof c === 'object' && c !== null && typeof (c as Codec).encode === 'function' && typeof (c as Codec).decode === 'function';
const codec: Check = (v) => (v === undefined || isCodec(v) ? undefined : 'an object with encode() and decode()');
const fn: Check = (v) => (v === undefined || typeof v === 'function' ? undefined : 'a function');

// One row per option: the checks also list the known keys of each group. Built on first use, so
// an import that leaves the client out (e.g. only jsonCodec) leaves these out too.
const makeRules = () => ({
  reconnect: {
    minDelay: atLeast(0, 'finite'),
    maxDelay: atLeast(0, 'finite'),
    factor: atLeast(1, 'finite'),
    jitter: oneOf('full', 'equal', 'none'),
    maxRetries: atLeast(0, 'integer'),
    connectTimeout: atLeast(1, 'finite'),
    stableAfter: atLeast(0, 'finite'),
    shouldReconnect: fn,
    retryAfter: fn,
  },
  queue: {
    highWaterMark: atLeast(0, 'finite'),
    lowWaterMark: atLeast(0, 'finite'),
    maxMessages: atLeast(0, 'integer'),
    maxBytes: atLeast(0, 'number'),
    overflow: oneOf('drop-oldest', 'drop-newest', 'error'),
    ttl: atLeast(0, 'number'),
    resend: oneOf('unsent', false),
  },
  auth: {
    token: () => undefined, // checked apart: its value must never reach a message
    via: oneOf('query', 'protocol', 'message'),
    param: (v: unknown) => (typeof v === 'string' && v ? undefined : 'a non-empty string'),
    protocolPrefix: typed('string', false),
    message: fn,
    failCodes: (v: unknown) =>
      Array.isArray(v) && v.every((c) => Number.isInteger(c) && c >= 1000 && c <= 4999) ? undefined : 'an array of close codes (1000–4999)',
    maxFailures: atLeast(1, 'integer'),
    requireSecure: typed('boolean', false),
  },
  heartbeat: {
    interval: atLeast(1, 'finite'),
    timeout: atLeast(1, 'finite'),
    message: () => undefined,
    isPong: fn,
  },
});
type Rules = ReturnType<typeof makeRules>;
let RULES: Rules | undefined;

const makeTop = (): Record<string, Check> => ({
  reconnect: () => undefined,
  queue: () => undefined,
  auth: () => undefined,
  heartbeat: () => undefined,
  codec,
  codecs: (v) => (v === undefined || (typeof v === 'object' && v !== null) ? undefined : 'an object mapping subprotocols to codecs'),
  ready: fn,
  pauseWhenHidden: typed('boolean'),
  WebSocket: fn,
  binaryType: (v) => (v === undefined ? undefined : oneOf('blob', 'arraybuffer')(v)),
  now: fn,
  random: fn,
});
let TOP: Record<string, Check> | undefined;

/** Rejects unknown keys (pointing renamed ones to their new name), then runs every check. */
function check(prefix: string, given: object, rules: Record<string, Check>): void {
  const known = Object.keys(rules);
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue;
    const to = RENAMED[key];
    throw fail(
      'INVALID_OPTION',
      to ? `options.${prefix}${key} was renamed: use ${to}` : `options.${prefix}${key} is not an option (known: ${known.join(', ')})`,
    );
  }
  for (const key of known) {
    const v = (given as Record<string, unknown>)[key];
    const want = rules[key]!(v);
    if (want) bad(prefix + key, v, want);
  }
}

/** A group's defaults with the given values over them, checked. */
function group<T extends object>(name: keyof Rules, given: unknown, defaults: T): T {
  if (given === undefined) return defaults;
  if (typeof given !== 'object' || given === null) bad(name, given, 'an object');
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given as object)) if (v !== undefined || !(k in out)) out[k] = v;
  check(`${name}.`, out, (RULES ??= makeRules())[name]);
  return out as T;
}

/**
 * Checks every option and fills in the defaults, once, in the constructor. Throws
 * `INVALID_OPTION` naming the option and the bad value. @internal
 */
export function normalizeOptions(options: object | undefined): Normalized {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') bad('', options, 'an object');
  const o = options as Options<unknown, unknown>;
  check('', o, (TOP ??= makeTop()));

  const r =
    o.reconnect === false ? { ...DEFAULTS.reconnect, maxRetries: 0 } : group('reconnect', o.reconnect, DEFAULTS.reconnect as Normalized['reconnect']);
  if (r.maxDelay < r.minDelay) bad('reconnect.maxDelay', r.maxDelay, `>= reconnect.minDelay (${r.minDelay})`);
  const q = group('queue', o.queue, DEFAULTS.queue as Required<QueueOptions>);
  if (q.lowWaterMark > q.highWaterMark) bad('queue.lowWaterMark', q.lowWaterMark, `<= queue.highWaterMark (${q.highWaterMark})`);

  let auth: Required<AuthOptions> | undefined;
  if (o.auth !== undefined) {
    // `auth: 'eyJ…'` is likely the token itself: name its type, never its value.
    if (typeof o.auth !== 'object' || o.auth === null) {
      throw fail('INVALID_OPTION', `options.auth must be an object, got ${o.auth === null ? 'null' : typeof o.auth}`);
    }
    const token: unknown = o.auth.token;
    if (typeof token !== 'function' && (typeof token !== 'string' || token === '')) {
      throw fail('INVALID_OPTION', `options.auth.token must be a non-empty string or a function, got ${typeof token}`);
    }
    auth = group('auth', o.auth, DEFAULTS.auth as Required<AuthOptions>);
  }

  const heartbeat =
    o.heartbeat === undefined || o.heartbeat === false ? undefined : group('heartbeat', o.heartbeat, DEFAULTS.heartbeat as Required<HeartbeatOptions>);

  if (o.codecs) for (const [p, c] of Object.entries(o.codecs)) if (!isCodec(c)) bad(`codecs[${show(p)}]`, c, 'an object with encode() and decode()');

  return Object.freeze({
    reconnect: Object.freeze(r),
    queue: Object.freeze(q),
    auth: auth && Object.freeze(auth),
    heartbeat: heartbeat && Object.freeze(heartbeat),
    codec: o.codec as Codec<unknown, unknown> | undefined,
    codecs: Object.freeze({ ...(o.codecs as Record<string, Codec<unknown, unknown>> | undefined) }),
    ready: o.ready,
    pauseWhenHidden: o.pauseWhenHidden ?? DEFAULTS.pauseWhenHidden,
    WebSocket: o.WebSocket,
    binaryType: o.binaryType ?? DEFAULTS.binaryType,
    now: o.now ?? (() => (typeof performance !== 'undefined' ? performance.now() : Date.now())),
    random: o.random ?? Math.random,
  });
}

/**
 * Checks the per-message options of `send()`: a typo such as `{ volatle: true }` must not pass
 * silently. Only runs when options are given, so the plain `send(data)` path pays nothing. @internal
 */
export function checkSendOptions(options: object): void {
  SEND ??= { volatile: typed('boolean'), beforeReady: typed('boolean'), ttl: (v) => (v === undefined ? undefined : atLeast(0, 'number')(v)) };
  try {
    check('', options, SEND);
  } catch (err) {
    throw fail('INVALID_OPTION', `send(): ${(err as Error).message}`);
  }
}
let SEND: Record<string, Check> | undefined;
