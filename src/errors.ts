/**
 * Every error code the library uses. A code is data: switch on it, never on the message.
 *
 * - `INVALID_URL`: the URL is not a ws:, wss:, http: or https: URL, or has a fragment.
 * - `INVALID_OPTION`: an option, a subprotocol or a `send()` option has a bad type or value, or is unknown.
 * - `INVALID_DATA`: `send()` got something the native `send()` cannot take (no argument, `undefined`,
 *   a Symbol, a function, a plain object without a codec), or a codec encoded it into such a thing.
 * - `INVALID_CLOSE_CODE`: `close()` got a code other than 1000 or 3000–4999.
 * - `INVALID_REASON`: `close()` got a reason longer than 123 UTF-8 bytes.
 * - `QUEUE_FULL`: `send()` with `queue.overflow: 'error'` and a full queue.
 * - `CLOSED`: `flush()` or `writable()` after the client was closed, or pending when it closed.
 * - `CONNECT_TIMEOUT`: an attempt did not open within `reconnect.connectTimeout`.
 * - `CONNECT_FAILED`: an attempt failed before a socket existed: a `url`, `protocols` or
 *   `auth.token` provider threw or rejected, or the WebSocket constructor threw.
 * - `HEARTBEAT_TIMEOUT`: nothing arrived within `heartbeat.timeout` after a ping.
 * - `AUTH_FAILED`: the server rejected the token `auth.maxFailures` times in a row, or a token
 *   would have travelled over `ws://` with `auth.requireSecure: true`.
 * - `PROTOCOL_MISMATCH`: the server picked the auth carrier subprotocol.
 * - `FATAL_CLOSE`: the server closed with a code that a retry cannot fix (1002, 1003, 1007,
 *   1009, 1010), or `shouldReconnect` said no.
 * - `DECODE_ERROR`: the codec could not decode an incoming message (it was skipped).
 * - `RETRIES_EXHAUSTED`: `reconnect.maxRetries` attempts failed.
 * - `SESSION_RESET`: end-to-end delivery (`resilient-ws/reliable`): the server could not resume
 *   the session; unacknowledged messages are rejected with it.
 */
export type ErrorCode =
  | 'INVALID_URL'
  | 'INVALID_OPTION'
  | 'INVALID_DATA'
  | 'INVALID_CLOSE_CODE'
  | 'INVALID_REASON'
  | 'QUEUE_FULL'
  | 'CLOSED'
  | 'CONNECT_TIMEOUT'
  | 'CONNECT_FAILED'
  | 'HEARTBEAT_TIMEOUT'
  | 'AUTH_FAILED'
  | 'PROTOCOL_MISMATCH'
  | 'FATAL_CLOSE'
  | 'DECODE_ERROR'
  | 'RETRIES_EXHAUSTED'
  | 'SESSION_RESET';

// A brand that survives realms (iframes, duplicated bundles), where a prototype check does not.
const BRAND = Symbol.for('resilient-ws.error');

/**
 * The error type of resilient-ws: every error the library throws or emits has a `code` and
 * passes `instanceof ResilientWebSocketError` and {@link isResilientWebSocketError}. Its
 * `message` names the bad value, never a token.
 *
 * Errors for bad arguments are also what the native `WebSocket` throws, so native-minded code
 * keeps working: a `DOMException` named `SyntaxError` (bad URL, subprotocol or close reason) or
 * `InvalidAccessError` (bad close code), or a `TypeError` (bad option or data). Runtime errors
 * (`CONNECT_TIMEOUT`, `QUEUE_FULL`, …) are instances of this class, named `ResilientWebSocketError`.
 *
 * @example
 * ```ts
 * try {
 *   ws.send(data);
 * } catch (err) {
 *   if (err instanceof ResilientWebSocketError && err.code === 'QUEUE_FULL') showBusy();
 * }
 * ```
 */
export class ResilientWebSocketError extends Error {
  /** `'ResilientWebSocketError'` for runtime errors (argument errors carry the native name). */
  override readonly name: string = 'ResilientWebSocketError';
  /** What went wrong, as data. */
  readonly code!: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    brand(this, code);
  }

  /**
   * True for every error of the library, whatever its native class (see the class notes).
   *
   * @example
   * ```ts
   * err instanceof ResilientWebSocketError; // also for a DOMException the library threw
   * ```
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isResilientWebSocketError(value);
  }
}

/**
 * True when `value` is an error of resilient-ws, also one from another realm or another copy
 * of the library.
 *
 * @example
 * ```ts
 * ws.on('error', ({ error }) => {
 *   if (isResilientWebSocketError(error)) console.log(error.code);
 * });
 * ```
 */
export function isResilientWebSocketError(value: unknown): value is ResilientWebSocketError {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
}

const brand = (e: object, code: ErrorCode): void => {
  // Own properties: on a DOMException they shadow the legacy numeric `code` getter.
  Object.defineProperty(e, 'code', { value: code, enumerable: true });
  Object.defineProperty(e, BRAND, { value: true });
};

/** The native class an argument error takes. @internal */
export type NativeKind = 'SyntaxError' | 'InvalidAccessError' | 'TypeError';

/** @internal A runtime error of the library (`CONNECT_TIMEOUT`, `QUEUE_FULL`, …). */
export const fail = (code: ErrorCode, message: string, cause?: unknown): ResilientWebSocketError =>
  new ResilientWebSocketError(code, message, cause === undefined ? undefined : { cause });

/** @internal An argument error: the native class `kind` (a `TypeError` by default), also carrying `code`. */
export const invalid = (code: ErrorCode, message: string, kind: NativeKind = 'TypeError'): ResilientWebSocketError => {
  const e: Error =
    kind === 'TypeError' || typeof DOMException !== 'function' ? new TypeError(message) : new DOMException(message, kind);
  if (kind !== 'TypeError' && !(e instanceof DOMException)) Object.defineProperty(e, 'name', { value: kind });
  brand(e, code);
  return e as ResilientWebSocketError;
};
