import mitt, { type Emitter } from 'mitt';
import { getToken } from './auth.js';
import { backoff } from './backoff.js';
import { byteLength, type Codec, type IncomingData, type WireData } from './codec.js';
import {
  CLOSE_ABNORMAL,
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  CLOSE_TIMEOUT_MS,
  CLOSE_TRY_AGAIN_LATER,
  DRAIN_POLL_MS,
  FATAL_CLOSE_CODES,
  MAX_REASON_BYTES,
} from './constants.js';
import { fail, isResilientWebSocketError, type ResilientWebSocketError } from './errors.js';
import { makeCloseEvent, type ClientEvents, type DropReason, type GiveupReason } from './events.js';
import { Heartbeat, isHidden, isOnline, watchPage } from './liveness.js';
import {
  checkSendOptions,
  normalizeOptions,
  type CloseInfo,
  type Normalized,
  type Options,
  type ProtocolsProvider,
  type UrlProvider,
  type WebSocketConstructor,
} from './options.js';
import { Fifo, SentLog, type Entry } from './queue.js';
import { canMove, readyStateOf, type State } from './state.js';
import { Timer } from './timer.js';
import { isLoopback, isProtocolToken, normalizeUrl, toProtocols, withParam } from './url.js';

/** Per-message options of {@link ResilientWebSocket.send}. */
export interface SendOptions {
  /** Drop the message (with a `drop` event) instead of queueing it when it cannot go out at once. */
  volatile?: boolean;
  /** Overrides `queue.ttl` for this message, in ms. */
  ttl?: number;
  /** Let the message pass the `ready` gate, like `auth.message`. */
  beforeReady?: boolean;
}

/** What {@link ResilientWebSocket.send} did with a message. */
export type SendResult = 'sent' | 'queued' | 'dropped';

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

/** What an attempt resolved before its socket exists. */
interface Plan {
  url: string;
  protocols: string[];
  carrier: string | undefined;
  authMessage: WireData | undefined;
}

type DomType = 'open' | 'message' | 'close' | 'error';
/** A native-style `on…` handler: called with the client as `this`. */
export type DomHandler<This, E extends Event = Event> = ((this: This, ev: E) => unknown) | null;

const noop = (): void => undefined;

const report = (err: unknown): void => {
  // A throwing listener must not abort a transition; report it the way the page would.
  if (typeof reportError === 'function') reportError(err);
  else console.error('resilient-ws: a listener threw', err);
};

