import type { IncomingData, WireData } from './codec.js';
import type { ResilientWebSocketError } from './errors.js';
import type { CloseInfo } from './options.js';
import type { State } from './state.js';

/** Why a message was dropped instead of sent. */
export type DropReason = 'overflow' | 'expired' | 'closed' | 'volatile';

/** Why the client stopped trying. */
export type GiveupReason = 'retries' | 'close-code' | 'auth' | 'protocol-mismatch' | 'insecure';

/**
 * The typed events of `ws.on(type, handler)`, one object payload each.
 *
 * @example
 * ```ts
 * const off = ws.on('reconnecting', ({ attempt, delay }) => show(`retry #${attempt} in ${delay} ms`));
 * off(); // unsubscribe
 * ```
 */
export type ClientEvents<TSend = WireData, TReceive = IncomingData> = {
  /** Every state change. */
  statechange: { from: State; to: State };
  /** An attempt starts: 0 for a fresh connection, n for the n-th retry. */
  connecting: { attempt: number };
  /** The native socket opened; `protocol` is the negotiated subprotocol. */
  open: { protocol: string; extensions: string };
  /** Queued messages flow: at once after `open`, or when a message passed the `ready` gate. */
  ready: { data: TReceive | undefined };
  /** A decoded message (pongs are not reported). */
  message: { data: TReceive };
  /** A connection closed; `willReconnect` says whether an attempt will follow. */
  close: CloseInfo & { willReconnect: boolean };
  /** A retry is scheduled `delay` ms from now (`null` while waiting for the network or a visible page). */
  reconnecting: { attempt: number; delay: number | null; closeEvent: CloseInfo | undefined };
  /** The client stopped trying; the state is `closed` until `reconnect()`. */
  giveup: { reason: GiveupReason; error: ResilientWebSocketError };
  /** Something failed; the client handles it (retry or give up) and tells you here. */
  error: { error: ResilientWebSocketError };
  /** A message will not be sent. `data` is what was passed to `send()`. */
  drop: { data: TSend; reason: DropReason };
  /** The queue became empty again after it held messages. */
  drain: Record<string, never>;
  /**
   * End-to-end delivery (`resilient-ws/reliable`): the server could not resume the session (or
   * a topic's history ran out); `lost` unacknowledged messages were rejected. Re-sync the app.
   */
  reset: { reason: string; topic: string | undefined; lost: number };
  /** Advice that needs no action from the library, e.g. a token about to travel over `ws://`. */
  warning: { code: 'INSECURE_TOKEN'; message: string };
};

/**
 * The client's connection state as one frozen object, for UIs and framework bindings
 * (`ws.subscribe`, `ws.getSnapshot`). A new object is made only when a field changed, so
 * `Object.is(a, b)` tells whether anything did. Messages never make snapshots.
 *
 * @example
 * ```ts
 * ws.subscribe(({ state, nextRetryAt }) => render(state, nextRetryAt));
 * ```
 */
export interface Snapshot {
  /** `ws.state`. */
  readonly state: State;
  /** The number of the current or next attempt: 0 for a fresh connection, n for the n-th retry. */
  readonly attempt: number;
  /** When the next retry starts (epoch ms), or `null` when none is scheduled. */
  readonly nextRetryAt: number | null;
  /** The last connection's close, or `null` before the first. */
  readonly lastClose: CloseInfo | null;
  /** The last `error` event's error, or `null`. */
  readonly lastError: ResilientWebSocketError | null;
  /** Messages in the library's queue. */
  readonly queuedMessages: number;
  /** Bytes in the library's queue. */
  readonly queuedBytes: number;
  /** `navigator.onLine` as last seen (kept current by the page plug-in), `true` where unknown. */
  readonly online: boolean;
  /** The negotiated subprotocol of the current or last connection. */
  readonly protocol: string;
  /** With `resilient-ws/tabs`: this tab owns the native socket (absent without it). */
  readonly leader?: boolean;
  /** With `resilient-ws/tabs`: tabs share one socket; `false` when this tab fell back to its own. */
  readonly shared?: boolean;
}

/** The name of an event of {@link ClientEvents}. */
export type ClientEventType = keyof ClientEvents;

/** A handler for event `K`. */
export type Handler<T> = (payload: T) => void;

/** @internal Node < 23 has no global CloseEvent; this stands in with the same fields. */
export const makeCloseEvent = (info: CloseInfo): Event => {
  if (typeof CloseEvent === 'function') return new CloseEvent('close', info);
  const ev = new Event('close');
  return Object.assign(ev, { code: info.code, reason: info.reason, wasClean: info.wasClean });
};
