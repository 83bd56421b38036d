import type { IncomingData, WireData } from './codec.js';
import type { ResilientWebSocketError } from './errors.js';
import type { ClientEvents, GiveupReason } from './events.js';
import type { CloseInfo } from './options.js';
import type { State } from './state.js';

/**
 * What an attempt will open, after the `url` and `protocols` providers ran. The `attempt` hook
 * of a plug-in may rewrite both (a token in the query, a carrier subprotocol).
 */
export interface AttemptPlan {
  /** The URL the native constructor gets; `ws.url` keeps the one without plug-in additions. */
  url: string;
  /** The subprotocols the native constructor gets. */
  protocols: string[];
  /** 0 for a fresh connection, n for the n-th retry since the last stable one. */
  readonly attempt: number;
  /** The attempt was asked for by `reconnect()` (or a first `lazy` subscriber), not by a retry. */
  readonly manual: boolean;
}

/** A plug-in's word on a connection that ended without the user asking. */
export type CloseDecision =
  /** Try again at once, outside the backoff and the retry budget (a refreshed token). */
  | { retry: 'now' }
  /** Stop: the client enters `closed` and emits `giveup`. */
  | { giveup: GiveupReason; error: ResilientWebSocketError };

/**
 * What the client offers its plug-ins. Everything a plug-in does to the connection goes through
 * these calls, so the client's state machine stays the one owner of every effect.
 */
export interface PluginHost {
  /** The current state. */
  readonly state: State;
  /** The retry budget is off (`reconnect: false`). */
  readonly noRetry: boolean;
  /** `reconnect.stableAfter`, in ms. */
  readonly stableAfterMs: number;
  /** Milliseconds on a monotonic clock (`performance.now()`). */
  now(): number;
  /** Emits a typed event through the client (queued behind the events being delivered). */
  emit<K extends 'error' | 'warning' | 'reset'>(type: K, payload: ClientEvents[K]): void;
  /** True when somebody listens to `type` (a warning falls back to `console.warn` otherwise). */
  listens(type: keyof ClientEvents): boolean;
  /** `ws.send()`, for plug-ins that send application data (through the queue and `send` hooks). */
  send(data: unknown, options?: { volatile?: boolean; ttl?: number; beforeReady?: boolean }): 'sent' | 'queued' | 'dropped';
  /** Sends a frame now, past the queue and the `ready` gate; never re-sent. Only while open. */
  control(wire: WireData): void;
  /** The live connection is dead (or must go): ends it as a loss, with `error` reported. */
  lost(info: CloseInfo, error?: ResilientWebSocketError): void;
  /**
   * Something a plug-in's `hold()` or `check()` depends on changed: while waiting to reconnect,
   * the wait is paused (a hold) or cut short (an attempt now); while open, `check()` runs.
   */
  wake(): void;
  /** A field of the plug-in's `snapshot()` changed: the store publishes a new snapshot. */
  changed(): void;
  /** Messages waiting in the core's queue (not yet handed to the native socket). */
  queued(): number;
}

/**
 * A plug-in: a plain object of optional hooks, made by a factory such as `tokenAuth()`,
 * `heartbeat()` or `pageLife()`. The client calls the hooks in the order the plug-ins were
 * given (`auth`, `heartbeat`, `page`, then `plugins`). No hook may throw, except `attempt`
 * (which fails that attempt) and `open` (which refuses the connection).
 *
 * @example
 * ```ts
 * const logger = (): Plugin => ({ state: (to, from) => console.log(from, '→', to) });
 * new ResilientWebSocket(url, [], { plugins: [logger()] });
 * ```
 */
export interface Plugin {
  /**
   * The plug-in numbers, keeps and re-sends what it wraps (end-to-end delivery): the core then
   * never re-queues unsent bytes, never re-encodes a queued frame, and bounds its queue only
   * by the plug-in's own limits; `queue.ttl` and per-message `ttl` do not apply.
   */
  readonly ownsResend?: boolean;
  /** The native socket must deliver binary frames as `ArrayBuffer` (the plug-in parses them synchronously). */
  readonly binaryType?: 'arraybuffer';
  /** Called once, from the constructor, with the host the other hooks act through. */
  init?(host: PluginHost): void;
  /**
   * Every state the client enters, after it left the previous one and before the move's events
   * are emitted: start what runs in the state, stop what ran in the old one.
   */
  state?(to: State, from: State): void;
  /**
   * Before each attempt (may be async): rewrite `plan`, or throw to fail the attempt. An error
   * with code `AUTH_FAILED` gives up (`giveup` reason `'insecure'`); any other is retried with
   * backoff (reported as `CONNECT_FAILED` unless it is a `ResilientWebSocketError`). Work that
   * resolves after a newer move is ignored.
   */
  attempt?(plan: AttemptPlan): void | Promise<void>;
  /**
   * The native socket opened with `protocol`. Return an error to refuse the connection (the
   * client gives up with `PROTOCOL_MISMATCH`), or a string: the application's protocol, which
   * `ws.protocol` reports instead (when the plug-in's own subprotocol carried it); send first
   * frames with `host.control()`.
   */
  open?(protocol: string): ResilientWebSocketError | string | void;
  /**
   * Every inbound frame before decoding: return `null` to consume it (pongs, acks), another
   * frame to deliver instead (an unwrapped envelope), or nothing to leave it as it is.
   */
  receive?(raw: IncomingData): IncomingData | null | void;
  /**
   * Every outbound application frame, once, when `send()` takes it: return the frame to send
   * instead (an envelope). `volatile` messages are never queued or re-sent.
   */
  send?(wire: WireData, volatile: boolean): WireData;
  /** The `ready` gate passed (or there is none): the server accepted the connection. */
  ready?(): void;
  /** A connection or attempt ended without the user asking: decide, or leave it to the policy. */
  close?(info: CloseInfo): CloseDecision | void;
  /** While this returns true no retry timer runs (offline, hidden with `pauseWhenHidden`). */
  hold?(): boolean;
  /** Something changed while open (the page resumed, the network changed): probe the link. */
  check?(): void;
  /**
   * Fields the plug-in adds to the snapshot (primitives, so an unchanged field compares equal),
   * read by every `getSnapshot()`; call `host.changed()` when one changes. Used by `resilient-ws/tabs`.
   */
  snapshot?(): Readonly<Record<string, string | number | boolean | null>>;
}
