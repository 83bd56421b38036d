import type { Jitter } from './backoff.js';
import type { Codec, IncomingData, WireData } from './codec.js';
import { invalid } from './errors.js';
import type { Plugin } from './plugin.js';

/** A value, or a function (sync or async) asked before every connection attempt. */
export type Provider<T> = T | (() => T | Promise<T>);

/** The URL to connect to: `ws:`, `wss:`, `http:`, `https:` or relative to the page (converted with `String()`). */
export type UrlProvider = Provider<string | URL | { toString(): string }>;

/** The subprotocols to offer, as for the native constructor. */
export type ProtocolsProvider = Provider<string | string[] | undefined>;

/** What a close looked like: the native `CloseEvent` fields, also for closes the library made. */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

/** The WHATWG `WebSocket` shape (the browser's, Node's, or the `ws` package's). */
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
  /** Failed attempts since the last stable connection after which the client gives up (`giveup`, state `closed`). @default Infinity */
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
  /** While open, messages go straight to the socket only below this native `bufferedAmount`, in bytes (at least 1). @default 1048576 */
  highWaterMark?: number;
  /** The queue drains again once the native `bufferedAmount` falls to this, in bytes. @default 262144 */
  lowWaterMark?: number;
  /**
   * The most messages the queue holds while there is no open connection. While open, the queue
   * holds what flow control holds back without bound (it drains), unless you set this yourself.
   * @default 10000
   */
  maxMessages?: number;
  /** The most bytes the queue holds while there is no open connection; like `maxMessages`, set it yourself to bound the open queue too. @default 16777216 */
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

/** `lazy`: connect on demand. */
export interface LazyOptions {
  /** How long the connection stays after the last `subscribe()` subscriber left, in ms. @default 3000 */
  lingerMs?: number;
}

/** The options every entry takes (`resilient-ws` and `resilient-ws/core`). */
export interface BaseOptions<TSend = WireData, TReceive = IncomingData> {
  /** Reconnection and backoff, or `false` to never retry (no retry path runs, auth refresh included). */
  reconnect?: ReconnectOptions | false;
  /** Queue bounds and flow control. */
  queue?: QueueOptions;
  /** One codec for every connection. */
  codec?: Codec<TSend, TReceive>;
  /** A codec per negotiated subprotocol; falls back to `codec`. */
  codecs?: Readonly<Record<string, Codec<TSend, TReceive>>>;
  /**
   * The handshake gate: after `open`, queued messages wait until an incoming message passes
   * this test (the server's hello or auth reply). Only the auth message and messages sent with
   * `{ beforeReady: true }` go out before.
   * @example
   * ```ts
   * ready: (msg) => msg.type === 'welcome'
   * ```
   */
  ready?: (data: TReceive) => boolean;
  /** The WebSocket constructor; defaults to the native one (found also when `globalThis.WebSocket` was replaced by this class). Pass `ws` in Node. */
  WebSocket?: WebSocketConstructor;
  /** Applied to every native socket. @default 'blob' */
  binaryType?: BinaryType;
  /**
   * Connect on demand: the client does not connect in the constructor but when the first
   * `subscribe()` subscriber arrives, and closes `lingerMs` after the last one left (a new
   * subscriber within the linger keeps the connection). `true` uses the default linger.
   * @default false
   */
  lazy?: boolean | LazyOptions;
  /** More plug-ins (for example `reliable()`), run after `auth`, `heartbeat` and `page`, in order. */
  plugins?: readonly Plugin[];
}

/** The options of `resilient-ws/core`: features are plug-ins. */
export interface CoreOptions<TSend = WireData, TReceive = IncomingData> extends BaseOptions<TSend, TReceive> {
  /** Token authentication: `tokenAuth({ token, via })`. */
  auth?: Plugin;
  /** Liveness: `heartbeat({ interval, timeout })`. */
  heartbeat?: Plugin | false;
  /** Page life (online/offline, visibility, bfcache, freeze): `pageLife()`. */
  page?: Plugin | false;
}

