import { MAX_TIMEOUT_MS } from './constants.js';

/** How randomness spreads the delays of clients that lost their connection together. */
export type Jitter = 'full' | 'equal' | 'none';

/** The part of the reconnect options that shapes the delay. @internal */
export interface BackoffOptions {
  readonly minDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: Jitter;
}

/**
 * The delay in ms before retry `attempt` (0-based): `min(maxDelay, minDelay * factor^attempt)`,
 * then jittered. `'full'` draws from `[0, cap)`, so a thousand clients cut off together come
 * back spread over the whole window; `'equal'` from `[cap/2, cap)`; `'none'` is `cap`.
 * `random` is passed per call so no state hides at module scope.
 *
 * @example
 * ```ts
 * backoff(3, { minDelay: 1000, maxDelay: 30000, factor: 2, jitter: 'none' }, Math.random); // 8000
 * ```
 */
export function backoff(attempt: number, o: BackoffOptions, random: () => number): number {
  // `|| 0`: with minDelay 0 and a large attempt, 0 * Infinity is NaN, which setTimeout runs at once.
  const cap = Math.min(o.maxDelay, o.minDelay * o.factor ** attempt) || 0;
  const ms = o.jitter === 'full' ? random() * cap : o.jitter === 'equal' ? cap / 2 + (random() * cap) / 2 : cap;
  return Math.min(MAX_TIMEOUT_MS, Math.max(0, Math.round(ms)));
}
