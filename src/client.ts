import mitt from 'mitt';
import { backoff } from './backoff.js';
import { byteLength, type Codec, type IncomingData, type WireData } from './codec.js';
import { CLOSE_ABNORMAL, CLOSE_NORMAL, CLOSE_TIMEOUT_MS, CLOSE_TRY_AGAIN_LATER, DRAIN_POLL_MS, FATAL_CLOSE_CODES, MAX_REASON_BYTES } from './constants.js';
import { fail, invalid, isResilientWebSocketError, type ResilientWebSocketError } from './errors.js';
import { makeCloseEvent, type ClientEvents, type DropReason, type GiveupReason, type Snapshot } from './events.js';
import {
  check,
  checkSendOptions,
  fn as isFunction,
  isWire,
  normalizeOptions,
  show,
  type CloseInfo,
  type CoreOptions,
  type Normalized,
  type ProtocolsProvider,
  type UrlProvider,
  type WebSocketConstructor,
} from './options.js';
import type { AttemptPlan, CloseDecision, Plugin, PluginHost } from './plugin.js';
import { Fifo, SentLog, type Entry } from './queue.js';
import { MOVES, readyStateOf, type State } from './state.js';
import { Timer } from './timer.js';
import { normalizeUrl, publicUrl, toProtocols } from './url.js';

/** Per-message options of {@link ResilientWebSocket.send}. */
export interface SendOptions {
  /** Drop the message (with a `drop` event) instead of queueing it when it cannot go out at once; never re-sent. */
  volatile?: boolean;
  /** Overrides `queue.ttl` for this message, in ms. */
  ttl?: number;
  /** Let the message pass the `ready` gate, like the auth message. */
  beforeReady?: boolean;
}

/** What {@link ResilientWebSocket.send} did with a message. */
export type SendResult = 'sent' | 'queued' | 'dropped';

/** A native-style `on…` handler: called with the client as `this`. */
export type DomHandler<This, E extends Event = Event> = ((this: This, ev: E) => unknown) | null;

/** The native socket, seen through the one shape every implementation shares. */
interface Native {
  readonly readyState: number;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount?: number;
  binaryType: string;
  onopen: (() => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: (() => void) | null;
  onclose: ((ev: CloseInfo) => void) | null;
  send(data: WireData): void;
  close(code?: number, reason?: string): void;
}

type DomType = 'open' | 'message' | 'close' | 'error';
type Waiter = { flush: boolean; resolve: () => void; reject: (e: ResilientWebSocketError) => void };

const noop = (): void => undefined;
const UNBOUNDED = { maxMessages: Infinity, maxBytes: Infinity, overflow: 'drop-oldest' } as const;
const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const buffered = (s: Native): number => s.bufferedAmount ?? 0;
const abnormal = (reason: string): CloseInfo => ({ code: CLOSE_ABNORMAL, reason, wasClean: false });
/** `closing` or `closed`: nothing goes out until a new attempt starts. */
const ending = (st: State): boolean => st === 'closing' || st === 'closed';

// A listener that throws must not abort a move: report it the way the page would.
const report = (err: unknown): void => {
  if (typeof reportError === 'function') reportError(err);
  else console.error('resilient-ws: a listener threw', err);
};

/** Runs `f`; a throw is reported (as above) and gives `undefined`. */
const guarded = <T>(f: () => T): T | undefined => {
  try {
    return f();
  } catch (err) {
    report(err);
    return undefined;
  }
};

// Marks the class (and subclasses) so that a replaced `globalThis.WebSocket` is recognised.
const OWN = Symbol.for('resilient-ws.client');
const isOwn = (C: unknown): boolean => typeof C === 'function' && OWN in C;

/**
 * A drop-in `WebSocket` that reconnects with backoff and jitter and queues what it cannot send
 * yet, with a state machine that owns every effect, typed events and a store for UIs. This is
 * the core (`resilient-ws/core`): auth, heartbeat and page-life handling are plug-ins; the
 * `resilient-ws` entry has them built in.
 *
 * @typeParam TSend - what `send()` takes (wire data, or what the codec encodes).
 * @typeParam TReceive - what `message` delivers (wire data, or what the codec decodes).
 *
 * @example
 * ```ts
 * const ws = new ResilientWebSocket('wss://example.com/chat', ['chat.v1']);
 * ws.on('message', ({ data }) => console.log(data));
 * ws.send('hello'); // queued until open, sent in order
 * ```
 */
export class ResilientWebSocket<TSend = WireData, TReceive = IncomingData> extends EventTarget {
  /**
   * The socket is connecting, or waiting to reconnect (`readyState` 0).
   *
   * @example
   * ```ts
   * if (ws.readyState === ResilientWebSocket.CONNECTING) showSpinner();
   * ```
   */
  declare static readonly CONNECTING: 0;
  /**
   * The socket is open (`readyState` 1).
   *
   * @example
   * ```ts
   * if (ws.readyState === ResilientWebSocket.OPEN) hideSpinner();
   * ```
   */
  declare static readonly OPEN: 1;
  /**
   * `close()` was called and the closing handshake runs (`readyState` 2).
   *
   * @example
   * ```ts
   * ws.close();
   * ws.readyState === ResilientWebSocket.CLOSING; // true until the close event
   * ```
   */
  declare static readonly CLOSING: 2;
  /**
   * Closed; nothing happens until `reconnect()` (`readyState` 3).
   *
   * @example
   * ```ts
   * if (ws.readyState === ResilientWebSocket.CLOSED) ws.reconnect();
   * ```
   */
  declare static readonly CLOSED: 3;
  /**
   * `0`, on the prototype as on the native `WebSocket`.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CONNECTING;
   * ```
   */
  declare readonly CONNECTING: 0;
  /**
   * `1`, on the prototype as on the native `WebSocket`.
   *
   * @example
   * ```ts
   * ws.readyState === ws.OPEN;
   * ```
   */
  declare readonly OPEN: 1;
  /**
   * `2`, on the prototype as on the native `WebSocket`.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CLOSING;
   * ```
   */
  declare readonly CLOSING: 2;
  /**
   * `3`, on the prototype as on the native `WebSocket`.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CLOSED;
   * ```
   */
  declare readonly CLOSED: 3;

