/** Close codes with a meaning for the library (RFC 6455 §7.4.1). @internal */
export const CLOSE_NORMAL = 1000;
/** @internal */
export const CLOSE_GOING_AWAY = 1001;
/** @internal */
export const CLOSE_ABNORMAL = 1006;
/** @internal */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * Close codes after which a retry would fail the same way: protocol error, unsupported data,
 * invalid payload, message too big, missing extension. @internal
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([1002, 1003, 1007, 1009, 1010]);

/** The longest close reason the protocol allows, in UTF-8 bytes (RFC 6455 §5.5). @internal */
export const MAX_REASON_BYTES = 123;

/** `setTimeout` stores its delay in a signed 32-bit int; longer delays fire at once. @internal */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** How often the drain watcher reads the native `bufferedAmount`. @internal */
export const DRAIN_POLL_MS = 8;

/** How long `close()` waits for the server's close frame before it lets go. @internal */
export const CLOSE_TIMEOUT_MS = 5000;

/** A timer that fires later than this was throttled or frozen, not on time. @internal */
export const LATE_TIMER_MS = 1000;