/** @internal What the rest of the core reads: every option present and checked. */
export interface Normalized {
  readonly reconnect: Readonly<Required<Omit<ReconnectOptions, 'shouldReconnect'>>> & Pick<ReconnectOptions, 'shouldReconnect'>;
  readonly noRetry: boolean;
  readonly queue: Readonly<Required<QueueOptions>>;
  /** The bounds that apply while open: only those the user set. */
  readonly openLimits: { readonly maxMessages: number; readonly maxBytes: number };
  readonly codec: Codec<unknown, unknown> | undefined;
  readonly codecs: Readonly<Record<string, Codec<unknown, unknown>>>;
  readonly ready: ((data: unknown) => boolean) | undefined;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly binaryType: BinaryType;
  readonly linger: number | undefined;
  readonly plugins: readonly Plugin[];
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

/** @internal The core's defaults; `DEFAULTS` (the full entry) adds the plug-ins'. */
export const CORE_DEFAULTS = {
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
  binaryType: 'blob' as BinaryType,
  lazy: { lingerMs: 3000 },
};

/** @internal How a value is named in an error message (never the value of a token). */
export const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : typeof v === 'function' ? 'a function' : v === null ? 'null' : typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : String(v);

/** @internal A check returns what the value should have been, or nothing when it is fine. */
export type Check = (v: unknown) => string | undefined;

/** @internal A number >= `min`; `int`: an integer; `inf`: Infinity allowed. */
export const num =
  (min: number, int?: boolean, inf?: boolean): Check =>
  (v) =>
    typeof v === 'number' && v >= min && (v === Infinity ? inf : !int || Number.isInteger(v))
      ? undefined
      : `${int ? 'an integer' : inf ? 'a number' : 'a finite number'} >= ${min}`;
/** @internal */
export const oneOf =
  (...allowed: readonly unknown[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : `one of ${allowed.map(show).join(', ')}`;
/** @internal */
export const fn: Check = (v) => (typeof v === 'function' ? undefined : 'a function');
/** @internal */
export const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'a boolean');
/** @internal What the native `send()` takes. */
export const isWire = (v: unknown): v is WireData =>
  typeof v === 'string' ||
  (typeof Blob !== 'undefined' && v instanceof Blob) ||
  v instanceof ArrayBuffer ||
  ArrayBuffer.isView(v) ||
  (typeof SharedArrayBuffer !== 'undefined' && v instanceof SharedArrayBuffer);

/** @internal Throws `INVALID_OPTION` (a `TypeError`) naming the option and the bad value. */
export const bad = (path: string, value: unknown, want: string): never => {
  throw invalid('INVALID_OPTION', `${path} must be ${want}, got ${show(value)}`);
};

/** @internal Throws `INVALID_OPTION` (see {@link bad}) unless `rule` accepts `value`. */
export const check = (path: string, value: unknown, rule: Check): void => {
  const want = rule(value);
  if (want) bad(path, value, want);
};

/**
 * @internal A group's defaults with the given values over them, every key known and checked.
 * `given` must be a plain object; `undefined` values mean "the default".
 */
export function group<T extends object>(path: string, given: unknown, defaults: T, rules: Record<string, Check>): T {
  if (given === undefined) return defaults;
  if (typeof given !== 'object' || given === null || Array.isArray(given)) bad(path, given, 'an object');
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given as object)) {
    const rule = rules[k];
    if (!rule) throw invalid('INVALID_OPTION', `${path}.${k} is not an option (known: ${Object.keys(rules).join(', ')})`);
    if (v === undefined) continue;
    check(`${path}.${k}`, v, rule);
    out[k] = v;
  }
  return out as T;
}

const HOOKS = ['init', 'state', 'attempt', 'open', 'receive', 'send', 'ready', 'close', 'hold', 'check'];
/** @internal A plug-in is an object with at least one hook. */
export const plugin = (path: string, v: unknown): Plugin => {
  if (typeof v !== 'object' || v === null || !HOOKS.some((h) => typeof (v as Record<string, unknown>)[h] === 'function')) {
    const factory = { 'options.auth': 'tokenAuth', 'options.heartbeat': 'heartbeat', 'options.page': 'pageLife' }[path];
    bad(
      path,
      v,
      factory
        ? `a plug-in: wrap the options in ${factory}({ … }) from resilient-ws/core, or import from resilient-ws, which takes v1 option objects`
        : 'a plug-in (an object of hooks, e.g. from a factory in resilient-ws/core)',
    );
  }
  return v as Plugin;
};

const TOP = ['reconnect', 'queue', 'codec', 'codecs', 'ready', 'WebSocket', 'binaryType', 'lazy', 'plugins', 'auth', 'heartbeat', 'page'];
const codec: Check = (c) =>
  typeof c === 'object' && c !== null && typeof (c as Codec).encode === 'function' && typeof (c as Codec).decode === 'function'
    ? undefined
    : 'an object with encode() and decode()';

/**
 * Checks every core option and fills in the defaults, once, in the constructor. Throws
 * `INVALID_OPTION` naming the option and the bad value. @internal
 */