/**
 * A drop-in `WebSocket` that reconnects with backoff and jitter, queues what it cannot send
 * yet, negotiates subprotocols and authenticates with a refreshable token.
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
  static readonly CONNECTING = 0;
  /**
   * The socket is open (`readyState` 1).
   *
   * @example
   * ```ts
   * if (ws.readyState === ResilientWebSocket.OPEN) hideSpinner();
   * ```
   */
  static readonly OPEN = 1;
  /**
   * `close()` was called and the closing handshake runs (`readyState` 2).
   *
   * @example
   * ```ts
   * ws.close();
   * ws.readyState === ResilientWebSocket.CLOSING; // true while the handshake runs
   * ```
   */
  static readonly CLOSING = 2;
  /**
   * Closed; nothing happens until `reconnect()` (`readyState` 3).
   *
   * @example
   * ```ts
   * if (ws.readyState === ResilientWebSocket.CLOSED) ws.reconnect();
   * ```
   */
  static readonly CLOSED = 3;
  /**
   * `0`, as the native `WebSocket` has it on instances too.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CONNECTING;
   * ```
   */
  readonly CONNECTING = 0;
  /**
   * `1`, as the native `WebSocket` has it on instances too.
   *
   * @example
   * ```ts
   * ws.readyState === ws.OPEN;
   * ```
   */
  readonly OPEN = 1;
  /**
   * `2`, as the native `WebSocket` has it on instances too.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CLOSING;
   * ```
   */
  readonly CLOSING = 2;
  /**
   * `3`, as the native `WebSocket` has it on instances too.
   *
   * @example
   * ```ts
   * ws.readyState === ws.CLOSED;
   * ```
   */
  readonly CLOSED = 3;

  readonly #o: Normalized;
  readonly #Ctor: WebSocketConstructor;
  readonly #urlSource: UrlProvider;
  readonly #protocolsSource: ProtocolsProvider;
  readonly #events: Emitter<ClientEvents<TSend, TReceive>> = mitt();
  readonly #handlers: Partial<Record<DomType, (this: this, ev: never) => unknown>> = {};
  readonly #queue = new Fifo();
  /** What went to the native socket and may still sit in its `bufferedAmount`. */
  readonly #sent = new SentLog();
  readonly #retryTimer = new Timer();
  readonly #connectTimer = new Timer();
  readonly #stableTimer = new Timer();
  readonly #drainTimer = new Timer();
  readonly #expiryTimer = new Timer();
  readonly #closeTimer = new Timer();
  readonly #heartbeat: Heartbeat | undefined;
  #state: State = 'connecting';
  #socket: Native | undefined;
  /** Bumped by every attempt: callbacks of older sockets and providers compare and return. */
  #attemptId = 0;
  /** Consecutive failed attempts since the last stable connection: the backoff exponent. */
  #retries = 0;
  #authFailures = 0;
  #tokenReason: 'initial' | 'reconnect' | 'rejected' = 'initial';
  #url = '';
  #protocol = '';
  #extensions = '';
  #binaryType: BinaryType;
  #codec: Codec | undefined;
  #ready = false;
  #expiryAt = Infinity;
  #warnedHost = '';
  #domMessage = false;
  #unwatch: (() => void) | undefined;
  #flushWaiters: Array<{ resolve: () => void; reject: (e: ResilientWebSocketError) => void }> = [];

  /**
   * Connects at once, like the native constructor, and keeps reconnecting until `close()`.
   *
   * @param url - `ws:`, `wss:`, `http(s):` or page-relative URL, or a (sync or async) function
   *   asked before every attempt.
   * @param protocols - subprotocols to offer, or a function asked before every attempt.
   * @param options - see {@link Options}; validated at once (`INVALID_OPTION`).
   * @throws {@link ResilientWebSocketError} `INVALID_URL` or `INVALID_OPTION` for bad input.
   *
   * @example
   * ```ts
   * const ws = new ResilientWebSocket(() => `wss://${region()}.example.com/ws`, 'v1.chat', {
   *   reconnect: { maxDelay: 10_000 },
   *   auth: { token: () => getToken(), via: 'protocol' },
   * });
   * ```
   */
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: Options<TSend, TReceive>) {
    super();
    this.#o = normalizeOptions(options);
    const o = this.#o;
    if (typeof url !== 'function') this.#url = normalizeUrl(url);
    if (typeof protocols !== 'function') toProtocols(protocols);
    if (o.auth?.via === 'protocol' && typeof o.auth.token === 'string') this.#carrier(o.auth.token);
    const Ctor = o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) {
      throw fail('INVALID_OPTION', 'options.WebSocket is required where no global WebSocket exists (pass the ws package)');
    }
    this.#Ctor = Ctor;
    this.#urlSource = url;
    this.#protocolsSource = protocols;
    this.#binaryType = o.binaryType;
    // Until a protocol is negotiated, messages queued with only `codecs` given still need a wire
    // form to be counted in bytes; `#pump` re-encodes them if the negotiated codec differs.
    this.#codec = o.codec ?? Object.values(o.codecs)[0];
    const hb = o.heartbeat;
    if (hb) {
      this.#heartbeat = new Heartbeat(
        hb,
        o.now,
        () => this.#control(hb.message),
        () => this.#lost({ code: CLOSE_ABNORMAL, reason: 'heartbeat timeout', wasClean: false }, fail('HEARTBEAT_TIMEOUT', `no data within ${hb.timeout} ms of a ping`)),
      );
    }
    for (const type of ['open', 'message', 'close', 'error'] as const) {
      super.addEventListener(type, (ev) => (this.#handlers[type] as ((this: this, ev: Event) => unknown) | undefined)?.call(this, ev));
    }
    this.#watch();
    // Start after the constructor returns, so listeners added right after `new` see the first
    // `connecting` event; a `close()` or `reconnect()` before then wins (the id moved on).
    queueMicrotask(() => {
      if (this.#attemptId === 0 && this.#state === 'connecting') this.#attempt();
    });
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
   * The URL of the current or last attempt, without the auth token.
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
    if (this.#socket) this.#socket.binaryType = value;
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
    return (this.#socket?.bufferedAmount ?? 0) + this.#queue.bytes;
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
   * ws.on('statechange', () => (badge.textContent = String(ws.queuedMessages)));
   * ```
   */
  get queuedMessages(): number {
    return this.#queue.length;
  }

  /**
   * As on the native `WebSocket`: called with an `Event` each time a connection opens.
   *
   * @example
   * ```ts
   * ws.onopen = () => console.log('connected');
   * ```
   */
  get onopen(): DomHandler<this, Event> {
    return (this.#handlers.open as DomHandler<this, Event>) ?? null;
  }
  set onopen(fn: DomHandler<this, Event>) {
    this.#handlers.open = fn ?? undefined;
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
    return (this.#handlers.message as DomHandler<this, MessageEvent<TReceive>>) ?? null;
  }
  set onmessage(fn: DomHandler<this, MessageEvent<TReceive>>) {
    this.#handlers.message = fn ?? undefined;
    if (fn) this.#domMessage = true;
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
    return (this.#handlers.close as DomHandler<this, CloseEvent>) ?? null;
  }
  set onclose(fn: DomHandler<this, CloseEvent>) {
    this.#handlers.close = fn ?? undefined;
  }
  /**
   * As on the native `WebSocket`: called when a native socket reports an error (a close follows).
   *
   * @example
   * ```ts
   * ws.onerror = () => console.warn('connection error');
   * ```
   */
  get onerror(): DomHandler<this, Event> {
    return (this.#handlers.error as DomHandler<this, Event>) ?? null;
  }
  set onerror(fn: DomHandler<this, Event>) {
    this.#handlers.error = fn ?? undefined;
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
   * twice) or drops with a `drop` event, as the queue options say.
   *
   * @returns `'sent'`, `'queued'`, or `'dropped'` (volatile, or `queue.overflow: 'drop-newest'`).
   * @throws {@link ResilientWebSocketError} `CLOSED` after `close()` or a give-up, `QUEUE_FULL`
   *   with `queue.overflow: 'error'`, `INVALID_OPTION` for bad `options`.
   *
   * @example
   * ```ts
   * ws.send(JSON.stringify({ type: 'typing' }), { volatile: true });
   * ws.send(order, { ttl: 30_000 });
   * ```
   */
  send(data: TSend, options?: SendOptions): SendResult {
    const state = this.#state;
    if (state === 'closed' || state === 'closing') {
      throw fail('CLOSED', `send() while ${state}: the client was closed; call reconnect() to use it again`);
    }
    if (options) checkSendOptions(options);
    const s = this.#socket;
    const q = this.#o.queue;
    const ttl = options?.ttl ?? q.ttl;
    const expires = ttl === Infinity ? Infinity : this.#o.now() + ttl;
    // The native socket may already be CLOSING (the server's close frame arrived before its close
    // event): its send() would discard the data and log an error, so queue the message instead.
    if (state === 'open' && s && s.readyState === 1 && this.#queue.length === 0 && (this.#ready || options?.beforeReady)) {
      const buffered = s.bufferedAmount ?? 0;
      if (buffered < q.highWaterMark) {
        const c = this.#codec;
        this.#transmit(s, buffered, data, c ? c.encode(data) : (data as WireData), c, expires);
        return 'sent';
      }
    }
    if (options?.volatile) {
      this.#drop(data, 'volatile');
      return 'dropped';
    }
    const c = this.#codec;
    const wire = c ? c.encode(data) : (data as WireData);
    const entry: Entry = {
      data,
      wire,
      codec: c,
      bytes: byteLength(wire),
      expires,
      beforeReady: options?.beforeReady === true,
    };
    const dropped = this.#queue.offer(entry, q);
    const accepted = !dropped.includes(entry);
    if (accepted && entry.expires < this.#expiryAt) this.#armExpiry();
    // While gated, only a beforeReady message can move; anything else waits for `ready`.
    if (accepted && state === 'open' && !this.#drainTimer.pending && (this.#ready || entry.beforeReady)) this.#pump();
    // Listeners run last: one that calls close() finds no half-done work.
    for (const e of dropped) this.#drop(e.data as TSend, 'overflow');
    return accepted ? 'queued' : 'dropped';
  }

  /**
   * Closes for good: no reconnect after this. Queued messages are dropped (`drop` with
   * `'closed'`); bytes already handed to the native socket still go out before the close frame.
   *
   * @param code - 1000 or 3000–4999. @default 1000
   * @param reason - at most 123 UTF-8 bytes.
   * @throws {@link ResilientWebSocketError} `INVALID_CLOSE_CODE`, `INVALID_REASON`.
   *
   * @example
   * ```ts
   * ws.close(4000, 'logged out');
   * ```
   */
  close(code: number = CLOSE_NORMAL, reason = ''): void {
    if (!(code === CLOSE_NORMAL || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
      throw fail('INVALID_CLOSE_CODE', `close code must be 1000 or 3000–4999, got ${String(code)}`);
    }
    if (typeof reason !== 'string') throw fail('INVALID_REASON', `close reason must be a string, got ${typeof reason}`);
    const bytes = byteLength(reason);
    if (bytes > MAX_REASON_BYTES) {
      throw fail('INVALID_REASON', `close reason is ${bytes} UTF-8 bytes; at most ${MAX_REASON_BYTES} are allowed`);
    }
    const state = this.#state;
    if (state === 'closed' || state === 'closing') return;
    const s = this.#socket;
    if (state === 'open' && s) {
      this.#stopConnectionTimers();
      this.#retryTimer.cancel();
      this.#closeTimer.schedule(CLOSE_TIMEOUT_MS, () => this.#lost({ code: CLOSE_ABNORMAL, reason: 'close timeout', wasClean: false }));
      try {
        s.close(code, reason);
      } catch {
        // Already closing natively: its close event finishes the job.
      }
      this.#transition('closing');
      this.#finalize();
      return;
    }
    // A socket still handshaking gets the user's code and reason too, for a server that already
    // accepted it.
    this.#teardown(code, reason);
    this.#finish({ code, reason, wasClean: true });
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
    // The socket being dropped is alive: Chromium still transmits its buffer before the close
    // frame, so re-queueing those bytes would send them twice (test/browser/queue.test.ts).
    this.#sent.clear();
    const wasOpen = this.#state === 'open';
    this.#teardown();
    this.#retryTimer.cancel();
    if (!this.#unwatch) this.#watch();
    this.#retries = 0;
    this.#authFailures = 0;
    if (wasOpen) {
      // Every connection that ends gets its close event, so apps pairing open/close stay right.
      this.#transition('reconnecting');
      const id = this.#attemptId;
      this.#emitClose({ code: CLOSE_NORMAL, reason: 'reconnect', wasClean: true }, true);
      if (!this.#still(id, 'reconnecting')) return;
    }
    this.#attempt();
  }

  /**
   * Resolves when the queue is empty and the native `bufferedAmount` is 0; rejects with `CLOSED`
   * if the client is closed first.
   *
   * @example
   * ```ts
   * ws.send(lastWords);
   * await ws.flush();
   * ws.close();
   * ```
   */
  flush(): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'closing') {
      return Promise.reject(fail('CLOSED', `flush() while ${this.#state}`));
    }
    return new Promise((resolve, reject) => {
      this.#flushWaiters.push({ resolve, reject });
      this.#settleFlush();
    });
  }

  /**
   * Subscribes to a typed event; returns the function that unsubscribes.
   *
   * @example
   * ```ts
   * const off = ws.on('statechange', ({ from, to }) => console.log(from, '→', to));
   * off();
   * ```
   */
  on<K extends keyof ClientEvents<TSend, TReceive>>(type: K, handler: (payload: ClientEvents<TSend, TReceive>[K]) => void): () => void {
    this.#events.on(type, handler);
    return () => this.#events.off(type, handler);
  }

  // ---- connection lifecycle --------------------------------------------------------------

  #emit<K extends keyof ClientEvents<TSend, TReceive>>(type: K, payload: ClientEvents<TSend, TReceive>[K]): void {
    const list = this.#events.all.get(type);
    if (!list?.length) return;
    for (const h of list.length === 1 ? list : list.slice()) {
      try {
        (h as (p: typeof payload) => void)(payload);
      } catch (err) {
        report(err);
      }
    }
  }

  #transition(to: State): void {
    const from = this.#state;
    if (from === to) return;
    if (!canMove(from, to)) throw new Error(`resilient-ws: bug: no transition ${from} → ${to}`);
    this.#state = to;
    this.#emit('statechange', { from, to });
  }

  /** True while nothing (a listener, a new attempt) moved the client on since `id`/`state`. */
  #still(id: number, state: State): boolean {
    return this.#attemptId === id && this.#state === state;
  }

  #attempt(): void {
    const id = ++this.#attemptId;
    this.#transition('connecting');
    if (!this.#still(id, 'connecting')) return;
    const timeout = this.#o.reconnect.connectTimeout;
    this.#connectTimer.schedule(timeout, () =>
      this.#lost({ code: CLOSE_ABNORMAL, reason: 'connect timeout', wasClean: false }, fail('CONNECT_TIMEOUT', `the connection did not open within ${timeout} ms`)),
    );
    this.#emit('connecting', { attempt: this.#retries });
    if (!this.#still(id, 'connecting')) return;
    this.#plan().then(
      (plan) => this.#still(id, 'connecting') && this.#open(id, plan),
      (err: unknown) => {
        if (!this.#still(id, 'connecting')) return;
        const error = isResilientWebSocketError(err) ? err : fail('CONNECT_FAILED', 'the attempt failed', err);
        if (error.code === 'AUTH_FAILED') this.#giveUp(undefined, 'insecure', error);
        else this.#lost({ code: CLOSE_ABNORMAL, reason: 'connect failed', wasClean: false }, error);
      },
    );
  }

  /** Asks the providers (URL, protocols, token) and builds what the native constructor gets. */
  async #plan(): Promise<Plan> {
    const call = async <T>(what: string, source: T | (() => T | Promise<T>)): Promise<T> => {
      if (typeof source !== 'function') return source;
      try {
        return await (source as () => T | Promise<T>)();
      } catch (err) {
        throw fail('CONNECT_FAILED', `the ${what} provider failed`, err);
      }
    };
    let url = normalizeUrl(await call('url', this.#urlSource));
    const protocols = [...toProtocols(await call('protocols', this.#protocolsSource))];
    this.#url = url;
    const auth = this.#o.auth;
    let carrier: string | undefined;
    let authMessage: WireData | undefined;
    if (auth) {
      const token = await getToken(auth.token, { attempt: this.#retries, reason: this.#tokenReason });
      if (url.startsWith('ws:') && !isLoopback(url)) {
        const host = new URL(url).host;
        const message = `the auth token would travel unencrypted over ws:// to ${host}; use wss://`;
        if (auth.requireSecure) throw fail('AUTH_FAILED', `${message} (auth.requireSecure is on)`);
        if (this.#warnedHost !== host) {
          this.#warnedHost = host;
          if (this.#events.all.get('warning')?.length) this.#emit('warning', { code: 'INSECURE_TOKEN', message });
          else console.warn(`resilient-ws: ${message}`);
        }
      }
      if (auth.via === 'query') url = withParam(url, auth.param, token);
      else if (auth.via === 'protocol') protocols.push((carrier = this.#carrier(token)));
      else authMessage = auth.message(token);
    }
    return { url, protocols, carrier, authMessage };
  }

  #carrier(token: string): string {
    const carrier = this.#o.auth!.protocolPrefix + token;
    if (!isProtocolToken(carrier)) {
      throw fail(
        'INVALID_OPTION',
        `auth.token is not a legal subprotocol token for auth.via 'protocol' (it has characters outside RFC 6455 tokens): encode it with base64url()`,
      );
    }
    return carrier;
  }

  #open(id: number, plan: Plan): void {
    let s: Native;
    try {
      s = new this.#Ctor(plan.url, plan.protocols) as unknown as Native;
    } catch (err) {
      // The native message may quote the URL, and with it a query token: keep only its name.
      const name = err instanceof Error ? err.name : typeof err;
      this.#lost({ code: CLOSE_ABNORMAL, reason: 'connect failed', wasClean: false }, fail('CONNECT_FAILED', `the WebSocket constructor threw ${name}`));
      return;
    }
    this.#socket = s;
    s.binaryType = this.#binaryType;
    s.onopen = () => this.#attemptId === id && this.#opened(id, s, plan);
    s.onmessage = (ev) => this.#attemptId === id && this.#received(ev);
    s.onerror = () => this.#attemptId === id && this.dispatchEvent(new Event('error'));
    s.onclose = (ev) => this.#attemptId === id && this.#lost({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean });
  }

  #opened(id: number, s: Native, plan: Plan): void {
    this.#connectTimer.cancel();
    if (plan.carrier && s.protocol === plan.carrier) {
      const error = fail('PROTOCOL_MISMATCH', 'the server picked the auth carrier subprotocol instead of an application protocol; closing, since it would echo the token');
      this.#giveUp({ code: 1002, reason: 'protocol mismatch', wasClean: false }, 'protocol-mismatch', error);
      return;
    }
    this.#protocol = s.protocol;
    this.#extensions = s.extensions;
    this.#codec = this.#o.codecs[s.protocol] ?? this.#o.codec;
    this.#ready = !this.#o.ready;
    this.#tokenReason = 'reconnect';
    this.#stableTimer.schedule(this.#o.reconnect.stableAfter, () => {
      this.#retries = 0;
      this.#authFailures = 0;
    });
    if (plan.authMessage !== undefined) this.#control(plan.authMessage);
    this.#heartbeat?.start();
    this.#transition('open');
    if (!this.#still(id, 'open')) return;
    this.#pump();
    if (!this.#still(id, 'open')) return;
    this.#emit('open', { protocol: this.#protocol, extensions: this.#extensions });
    this.dispatchEvent(new Event('open'));
    if (this.#ready && this.#still(id, 'open')) this.#emit('ready', { data: undefined });
  }

  #received(ev: MessageEvent): void {
    this.#heartbeat?.inbound();
    const raw = ev.data as IncomingData;
    const hb = this.#o.heartbeat;
    if (hb && hb.isPong(raw)) return;
    let data: TReceive;
    const c = this.#codec;
    if (c) {
      try {
        data = c.decode(raw) as TReceive;
      } catch (err) {
        this.#error(fail('DECODE_ERROR', `a ${typeof raw === 'string' ? 'text' : 'binary'} message could not be decoded and was skipped`, err));
        return;
      }
    } else data = raw as TReceive;
    const id = this.#attemptId;
    if (!this.#ready && this.#o.ready) {
      let passed = false;
      try {
        passed = this.#o.ready(data);
      } catch (err) {
        report(err);
      }
      if (passed) {
        this.#ready = true;
        this.#authFailures = 0;
        this.#pump();
        if (!this.#still(id, 'open')) return;
        this.#emit('ready', { data });
      }
    }
    if (!this.#still(id, 'open')) return;
    this.#emit('message', { data });
    if (this.#domMessage && this.#still(id, 'open')) {
      this.dispatchEvent(new MessageEvent('message', { data, origin: ev.origin ?? '', lastEventId: ev.lastEventId ?? '' }));
    }
  }

  /**
   * A connection or attempt ended without the user asking. Decides between retry, token
   * refresh and giving up, by one policy.
   */
  #lost(info: CloseInfo, error?: ResilientWebSocketError): void {
    this.#requeueUnsent();
    this.#teardown();
    if (this.#state === 'closing') {
      this.#finish(info);
      return;
    }
    const id = this.#attemptId;
    const state = this.#state;
    if (error) {
      this.#error(error);
      if (!this.#still(id, state)) return;
    }
    const o = this.#o;
    const auth = o.auth;
    if (auth && auth.failCodes.includes(info.code)) {
      if (++this.#authFailures >= auth.maxFailures) {
        const err = fail('AUTH_FAILED', `the server refused the token ${this.#authFailures} times in a row (last close code ${info.code})`);
        this.#giveUp(info, 'auth', err);
      } else {
        this.#tokenReason = 'rejected';
        this.#retryIn(0, info);
      }
      return;
    }
    let retry = !FATAL_CLOSE_CODES.has(info.code);
    const should = o.reconnect.shouldReconnect;
    if (should) {
      try {
        retry = should(info, this.#retries) !== false;
      } catch (err) {
        report(err);
      }
    }
    if (!retry) {
      const why = should ? 'shouldReconnect() said no' : 'a retry would fail the same way';
      this.#giveUp(info, 'close-code', fail('FATAL_CLOSE', `the connection closed with ${info.code}${info.reason ? ` (${info.reason})` : ''}; ${why}`));
      return;
    }
    const max = o.reconnect.maxRetries;
    if (this.#retries >= max) {
      this.#giveUp(info, 'retries', fail('RETRIES_EXHAUSTED', max === 0 ? 'the connection closed and reconnect is off' : `gave up after ${max} retries`));
      return;
    }
    const r = o.reconnect;
    let delay = backoff(this.#retries, r, o.random);
    let advised: number | undefined;
    try {
      advised = r.retryAfter(info);
    } catch (err) {
      report(err);
    }
    if (typeof advised === 'number' && advised >= 0) delay = Math.min(advised, r.maxDelay);
    if (info.code === CLOSE_TRY_AGAIN_LATER) delay = Math.max(delay, r.maxDelay / 4);
    // A first attempt that never opened still makes the next one a retry for the token provider.
    if (this.#tokenReason === 'initial') this.#tokenReason = 'reconnect';
    this.#retries++;
    this.#retryIn(delay, info);
  }

  #retryIn(delay: number, info: CloseInfo): void {
    this.#transition('reconnecting');
    const id = this.#attemptId;
    const paused = !isOnline() || (this.#o.pauseWhenHidden && isHidden());
    if (!paused) this.#retryTimer.schedule(delay, () => this.#attempt());
    this.#emitClose(info, true);
    if (this.#still(id, 'reconnecting')) {
      this.#emit('reconnecting', { attempt: this.#retries, delay: paused ? null : delay, closeEvent: info });
    }
  }

  #giveUp(info: CloseInfo | undefined, reason: GiveupReason, error: ResilientWebSocketError): void {
    this.#teardown();
    this.#retryTimer.cancel();
    this.#transition('closed');
    this.#finalize();
    const id = this.#attemptId;
    if (info) this.#emitClose(info, false);
    if (!this.#still(id, 'closed')) return;
    this.#error(error);
    if (this.#still(id, 'closed')) this.#emit('giveup', { reason, error });
  }

  /** Enters `closed` after the user's `close()`. */
  #finish(info: CloseInfo): void {
    this.#retryTimer.cancel();
    this.#transition('closed');
    this.#finalize();
    this.#emitClose(info, false);
  }

  #emitClose(info: CloseInfo, willReconnect: boolean): void {
    this.#emit('close', { ...info, willReconnect });
    this.dispatchEvent(makeCloseEvent(info));
  }

  #error(error: ResilientWebSocketError): void {
    this.#emit('error', { error });
  }

  /** Lets go of the native socket: its late events go nowhere, and it is closed if still live. */
  #teardown(code: number = CLOSE_NORMAL, reason?: string): void {
    const s = this.#socket;
    this.#socket = undefined;
    this.#stopConnectionTimers();
    this.#closeTimer.cancel();
    if (!s) return;
    // No-op handlers, not null: the `ws` package throws an unhandled 'error' without one.
    s.onopen = s.onmessage = s.onclose = s.onerror = noop;
    if (s.readyState < 2) {
      try {
        s.close(code, reason);
      } catch {
        // Nothing to do: it is being discarded.
      }
    }
  }

  #stopConnectionTimers(): void {
    this.#connectTimer.cancel();
    this.#stableTimer.cancel();
    this.#drainTimer.cancel();
    this.#heartbeat?.stop();
  }

  /** Entering the terminal `closed`: nothing may stay alive or be silently held. */
  #finalize(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#expiryTimer.cancel();
    this.#expiryAt = Infinity;
    this.#sent.clear();
    for (const e of this.#queue.clear()) this.#drop(e.data as TSend, 'closed');
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w.reject(fail('CLOSED', 'the client closed before the queue was flushed'));
  }

  #watch(): void {
    const now = (): void => {
      if (this.#state === 'reconnecting' && isOnline() && !(this.#o.pauseWhenHidden && isHidden())) {
        this.#retryTimer.cancel();
        this.#attempt();
      } else if (this.#state === 'open') this.#heartbeat?.check();
    };
    this.#unwatch = watchPage({
      online: () => {
        this.#retries = 0;
        now();
      },
      offline: () => {
        if (this.#state === 'reconnecting') this.#retryTimer.cancel();
        else if (this.#state === 'open') this.#heartbeat?.check();
      },
      visible: now,
      hidden: () => {
        if (this.#o.pauseWhenHidden && this.#state === 'reconnecting') this.#retryTimer.cancel();
      },
      restored: now,
      // An open WebSocket keeps a page out of the back/forward cache: let go of it on the way in.
      stored: () => {
        if (this.#state !== 'open' && this.#state !== 'connecting') return;
        // A graceful close still transmits the native buffer before the close frame: re-queueing
        // it would send it twice, as in reconnect().
        this.#sent.clear();
        this.#teardown();
        this.#transition('reconnecting');
        // Like every other lost connection it gets its close event, so apps that pair open/close
        // stay consistent; the wait has no timer: `pageshow` starts the next attempt.
        const id = this.#attemptId;
        const info = { code: CLOSE_GOING_AWAY, reason: 'page entered the back/forward cache', wasClean: false };
        this.#emitClose(info, true);
        if (this.#still(id, 'reconnecting')) this.#emit('reconnecting', { attempt: this.#retries, delay: null, closeEvent: info });
      },
      resumed: now,
    });
  }

  // ---- sending -------------------------------------------------------------------------

  /** Hands one message to the native socket, remembering it while its bytes may be unsent. */
  #transmit(s: Native, buffered: number, data: unknown, wire: WireData, codec: Codec | undefined, expires: number, control = false): void {
    if (this.#o.queue.resend) this.#sent.add(buffered, data, wire, codec, expires, control);
    s.send(wire);
  }

  /** A ping or auth message: straight out, past the queue and the gate, never re-sent. */
  #control(wire: WireData): void {
    const s = this.#socket;
    if (s) this.#transmit(s, s.bufferedAmount ?? 0, undefined, wire, undefined, Infinity, true);
  }

  #drop(data: TSend, reason: DropReason): void {
    this.#emit('drop', { data, reason });
  }

  /** Sends queued messages while the native buffer is under the high-water mark. */
  #pump(): void {
    const s = this.#socket;
    // A CLOSING native socket keeps the queue: its close event comes next and a retry sends it.
    if (this.#state !== 'open' || !s || s.readyState !== 1) return;
    const q = this.#o.queue;
    const queue = this.#queue;
    const now = this.#o.now();
    const send = (e: Entry, buffered: number): void => {
      const wire = e.codec === this.#codec ? e.wire : this.#codec ? this.#codec.encode(e.data) : (e.data as WireData);
      this.#transmit(s, buffered, e.data, wire, this.#codec, e.expires);
    };
    const had = queue.length > 0;
    if (!this.#ready) {
      for (const e of queue.extract((x) => x.beforeReady)) {
        if (e.expires <= now) this.#drop(e.data as TSend, 'expired');
        else send(e, s.bufferedAmount ?? 0);
      }
      // When only beforeReady messages were held, the queue is empty now: settle it below as
      // after any drain, or its expiry timer lingers and flush() waits for a ready that may not come.
      if (queue.length) return;
    }
    let buffered = s.bufferedAmount ?? 0;
    while (queue.length && buffered < q.highWaterMark) {
      const e = queue.shift()!;
      if (e.expires <= now) this.#drop(e.data as TSend, 'expired');
      else {
        send(e, buffered);
        buffered = s.bufferedAmount ?? 0;
      }
    }
    if (queue.length) {
      this.#drainTimer.schedule(DRAIN_POLL_MS, () => this.#poll());
      return;
    }
    this.#expiryTimer.cancel();
    this.#expiryAt = Infinity;
    if (had) this.#emit('drain', {});
    this.#settleFlush();
  }

  /** Watches `bufferedAmount` (browsers have no drain event) only while something waits on it. */
  #poll(): void {
    const s = this.#socket;
    if (this.#state !== 'open' || !s) return;
    if (this.#queue.length && this.#ready) {
      if ((s.bufferedAmount ?? 0) <= this.#o.queue.lowWaterMark) this.#pump();
      else this.#drainTimer.schedule(DRAIN_POLL_MS, () => this.#poll());
    } else this.#settleFlush();
  }

  #settleFlush(): void {
    if (!this.#flushWaiters.length || this.#queue.length) return;
    const s = this.#socket;
    if (this.#state === 'open' && s && (s.bufferedAmount ?? 0) > 0) {
      if (!this.#drainTimer.pending) this.#drainTimer.schedule(DRAIN_POLL_MS, () => this.#poll());
      return;
    }
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w.resolve();
  }

  /** One timer for the earliest expiry in the queue; none while nothing can expire. */
  #armExpiry(): void {
    const at = this.#queue.nextExpiry();
    this.#expiryAt = at;
    if (at === Infinity) {
      this.#expiryTimer.cancel();
      return;
    }
    this.#expiryTimer.schedule(at - this.#o.now(), () => {
      const now = this.#o.now();
      const expired = this.#queue.extract((e) => e.expires <= now);
      this.#armExpiry();
      for (const e of expired) this.#drop(e.data as TSend, 'expired');
      if (expired.length && !this.#queue.length) this.#emit('drain', {});
      this.#settleFlush();
    });
  }

  /**
   * The browser keeps counting in `bufferedAmount` the bytes it never transmitted, also after
   * the connection died. The newest sent messages that account for them go back to the front
   * of the queue, whole, to be sent after reconnecting (`queue.resend: 'unsent'`).
   */
  #requeueUnsent(): void {
    const s = this.#socket;
    const sent = this.#sent;
    // Only a socket the browser has closed holds its buffer for good. One we give up on while it
    // is still open (heartbeat timeout) may yet deliver that buffer if the link recovers, and the
    // library never sends a message twice: those bytes are in flight, not re-sent.
    if (!s || !sent.length || s.readyState !== 3) {
      sent.clear();
      return;
    }
    const back = sent.unsent(s.bufferedAmount ?? 0);
    sent.clear();
    this.#queue.unshift(back);
    if (back.some((e) => e.expires < this.#expiryAt)) this.#armExpiry();
    for (const e of this.#queue.trim(this.#o.queue)) this.#drop(e.data as TSend, 'overflow');
  }
}
