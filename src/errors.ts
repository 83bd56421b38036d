/**
 * Every error code the library uses. A code is data: switch on it, never on the message.
 *
 * - `INVALID_URL`: the URL is not a ws:, wss:, http: or https: URL, or has a fragment.
 * - `INVALID_OPTION`: an option has a bad type or value, or is unknown.
 * - `INVALID_CLOSE_CODE`: `close()` got a code other than 1000 or 3000–4999.
 * - `INVALID_REASON`: `close()` got a reason longer than 123 UTF-8 bytes.
 * - `QUEUE_FULL`: `send()` with `queue.overflow: 'error'` and a full queue.
 * - `CLOSED`: `send()` or `flush()` after the client was closed.
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
 */
export type ErrorCode =
  | 'INVALID_URL'
  | 'INVALID_OPTION'
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
  | 'RETRIES_EXHAUSTED';

// A brand that survives realms (iframes, duplicated bundles), where `instanceof` does not.
const BRAND = Symbol.for('resilient-ws.error');

/**
 * The one error class of resilient-ws. Its `message` names the bad value, never a token.
 *
 * @example
 * ```ts
 * try {
 *   ws.send(data);
 * } catch (err) {
 *   if (isResilientWebSocketError(err) && err.code === 'QUEUE_FULL') showBusy();
 * }
 * ```
 */
export class ResilientWebSocketError extends Error {
  /** Always `'ResilientWebSocketError'`. */
  override readonly name = 'ResilientWebSocketError' as const;
  /** What went wrong, as data. */
  readonly code: ErrorCode;
  /** @internal */
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True when `value` is a {@link ResilientWebSocketError}, also one from another realm or
 * another copy of the library.
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

/** @internal */
export const fail = (code: ErrorCode, message: string, cause?: unknown): ResilientWebSocketError =>
  new ResilientWebSocketError(code, message, cause === undefined ? undefined : { cause });