export function normalizeOptions(options: unknown): Normalized {
  if (options == null) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) bad('options', options, 'an object');
  const o = options as CoreOptions<unknown, unknown>;
  for (const k of Object.keys(o)) {
    if (!TOP.includes(k)) throw invalid('INVALID_OPTION', `options.${k} is not an option (known: ${TOP.join(', ')})`);
  }
  const D = CORE_DEFAULTS;
  const r =
    o.reconnect === false
      ? { ...D.reconnect, maxRetries: 0 }
      : group('options.reconnect', o.reconnect, D.reconnect as Normalized['reconnect'], {
          minDelay: num(0),
          maxDelay: num(0),
          factor: num(1),
          jitter: oneOf('full', 'equal', 'none'),
          maxRetries: num(0, true, true),
          connectTimeout: num(1),
          stableAfter: num(0),
          shouldReconnect: fn,
          retryAfter: fn,
        });
  if (r.maxDelay < r.minDelay) bad('options.reconnect.maxDelay', r.maxDelay, `>= reconnect.minDelay (${r.minDelay})`);
  const q = group('options.queue', o.queue, D.queue as Required<QueueOptions>, {
    highWaterMark: num(1),
    lowWaterMark: num(0),
    maxMessages: num(0, true, true),
    maxBytes: num(0, false, true),
    overflow: oneOf('drop-oldest', 'drop-newest', 'error'),
    ttl: num(0, false, true),
    resend: oneOf('unsent', false),
  });
  if (q.lowWaterMark > q.highWaterMark) bad('options.queue.lowWaterMark', q.lowWaterMark, `<= queue.highWaterMark (${q.highWaterMark})`);
  if (o.codec !== undefined) check('options.codec', o.codec, codec);
  if (o.codecs !== undefined) {
    if (typeof o.codecs !== 'object' || o.codecs === null) bad('options.codecs', o.codecs, 'an object mapping subprotocols to codecs');
    for (const [p, c] of Object.entries(o.codecs)) check(`options.codecs[${show(p)}]`, c, codec);
  }
  for (const k of ['ready', 'WebSocket'] as const) if (o[k] !== undefined) check(`options.${k}`, o[k], fn);
  if (o.binaryType !== undefined) check('options.binaryType', o.binaryType, oneOf('blob', 'arraybuffer'));
  const lazy = o.lazy === true ? {} : o.lazy === false ? undefined : o.lazy;
  // Only `undefined` is "not lazy": `lazy: 0` or `null` must fail, not turn lazy on.
  const linger = lazy === undefined ? undefined : group('options.lazy', lazy, D.lazy, { lingerMs: num(0) }).lingerMs;
  const plugins: Plugin[] = [];
  for (const k of ['auth', 'heartbeat', 'page'] as const) if (o[k] !== undefined && o[k] !== false) plugins.push(plugin(`options.${k}`, o[k]));
  if (o.plugins !== undefined) {
    if (!Array.isArray(o.plugins)) bad('options.plugins', o.plugins, 'an array of plug-ins');
    o.plugins.forEach((p, i) => plugins.push(plugin(`options.plugins[${i}]`, p)));
  }
  const given = (o.queue ?? {}) as QueueOptions;
  return {
    reconnect: r,
    noRetry: r.maxRetries === 0,
    queue: q,
    openLimits: { maxMessages: given.maxMessages ?? Infinity, maxBytes: given.maxBytes ?? Infinity },
    codec: o.codec,
    codecs: { ...o.codecs },
    ready: o.ready,
    WebSocket: o.WebSocket,
    binaryType: o.binaryType ?? D.binaryType,
    linger,
    plugins,
  };
}

/**
 * Checks the per-message options of `send()`: a typo such as `{ volatle: true }` must not pass
 * silently. Only runs when options are given, so the plain `send(data)` path pays nothing. @internal
 */
export function checkSendOptions(options: unknown): void {
  try {
    // A Map or a class instance would pass `group` with its options silently ignored. A plain
    // object's prototype is a realm's Object.prototype (or null), whose own prototype is null.
    const proto: unknown = typeof options === 'object' && options !== null ? Object.getPrototypeOf(options) : null;
    if (proto !== null && Object.getPrototypeOf(proto) !== null) bad('send() options', options, 'a plain object');
    group('send() options', options, {}, { volatile: bool, beforeReady: bool, ttl: num(0, false, true) });
  } catch (err) {
    throw invalid('INVALID_OPTION', (err as Error).message);
  }
}