  readonly #o: Normalized;
  readonly #p: readonly Plugin[];
  /** A plug-in numbers and re-sends what it wraps: the core neither re-sends nor bounds it. */
  readonly #owned: boolean;
  readonly #Ctor: WebSocketConstructor;
  readonly #urlSource: UrlProvider;
  readonly #protocolsSource: ProtocolsProvider;
  readonly #events = mitt<ClientEvents<TSend, TReceive>>();
  readonly #dom: Partial<Record<DomType, { f: unknown; l: (ev: Event) => void }>> = {};
  readonly #queue = new Fifo();
  /** What went to the native socket and may still sit in its `bufferedAmount`. */
  readonly #sent = new SentLog();
  /** The one timer of the current state: connect timeout, stable-after, retry delay or close timeout. */
  readonly #timer = new Timer();
  /** While open and the queue waits: reads `bufferedAmount` until it falls to the low-water mark. */
  readonly #drain = new Timer();
  /** While `flush()`/`writable()` wait for the native buffer alone. */
  readonly #poll = new Timer();
  readonly #expiry = new Timer();
  readonly #linger = new Timer();
  #state: State;
  /** Bumped by every move: work of an older move (a provider, an event announcing it) compares and stops. */
  #epoch = 0;
  #socket: Native | undefined;
  /** Consecutive failed attempts since the last stable connection: the backoff exponent. */
  #retries = 0;
  #manual = false;
  #delay = 0;
  /** The close the current wait (reconnecting) follows, or what a socket-less `closing` will report. */
  #closeInfo: CloseInfo | undefined;
  #errorOnEnd = false;
  #userClosed = false;
  #url = '';
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType;
  #codec: Codec | undefined;
  #ready = false;
  #expiryAt = Infinity;
  #domMessage = false;
  #nextRetryAt: number | null = null;
  #lastClose: CloseInfo | null = null;
  #lastError: ResilientWebSocketError | null = null;
  /** Events waiting for delivery; `e` is the epoch of an announcement, 0 for a report. */
  #out: Array<{ e: number; f: () => void }> = [];
  #delivering = false;
  #waiters: Waiter[] = [];
  /** `last`: the snapshot the subscriber saw last, so that nobody gets the same one twice. */
  readonly #subs = new Set<{ f: (s: Snapshot) => void; last: Snapshot }>();
  #snap: Snapshot | undefined;
  #published: Snapshot | undefined;
  #publishing = false;

  /**
   * Connects at once, like the native constructor (or on the first subscriber with `lazy`),
   * and keeps reconnecting until `close()`.
   *
   * @param url - `ws:`, `wss:`, `http(s):` or page-relative URL (converted with `String()`), or
   *   a (sync or async) function asked before every attempt.
   * @param protocols - subprotocols to offer, or a function asked before every attempt.
   * @param options - see {@link CoreOptions}; validated at once (`INVALID_OPTION`).
   * @throws `INVALID_URL` (`SyntaxError`) or `INVALID_OPTION` (`TypeError`, or `SyntaxError`
   *   for a bad subprotocol) for bad input.
   *
   * @example
   * ```ts
   * const ws = new ResilientWebSocket(() => `wss://${region()}.example.com/ws`, 'v1.chat', {
   *   reconnect: { maxDelay: 10_000 },
   * });
   * ```
   */
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: CoreOptions<TSend, TReceive>);
  constructor(url: UrlProvider, ...rest: [ProtocolsProvider?, CoreOptions<TSend, TReceive>?]) {
    super();
    // WebIDL: the URL argument is required (native: "1 argument required"); `undefined` is not.
    if (!arguments.length) throw missingUrl();
    const [protocols, options] = rest;
    const o = (this.#o = normalizeOptions(options));
    if (typeof url !== 'function') this.#url = publicUrl(normalizeUrl(url));
    if (typeof protocols !== 'function') toProtocols(protocols);
    let C = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (isOwn(C)) C = NATIVE;
    if (!C || isOwn(C)) {
      throw invalid('INVALID_OPTION', 'options.WebSocket is required where no native WebSocket exists (pass the ws package in Node)');
    }
    this.#Ctor = C;
    this.#urlSource = url;
    this.#protocolsSource = protocols;
    this.#p = o.plugins;
    this.#owned = o.plugins.some((p) => p.ownsResend);
    this.#binaryType = o.binaryType;
    // Until a protocol is negotiated, messages queued with only `codecs` given still need a wire
    // form to be counted in bytes; `#pump` re-encodes them if the negotiated codec differs.
    this.#codec = o.codec ?? Object.values(o.codecs)[0];
    this.#state = o.linger === undefined ? 'connecting' : 'closed';
    const host = this.#host();
    for (const p of this.#p) p.init?.(host);
    // Start after the constructor returns, so listeners added right after `new` see the first
    // `connecting` event; a `close()` or `reconnect()` before then wins (the epoch moved on).
    if (this.#state === 'connecting') queueMicrotask(() => this.#epoch || this.#enter('connecting'));
  }

  // ---- native-compatible surface -------------------------------------------------------

  /**
   * `CONNECTING` (also while waiting to reconnect), `OPEN`, `CLOSING` or `CLOSED`, derived from `state`.
   *
   * @example
   * ```ts
   * button.disabled = ws.readyState !== ws.OPEN;
   * ```
   */
  get readyState(): 0 | 1 | 2 | 3 {
    return readyStateOf(this.#state);
  }

  /**
   * The detailed state; every change emits `statechange`.
   *
   * @example
   * ```ts
   * if (ws.state === 'reconnecting') banner.textContent = 'Reconnecting…';
   * ```
   */
  get state(): State {
    return this.#state;
  }

  /**
   * The URL of the current or last attempt, without credentials and without an auth token.
   *
   * @example
   * ```ts
   * console.log(ws.url); // 'wss://example.com/ws' even with auth.via 'query'
   * ```
   */
  get url(): string {
    return this.#url;
  }

  /**
   * The subprotocol the server picked on the current or last connection (never the auth carrier).
   *
   * @example
   * ```ts
   * ws.on('open', () => console.log(ws.protocol)); // e.g. 'v1.chat'
   * ```
   */
  get protocol(): string {
    return this.#protocol;
  }

  /**
   * The extensions the server picked on the current or last connection.
   *
   * @example
   * ```ts
   * ws.on('open', () => console.log(ws.extensions)); // e.g. 'permessage-deflate'
   * ```
   */
  get extensions(): string {
    return this.#extensions;
  }

  /**
   * How binary messages arrive; applied to every new native socket.
   *
   * @example
   * ```ts
   * ws.binaryType = 'arraybuffer';
   * ```
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    if (value !== 'blob' && value !== 'arraybuffer') return; // the native setter ignores bad values too
    this.#binaryType = value;
    if (this.#socket && !this.#p.some((p) => p.binaryType)) this.#socket.binaryType = value;
  }

  /**
   * Bytes not yet handed to the network: the native socket's plus the library's queue.
   *
   * @example
   * ```ts
   * if (ws.bufferedAmount > 4 * 1024 * 1024) pauseUploads();
   * ```
   */
  get bufferedAmount(): number {
    return (this.#socket ? buffered(this.#socket) : 0) + this.#queue.bytes;
  }

  /**
   * Bytes waiting in the library's queue (UTF-8 bytes of strings, `size` of Blobs, `byteLength`).
   *
   * @example
   * ```ts
   * status.textContent = `${ws.queuedMessages} messages (${ws.queuedAmount} B) waiting`;
   * ```
   */
  get queuedAmount(): number {
    return this.#queue.bytes;
  }

  /**
   * Messages waiting in the library's queue.
   *
   * @example
   * ```ts
   * ws.on('drain', () => (badge.textContent = String(ws.queuedMessages)));
   * ```
   */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /**
   * As on the native `WebSocket`: called with an `Event` each time a connection opens. It runs
   * at the position of its first assignment among the `open` listeners; a non-callable value
   * reads back as `null`.
   *
   * @example
   * ```ts
   * ws.onopen = () => console.log('connected');
   * ```
   */
  get onopen(): DomHandler<this, Event> {
    return this.#getH('open') as DomHandler<this, Event>;
  }
  set onopen(fn: DomHandler<this, Event>) {
    this.#setH('open', fn);
  }
  /**
   * As on the native `WebSocket`; receives a `MessageEvent` with the decoded data.
   *
   * @example
   * ```ts
   * ws.onmessage = (event) => console.log(event.data);
   * ```
   */
  get onmessage(): DomHandler<this, MessageEvent<TReceive>> {
    return this.#getH('message') as DomHandler<this, MessageEvent<TReceive>>;
  }
  set onmessage(fn: DomHandler<this, MessageEvent<TReceive>>) {
    this.#setH('message', fn);
  }
  /**
   * As on the native `WebSocket`; called with a `CloseEvent` for every closed connection, also ones that will be retried.
   *
   * @example
   * ```ts
   * ws.onclose = (event) => console.log(event.code, event.reason);
   * ```
   */
  get onclose(): DomHandler<this, CloseEvent> {
    return this.#getH('close') as DomHandler<this, CloseEvent>;
  }
  set onclose(fn: DomHandler<this, CloseEvent>) {
    this.#setH('close', fn);
  }
  /**
   * As on the native `WebSocket`: called when a connection fails, after the state moved on, right before its `close`.
   *
   * @example
   * ```ts
   * ws.onerror = () => console.warn('connection error');
   * ```
   */
  get onerror(): DomHandler<this, Event> {
    return this.#getH('error') as DomHandler<this, Event>;
  }
  set onerror(fn: DomHandler<this, Event>) {
    this.#setH('error', fn);
  }

  #getH(type: DomType): unknown {
    return this.#dom[type]?.f ?? null;
  }

  // HTML's event handler attributes: the listener is added at the first assignment, keeps its
  // place while the handler changes, and is removed by `null`.
  #setH(type: DomType, value: unknown): void {
    const f = typeof value === 'function' || (typeof value === 'object' && value !== null) ? value : null;
    const slot = this.#dom[type];
    if (f === null) {
      if (slot) super.removeEventListener(type, slot.l);
      delete this.#dom[type];
      return;
    }
    if (type === 'message') this.#domMessage = true;
    if (slot) {
      slot.f = f;
      return;
    }
    const s = {
      f,
      l: (ev: Event): void => {
        if (typeof s.f === 'function') (s.f as (this: unknown, ev: Event) => unknown).call(this, ev);
      },
    };
    this.#dom[type] = s;
    super.addEventListener(type, s.l);
  }

  /**
   * As on `EventTarget`, typed with the native `WebSocket` events.
   *
   * @example
   * ```ts
   * ws.addEventListener('message', (event) => console.log(event.data), { signal });
   * ```
   */
  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: ((this: ResilientWebSocket<TSend, TReceive>, ev: WebSocketEventMap[K]) => unknown) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    // MessageEvents are only built once someone can receive them: the receive path stays lean.
    if (type === 'message') this.#domMessage = true;
    super.addEventListener(type, listener, options);
  }

  /**
   * Sends now if the socket is open, ready and not backed up; otherwise queues (in order, never
   * twice) or drops with a `drop` event, as the queue options say. After `close()` it drops
   * the message (`drop` with `'closed'`) and returns `'dropped'`, never throwing, as the native
   * `send()` does not throw there either.
   *
   * @returns `'sent'`, `'queued'`, or `'dropped'`.
   * @throws `INVALID_DATA` (a `TypeError`) for data the native `send()` cannot take, in every
   *   state; `INVALID_OPTION` for bad `options`; `QUEUE_FULL` with `queue.overflow: 'error'`.
   *
   * @example
   * ```ts
   * ws.send(JSON.stringify({ type: 'typing' }), { volatile: true });
   * ws.send(order, { ttl: 30_000 });
   * ```
   */
  send(data: TSend, options?: SendOptions): SendResult;
  send(...args: [TSend, SendOptions?]): SendResult {
    if (!args.length) throw invalid('INVALID_DATA', 'send() needs the data to send, got no argument');
    const [data, options] = args;
    if (options !== undefined) checkSendOptions(options);
    const volatile = options?.volatile === true;
    const c = this.#codec;
    const wire = this.#encode(data, c, volatile);
    const st = this.#state;
    if (ending(st)) return this.#refuse(data, 'closed');
    const q = this.#o.queue;
    // A plug-in that owns re-sending numbers every message: expiring one would leave a gap.
    const ttl = this.#owned ? Infinity : (options?.ttl ?? q.ttl);
    const expires = ttl === Infinity ? Infinity : now() + ttl;
    const s = this.#socket;
    // The native socket may already be CLOSING (the server's close frame arrived before its close
    // event): its send() would discard the data, so the message is queued instead.
    if (st === 'open' && s && s.readyState === 1 && !this.#queue.length && (this.#ready || options?.beforeReady)) {
      const b = buffered(s);
      if (b < q.highWaterMark) {
        this.#transmit(s, b, data, wire, c, expires, volatile);
        return 'sent';
      }
    }
    if (volatile) return this.#refuse(data, 'volatile');
    const entry: Entry = { data, wire, codec: c, bytes: byteLength(wire), expires, beforeReady: options?.beforeReady === true };
    const dropped = this.#queue.offer(entry, this.#owned ? UNBOUNDED : st === 'open' ? { ...q, ...this.#o.openLimits } : q);
    const accepted = !dropped.includes(entry);
    if (accepted && expires < this.#expiryAt) this.#armExpiry();
    if (accepted && st === 'open' && !this.#drain.pending && (this.#ready || entry.beforeReady)) this.#pump();
    this.#drop(dropped, 'overflow');
    this.#changed();
    this.#deliver();
    return accepted ? 'queued' : 'dropped';
  }

  /**
   * Closes for good: no reconnect after this (until `reconnect()`). Queued messages are dropped
   * (`drop` with `'closed'`); bytes already handed to the native socket still go out before
   * the close frame. As natively, the state is `closing` at once and the `close` event follows
   * asynchronously; without a code no status code is sent (the server sees 1005).
   *
   * @param code - 1000 or 3000–4999.
   * @param reason - at most 123 UTF-8 bytes.
   * @throws `INVALID_CLOSE_CODE` (an `InvalidAccessError`), `INVALID_REASON` (a `SyntaxError`).
   *
   * @example
   * ```ts
   * ws.close(4000, 'logged out');
   * ```
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && !(code === CLOSE_NORMAL || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
      throw invalid('INVALID_CLOSE_CODE', `close code must be 1000 or 3000–4999, got ${show(code)}`, 'InvalidAccessError');
    }
    const text = reason === undefined ? '' : String(reason);
    const bytes = byteLength(text);
    if (bytes > MAX_REASON_BYTES) {
      throw invalid('INVALID_REASON', `close reason is ${bytes} UTF-8 bytes; at most ${MAX_REASON_BYTES} are allowed`, 'SyntaxError');
    }
    this.#userClosed = true;
    this.#linger.cancel();
    this.#close(code ?? (text ? CLOSE_NORMAL : undefined), text);
  }

  #close(code: number | undefined, reason: string): void {
    const st = this.#state;
    if (ending(st)) return;
    const s = this.#socket;
    // Native: close() while connecting fails the connection (error, then close 1006).
    this.#errorOnEnd = st === 'connecting' && !s;
    this.#closeInfo = this.#errorOnEnd ? abnormal('') : { code: code ?? 1005, reason, wasClean: true };
    if (s) {
      try {
        if (code === undefined) s.close();
        else s.close(code, reason);
      } catch {
        // Already closing natively: its close event ends `closing`.
      }
    }
    this.#enter('closing');
  }

  /**
   * Drops the current connection (if any) and connects again now with a fresh backoff. Works in
   * every state, also after a give-up or `close()`.
   *
   * @example
   * ```ts
   * ws.on('giveup', () => showButton('Retry', () => ws.reconnect()));
   * ```
   */
  reconnect(): void {
    this.#userClosed = false;
    this.#start();
  }

  #start(): void {
    const st = this.#state;
    // The socket being dropped is alive: the browser still transmits its buffer before the close
    // frame, so re-queueing those bytes would send them twice (test/browser/queue.test.ts).
    this.#sent.clear();
    this.#retries = 0;
    this.#manual = true;
    // Every connection that ends gets its close event, so apps pairing open/close stay right.
    const info = st === 'open' ? { code: CLOSE_NORMAL, reason: 'reconnect', wasClean: true } : st === 'closing' ? this.#closeInfo : undefined;
    this.#enter('connecting', info && (() => this.#closed(info)));
  }

  /**
   * Resolves when the queue is empty and the native `bufferedAmount` is 0 (also across a
   * reconnect); rejects with `CLOSED` on `close()` or a give-up. Never stays pending forever.
   *
   * @example
   * ```ts
   * ws.send(lastWords);
   * await ws.flush();
   * ws.close();
   * ```
   */
  flush(): Promise<void> {
    return this.#wait(true);
  }

  /**
   * Backpressure for producers: resolves when a `send()` now would go straight to the native
   * socket (open, past the `ready` gate, nothing queued, the native buffer under
   * `queue.highWaterMark`); rejects with `CLOSED` on `close()` or a give-up.
   *
   * @example
   * ```ts
   * for (const chunk of chunks) {
   *   await ws.writable();
   *   ws.send(chunk);
   * }
   * ```
   */
  writable(): Promise<void> {
    return this.#wait(false);
  }

  #wait(flush: boolean): Promise<void> {
    if (ending(this.#state)) return Promise.reject(fail('CLOSED', `${flush ? 'flush' : 'writable'}() while ${this.#state}`));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ flush, resolve, reject });
      this.#settle();
    });
  }

  /**
   * Subscribes to a typed event; returns the function that unsubscribes. A handler added while
   * an event is delivered gets the next event, not that one.
   *
   * @example
   * ```ts
   * const off = ws.on('statechange', ({ from, to }) => console.log(from, '→', to));
   * off();
   * ```
   */
  on<K extends keyof ClientEvents<TSend, TReceive>>(type: K, handler: (payload: ClientEvents<TSend, TReceive>[K]) => void): () => void {
    check(`on(${show(type)}, handler): handler`, handler, isFunction);
    this.#events.on(type, handler);
    return () => this.#events.off(type, handler);
  }

  /**
   * The store contract (Svelte's, and React's `useSyncExternalStore`): calls `fn` with the
   * snapshot at once and after every change; returns the unsubscribe. With `lazy`, the first
   * subscriber connects and the last one leaving starts the linger.
   *
   * @example
   * ```ts
   * const off = ws.subscribe((s) => (status.textContent = `${s.state} (${s.queuedMessages} queued)`));
   * ```
   */
  subscribe(fn: (snapshot: Snapshot) => void): () => void {
    check('subscribe(fn): fn', fn, isFunction);
    const sub = { f: fn, last: this.getSnapshot() };
    this.#subs.add(sub);
    fn(sub.last);
    const lazy = this.#o.linger !== undefined;
    if (lazy && !this.#userClosed) {
      this.#linger.cancel();
      // `closing` here is the idle close (a user's close() sets #userClosed): demand is back, so
      // connect again instead of ending up closed with a subscriber waiting.
      if (ending(this.#state) && this.#subs.has(sub)) this.#start();
    }
    return () => {
      if (this.#subs.delete(sub) && lazy && !this.#subs.size && !this.#userClosed) {
        this.#linger.schedule(this.#o.linger!, () => this.#close(CLOSE_NORMAL, 'idle'));
      }
    };
  }

  /**
   * The current connection state as a frozen object, replaced only when a field changed.
   *
   * @example
   * ```ts
   * const { state, attempt, nextRetryAt } = ws.getSnapshot();
   * ```
   */
  getSnapshot(): Snapshot {
    const n: Snapshot = {
      state: this.#state,
      attempt: this.#retries,
      nextRetryAt: this.#nextRetryAt,
      lastClose: this.#lastClose,
      lastError: this.#lastError,
      queuedMessages: this.#queue.length,
      queuedBytes: this.#queue.bytes,
      online: typeof navigator === 'undefined' || navigator.onLine !== false,
      protocol: this.#protocol,
    };
    for (const p of this.#p) if (p.snapshot) Object.assign(n, p.snapshot());
    const old = this.#snap as Record<string, unknown> | undefined;
    if (!old || Object.entries(n).some(([k, v]) => old[k] !== v)) this.#snap = Object.freeze(n);
    return this.#snap!;
  }

  // ---- the state machine ---------------------------------------------------------------

  /**
   * The one way into a state: leaves the old one (its timer, and the native socket unless the
   * new state keeps it), bumps the epoch, runs the new state's effects (plug-ins first), and
   * only then delivers the move's events: `statechange`, the reports `pre` posts, and what the
   * effects posted.
   */
  #enter(to: State, pre?: () => void): void {
    const from = this.#state;
    if (!MOVES[from].includes(to)) throw new Error(`resilient-ws: bug: no move ${from} → ${to}`);
    const s = this.#socket;
    this.#timer.cancel();
    this.#drain.cancel();
    this.#poll.cancel();
    this.#nextRetryAt = null;
    if (s && to !== 'open' && !(to === 'closing' && from !== 'reconnecting')) {
      this.#socket = undefined;
      // No-op handlers, not null: the `ws` package throws an unhandled 'error' without one.
      s.onopen = s.onmessage = s.onclose = s.onerror = noop;
      if (s.readyState < 2) {
        try {
          s.close(CLOSE_NORMAL);
        } catch {
          // Nothing to do: it is being discarded.
        }
      }
    }
    const epoch = ++this.#epoch;
    this.#state = to;
    if (from !== to) this.#emit('statechange', { from, to });
    pre?.();
    for (const p of this.#p) p.state?.(to, from);
    const o = this.#o;
    if (to === 'connecting') {
      const manual = this.#manual;
      this.#manual = false;
      const ms = o.reconnect.connectTimeout;
      this.#timer.schedule(ms, () => this.#lost(abnormal('connect timeout'), fail('CONNECT_TIMEOUT', `the connection did not open within ${ms} ms`)));
      this.#emit('connecting', { attempt: this.#retries }, true);
      void this.#connect(epoch, manual);
    } else if (to === 'open') {
      this.#timer.schedule(o.reconnect.stableAfter, () => {
        this.#retries = 0;
        this.#changed();
      });
      this.#emit('open', { protocol: this.#protocol, extensions: this.#extensions }, true);
      this.#domEvent(new Event('open'), true);
      if (this.#ready) this.#emit('ready', { data: undefined }, true);
      this.#pump();
    } else if (to === 'reconnecting') {
      const held = this.#p.some((p) => p.hold?.());
      const d = this.#delay;
      if (!held) {
        this.#timer.schedule(d, () => this.#enter('connecting'));
        this.#nextRetryAt = Date.now() + d;
      }
      this.#emit('reconnecting', { attempt: this.#retries, delay: held ? null : d, closeEvent: this.#closeInfo }, true);
    } else {
      // closing or closed: nothing queued will be sent, nobody waits any more.
      this.#sent.clear();
      this.#drop(this.#queue.clear(), 'closed');
      this.#armExpiry();
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w.reject(fail('CLOSED', `the client closed before ${w.flush ? 'the queue was flushed' : 'it could take more'}`));
      if (to === 'closed') this.#linger.cancel();
      else {
        const info = this.#closeInfo!;
        const err = this.#errorOnEnd;
        const sock = !!this.#socket;
        // With a native socket, its close event ends `closing` (or this timeout); without one, the
        // end is reported a task later, as the native API does.
        this.#timer.schedule(sock ? CLOSE_TIMEOUT_MS : 0, () =>
          this.#enter('closed', () => {
            if (err) this.#domEvent(new Event('error'));
            this.#closed(sock ? abnormal('close timeout') : info);
          }),
        );
      }
    }
    this.#settle();
    this.#post(() => this.#publish());
    this.#deliver();
  }

  /** Runs the attempt of `epoch`: providers, plug-ins, then the native constructor. */
  async #connect(epoch: number, manual: boolean): Promise<void> {
    const stale = (): boolean => this.#epoch !== epoch;
    let plan: AttemptPlan;
    try {
      const ask = async <T>(what: string, source: T | (() => T | Promise<T>)): Promise<T> => {
        if (typeof source !== 'function') return source;
        try {
          return await (source as () => T | Promise<T>)();
        } catch (err) {
          throw fail('CONNECT_FAILED', `the ${what} provider failed`, err);
        }
      };
      const raw = await ask('url', this.#urlSource);
      if (stale()) return;
      const url = normalizeUrl(raw);
      const protocols = [...toProtocols(await ask('protocols', this.#protocolsSource))];
      if (stale()) return;
      this.#url = publicUrl(url);
      plan = { url, protocols, attempt: this.#retries, manual };
      for (const p of this.#p) {
        await p.attempt?.(plan);
        if (stale()) return;
      }
    } catch (err) {
      if (stale()) return;
      const error = isResilientWebSocketError(err) ? err : fail('CONNECT_FAILED', 'the attempt failed', err);
      if (error.code === 'AUTH_FAILED') this.#giveup(undefined, 'insecure', error);
      else this.#lost(abnormal('connect failed'), error);
      return;
    }
    let s: Native;
    try {
      s = new this.#Ctor(plan.url, plan.protocols) as unknown as Native;
    } catch (err) {
      // The native message may quote the URL, and with it a token: keep only its name.
      const name = err instanceof Error ? err.name : typeof err;
      this.#lost(abnormal('connect failed'), fail('CONNECT_FAILED', `the WebSocket constructor threw ${name}`));
      return;
    }
    this.#socket = s;
    s.binaryType = this.#p.some((p) => p.binaryType) ? 'arraybuffer' : this.#binaryType;
    let errored = false;
    const mine = (): boolean => this.#socket === s;
    s.onopen = () => mine() && this.#opened(s);
    s.onmessage = (ev) => mine() && this.#state === 'open' && this.#received(ev);
    // Reported with the close, once the state moved on: native fires `error` in CLOSED.
    s.onerror = () => (errored = true);
    s.onclose = (ev) => mine() && this.#lost({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean }, undefined, errored);
  }

  #opened(s: Native): void {
    if (this.#state !== 'connecting') return;
    let protocol = s.protocol;
    for (const p of this.#p) {
      const r = p.open?.(s.protocol);
      if (typeof r === 'string') protocol = r;
      else if (r) return this.#giveup({ code: 1002, reason: 'protocol mismatch', wasClean: false }, 'protocol-mismatch', r);
    }
    const o = this.#o;
    this.#protocol = protocol;
    this.#extensions = s.extensions;
    this.#codec = o.codecs[protocol] ?? o.codec;
    this.#ready = !o.ready;
    this.#enter('open');
  }

  #received(ev: MessageEvent): void {
    let raw = ev.data as IncomingData;
    for (const p of this.#p) {
      const r = p.receive?.(raw);
      if (r === null) return;
      if (r !== undefined) raw = r;
    }
    let data: TReceive;
    const c = this.#codec;
    try {
      data = (c ? c.decode(raw) : raw) as TReceive;
    } catch (err) {
      this.#error(fail('DECODE_ERROR', `a ${typeof raw === 'string' ? 'text' : 'binary'} message could not be decoded and was skipped`, err));
      this.#deliver();
      return;
    }
    const epoch = this.#epoch;
    if (!this.#ready) {
      const passed = guarded(() => this.#o.ready!(data));
      if (this.#epoch !== epoch) return;
      if (passed) {
        this.#ready = true;
        for (const p of this.#p) p.ready?.();
        this.#emit('ready', { data }, true);
        this.#pump();
      }
    }
    this.#emit('message', { data }, true);
    if (this.#domMessage) this.#domEvent(new MessageEvent('message', { data, origin: ev.origin ?? '', lastEventId: ev.lastEventId ?? '' }), true);
    this.#deliver();
  }

  /**
   * A connection or attempt ended without the user asking (or the user's close finished):
   * decides between a retry, a plug-in's decision and giving up, by one policy.
   */
  #lost(info: CloseInfo, error?: ResilientWebSocketError, errored = false): void {
    const facts = (): void => {
      if (errored) this.#domEvent(new Event('error'));
      if (error) this.#error(error);
      this.#closed(info);
    };
    if (this.#state === 'closing') return this.#enter('closed', facts);
    this.#requeueUnsent();
    const o = this.#o;
    let d: CloseDecision | void = undefined;
    for (const p of this.#p) if ((d = p.close?.(info))) break;
    if (d && 'giveup' in d) return this.#giveup(info, d.giveup, d.error, facts);
    let delay = 0;
    if (!d) {
      const r = o.reconnect;
      let retry = !FATAL_CLOSE_CODES.has(info.code);
      // One that throws leaves the close-code policy's answer.
      if (r.shouldReconnect) retry = guarded(() => r.shouldReconnect!(info, this.#retries) !== false) ?? retry;
      if (!retry) {
        const why = r.shouldReconnect ? 'shouldReconnect() said no' : 'a retry would fail the same way';
        return this.#giveup(info, 'close-code', fail('FATAL_CLOSE', `the connection closed with ${info.code}${info.reason ? ` (${info.reason})` : ''}; ${why}`), facts);
      }
      if (this.#retries >= r.maxRetries) {
        return this.#giveup(info, 'retries', fail('RETRIES_EXHAUSTED', o.noRetry ? 'the connection closed and reconnect is off' : `gave up after ${r.maxRetries} retries`), facts);
      }
      delay = backoff(this.#retries, r, Math.random);
      const advised = guarded(() => r.retryAfter(info));
      if (typeof advised === 'number' && advised >= 0) delay = Math.min(advised, r.maxDelay);
      if (info.code === CLOSE_TRY_AGAIN_LATER) delay = Math.max(delay, r.maxDelay / 4);
      this.#retries++;
    }
    this.#delay = delay;
    this.#closeInfo = info;
    this.#enter('reconnecting', facts);
  }

  #giveup(info: CloseInfo | undefined, reason: GiveupReason, error: ResilientWebSocketError, facts?: () => void): void {
    this.#enter('closed', () => {
      if (facts) facts();
      else if (info) this.#closed(info);
      this.#error(error);
      this.#emit('giveup', { reason, error });
    });
  }

  /** Posts the `close` reports of one connection; `willReconnect` tells the truth at delivery. */
  #closed(info: CloseInfo): void {
    this.#lastClose = info;
    this.#post(() => this.#emitNow('close', { ...info, willReconnect: !ending(this.#state) }));
    this.#domEvent(makeCloseEvent(info));
  }

  #error(error: ResilientWebSocketError): void {
    this.#lastError = error;
    this.#emit('error', { error });
    // `lastError` is in the snapshot; an error outside a move (a decode error) must publish too.
    this.#changed();
  }

  /** Posts a `drop` per entry, in order. */
  #drop(entries: readonly { data: unknown }[], reason: DropReason): void {
    for (const e of entries) this.#emit('drop', { data: e.data as TSend, reason });
  }

  #refuse(data: unknown, reason: DropReason): 'dropped' {
    this.#drop([{ data }], reason);
    this.#deliver();
    return 'dropped';
  }

  // ---- delivery: one FIFO, never nested --------------------------------------------------

  /** Posts a typed event; an announcement (`announce`) is skipped if a later move superseded it. */
  #emit<K extends keyof ClientEvents<TSend, TReceive>>(type: K, payload: ClientEvents<TSend, TReceive>[K], announce = false): void {
    this.#post(() => this.#emitNow(type, payload), announce);
  }

  #domEvent(ev: Event, announce = false): void {
    this.#post(() => this.dispatchEvent(ev), announce);
  }

  #post(f: () => void, announce = false): void {
    this.#out.push({ e: announce ? this.#epoch : 0, f });
  }

  #emitNow<K extends keyof ClientEvents<TSend, TReceive>>(type: K, payload: ClientEvents<TSend, TReceive>[K]): void {
    const list = this.#events.all.get(type);
    // A copy: handlers added during this event get the next one.
    if (list) for (const h of list.slice()) guarded(() => (h as (p: typeof payload) => void)(payload));
  }

  /**
   * Delivers posted events in order. A listener's call (close, reconnect, send) takes effect at
   * once and posts its own events behind the pending ones; pending announcements of a move it
   * superseded are skipped.
   */
  #deliver(): void {
    if (this.#delivering) return;
    this.#delivering = true;
    const out = this.#out;
    try {
      // Indexed, not shift(): closing with 100 000 queued messages posts 100 000 drops.
      for (let i = 0; i < out.length; i++) {
        const item = out[i]!;
        if (!item.e || item.e === this.#epoch) guarded(item.f);
      }
    } finally {
      out.length = 0;
      this.#delivering = false;
    }
  }

  /** Something in the snapshot may have changed outside a move: publish once, a microtask later. */
  #changed(): void {
    if (this.#publishing || !this.#subs.size) return;
    this.#publishing = true;
    queueMicrotask(() => {
      this.#publishing = false;
      // Through the event queue, like every listener: a subscriber's close() or reconnect()
      // then posts its move behind this notification instead of running it inside the call.
      this.#post(() => this.#publish());
      this.#deliver();
    });
  }

  #publish(): void {
    const s = this.getSnapshot();
    if (s === this.#published) return;
    this.#published = s;
    for (const sub of [...this.#subs]) {
      // One that subscribed since the change got it at once; one that left gets nothing more.
      if (sub.last === s || !this.#subs.has(sub)) continue;
      sub.last = s;
      guarded(() => sub.f(s));
    }
  }

  // ---- plug-ins ---------------------------------------------------------------------------

  #host(): PluginHost {
    const state = (): State => this.#state;
    return {
      get state() {
        return state();
      },
      noRetry: this.#o.noRetry,
      stableAfterMs: this.#o.reconnect.stableAfter,
      now,
      emit: (type, payload) => {
        if (type === 'error') this.#error((payload as ClientEvents['error']).error);
        else this.#emit(type, payload as ClientEvents<TSend, TReceive>[typeof type]);
        this.#changed();
        this.#deliver();
      },
      listens: (type) => !!this.#events.all.get(type)?.length,
      send: (data, options) => this.send(data as TSend, options),
      control: (wire) => {
        const s = this.#socket;
        if (s && s.readyState === 1) this.#transmit(s, buffered(s), undefined, wire, undefined, Infinity, true);
      },
      lost: (info, error) => {
        if (this.#state === 'open' || this.#state === 'connecting') this.#lost(info, error);
      },
      changed: () => this.#changed(),
      queued: () => this.#queue.length,
      wake: () => {
        const st = this.#state;
        if (st === 'reconnecting') {
          if (!this.#p.some((p) => p.hold?.())) this.#enter('connecting');
          else if (this.#timer.pending) {
            this.#timer.cancel();
            this.#nextRetryAt = null;
            this.#emit('reconnecting', { attempt: this.#retries, delay: null, closeEvent: this.#closeInfo }, true);
          }
        } else if (st === 'open') for (const p of this.#p) p.check?.();
        this.#changed();
        this.#deliver();
      },
    };
  }

  // ---- sending -------------------------------------------------------------------------

  /** The wire form of `data`: the codec's, or the data itself, checked, then the plug-ins' envelopes. */
  #encode(data: unknown, c: Codec | undefined, volatile: boolean): WireData {
    // The native send() takes any value and stringifies it; only the ones with a sensible string form pass here.
    let w: unknown = c ? c.encode(data) : data === null || ['number', 'boolean', 'bigint'].includes(typeof data) ? String(data) : data;
    if (!isWire(w)) {
      const hint = !c && typeof data === 'object' ? ' (pass a codec, e.g. jsonCodec, to send objects)' : '';
      throw invalid('INVALID_DATA', `${c ? 'the codec encoded the data into' : 'send() takes a string, Blob, ArrayBuffer or ArrayBufferView, got'} ${show(w)}${hint}`);
    }
    for (const p of this.#p) if (p.send) w = p.send(w as WireData, volatile);
    return w as WireData;
  }

  /** Hands one message to the native socket, remembering it while its bytes may be unsent. */
  #transmit(s: Native, b: number, data: unknown, wire: WireData, codec: Codec | undefined, expires: number, control: boolean): void {
    if (this.#o.queue.resend) this.#sent.add(b, data, wire, codec, expires, control);
    s.send(wire);
  }

  /** Sends queued messages while the native buffer is under the high-water mark. */
  #pump(): void {
    const s = this.#socket;
    // A CLOSING native socket keeps the queue: its close event comes next and a retry sends it.
    if (this.#state !== 'open' || !s || s.readyState !== 1) return;
    const queue = this.#queue;
    const had = queue.length > 0;
    const t = now();
    const out = (e: Entry): void => {
      if (e.expires <= t) return this.#drop([e], 'expired');
      const c = this.#codec;
      this.#transmit(s, buffered(s), e.data, e.codec === c || this.#owned ? e.wire : this.#encode(e.data, c, false), c, e.expires, false);
    };
    if (!this.#ready) queue.extract((x) => x.beforeReady).forEach(out);
    else while (queue.length && buffered(s) < this.#o.queue.highWaterMark) out(queue.shift()!);
    if (queue.length && this.#ready) this.#drain.schedule(DRAIN_POLL_MS, () => this.#drained());
    if (had) {
      this.#changed();
      if (!queue.length) {
        this.#armExpiry();
        this.#emit('drain', {}, true);
      }
    }
    this.#settle();
  }

  /** Browsers have no drain event: read `bufferedAmount` only while the queue waits on it. */
  #drained(): void {
    const s = this.#socket!;
    if (buffered(s) <= this.#o.queue.lowWaterMark) this.#pump();
    else this.#drain.schedule(DRAIN_POLL_MS, () => this.#drained());
    this.#deliver();
  }

  /** Settles `flush()` and `writable()` waiters; polls the native buffer only while one waits on it alone. */
  #settle(): void {
    if (!this.#waiters.length) return;
    const s = this.#socket;
    const b = s ? buffered(s) : 0;
    const empty = !this.#queue.length;
    const open = this.#state === 'open' && this.#ready;
    let poll = false;
    this.#waiters = this.#waiters.filter((w) => {
      const ok = empty && (w.flush ? b === 0 : open && b < this.#o.queue.highWaterMark);
      if (ok) w.resolve();
      else poll ||= empty && open;
      return !ok;
    });
    if (poll && !this.#poll.pending) this.#poll.schedule(DRAIN_POLL_MS, () => this.#settle());
  }

  /** One timer for the earliest expiry in the queue; none while nothing can expire. */
  #armExpiry(): void {
    const at = this.#queue.nextExpiry();
    this.#expiryAt = at;
    if (at === Infinity) return this.#expiry.cancel();
    this.#expiry.schedule(at - now(), () => {
      const t = now();
      const expired = this.#queue.extract((e) => e.expires <= t);
      this.#armExpiry();
      this.#drop(expired, 'expired');
      if (expired.length && !this.#queue.length) {
        // Nothing waits on the native buffer any more: stop reading it.
        this.#drain.cancel();
        // An announcement: a drop listener's close() or reconnect() supersedes it.
        this.#emit('drain', {}, true);
      }
      this.#changed();
      this.#settle();
      this.#deliver();
    });
  }

  /**
   * The browser keeps counting in `bufferedAmount` the bytes it never transmitted, also after
   * the connection died. The newest sent messages that account for them go back to the front
   * of the queue, whole (`queue.resend: 'unsent'`); volatile and control frames never do. Then
   * the queue is held to the bounds that apply without a connection: what is over them is
   * dropped, with a `drop` event each.
   */
  #requeueUnsent(): void {
    const s = this.#socket;
    const sent = this.#sent;
    if (this.#owned) return sent.clear();
    // Only a socket the browser has closed holds its buffer for good. One we give up on while it
    // is still open (heartbeat timeout) may yet deliver that buffer if the link recovers, and the
    // library never sends a message twice: those bytes are in flight, not re-sent.
    if (s && sent.length && s.readyState === 3) {
      const back = sent.unsent(buffered(s));
      this.#queue.unshift(back);
      if (back.some((e) => e.expires < this.#expiryAt)) this.#armExpiry();
    }
    sent.clear();
    this.#drop(this.#queue.trim(this.#o.queue), 'overflow');
  }
}

/** @internal */
export const missingUrl = (): ResilientWebSocketError =>
  invalid('INVALID_URL', 'the URL is required: new ResilientWebSocket(url, protocols?, options?)');

/** @internal Where each copy of the library keeps the native constructor it found. */
const NATIVE_KEY = Symbol.for('resilient-ws.native');

/**
 * Gives a class the WebIDL shape of the native `WebSocket`: read-only enumerable constants on
 * the constructor and the prototype, enumerable accessors and methods with the native
 * `length`s, the `[object WebSocket]` tag. For the core class it also returns the native
 * constructor as it was when the library loaded, which `globalThis.WebSocket =
 * ResilientWebSocket` cannot hide (also from a second copy of the library loaded afterwards).
 * A pure call whose result a constructor reads: an import that leaves the class out leaves
 * this out too. @internal
 */
export function shape(cls: typeof ResilientWebSocket): WebSocketConstructor | undefined {
  const P = cls.prototype;
  ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach((k, i) => {
    for (const t of [cls, P]) Object.defineProperty(t, k, { value: i, enumerable: true });
  });
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(P))) {
    if (k !== 'constructor') Object.defineProperty(P, k, { ...d, enumerable: true });
  }
  if (Object.hasOwn(P, 'send')) {
    const length = { send: 1, close: 0, addEventListener: 2 } as const;
    for (const [k, n] of Object.entries(length)) Object.defineProperty(P[k as keyof typeof length], 'length', { value: n });
    Object.defineProperty(P, Symbol.toStringTag, { value: 'WebSocket', configurable: true });
    Object.defineProperty(cls, OWN, { value: true });
    const g = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    const native = isOwn(g) ? (g as unknown as Record<symbol, WebSocketConstructor | undefined>)[NATIVE_KEY] : g;
    Object.defineProperty(cls, NATIVE_KEY, { value: native });
    return native;
  }
  return undefined;
}
const NATIVE = /* @__PURE__ */ shape(ResilientWebSocket);
