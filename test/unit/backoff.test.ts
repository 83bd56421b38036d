import { describe, expect, it } from 'vitest';
import { backoff, type BackoffOptions } from '../../src/backoff.js';
import { MAX_TIMEOUT_MS } from '../../src/constants.js';
import { seededRandom } from '../support/random.js';

const base: BackoffOptions = { minDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 'none' };
const fixed = (r: number) => (): number => r;

describe('backoff', () => {
  // [label, attempt, option overrides, random, expected ms]
  const rows: Array<[string, number, Partial<BackoffOptions>, number, number]> = [
    ['none: attempt 0 is minDelay', 0, {}, 0.5, 1000],
    ['none: attempt 1 doubles', 1, {}, 0.5, 2000],
    ['none: attempt 3', 3, {}, 0.5, 8000],
    ['none: attempt 4 just under the cap', 4, {}, 0.5, 16_000],
    ['none: attempt 5 capped at maxDelay', 5, {}, 0.5, 30_000],
    ['none: attempt 1000 stays at maxDelay', 1000, {}, 0.5, 30_000],
    ['none: factor 1.5', 2, { factor: 1.5 }, 0.5, 2250],
    ['none: factor 1 never grows', 7, { factor: 1 }, 0.5, 1000],
    ['none: minDelay 0', 3, { minDelay: 0 }, 0.5, 0],
    ['none: minDelay 0 with an attempt whose factor^n overflows', 2000, { minDelay: 0 }, 0.5, 0],
    ['full: random 0 gives 0', 0, { jitter: 'full' }, 0, 0],
    ['full: random 0.5 of attempt 0', 0, { jitter: 'full' }, 0.5, 500],
    ['full: random 0.25 of attempt 2', 2, { jitter: 'full' }, 0.25, 1000],
    ['full: rounds to whole ms', 0, { jitter: 'full' }, 1 / 3, 333],
    ['full: the window is capped at maxDelay', 10, { jitter: 'full' }, 0.5, 15_000],
    ['equal: random 0 gives half the cap', 0, { jitter: 'equal' }, 0, 500],
    ['equal: random 0.5 of attempt 0', 0, { jitter: 'equal' }, 0.5, 750],
    ['equal: random 0 of a capped attempt', 5, { jitter: 'equal' }, 0, 15_000],
    ['equal: random 0.5 of attempt 3', 3, { jitter: 'equal' }, 0.5, 6000],
    ['clamped to 2^31-1 (setTimeout limit), none', 0, { minDelay: 1e12, maxDelay: 1e12 }, 0.5, MAX_TIMEOUT_MS],
    ['clamped to 2^31-1, full', 0, { minDelay: 1e12, maxDelay: 1e12, jitter: 'full' }, 0.9, MAX_TIMEOUT_MS],
    ['clamped to 2^31-1, equal', 0, { minDelay: 1e12, maxDelay: 1e12, jitter: 'equal' }, 0, MAX_TIMEOUT_MS],
    ['maxDelay below the clamp is kept', 40, { maxDelay: 2 ** 31 - 2 }, 0.5, 2 ** 31 - 2],
  ];

  it.each(rows)('%s', (_label, attempt, overrides, random, expected) => {
    expect(backoff(attempt, { ...base, ...overrides }, fixed(random))).toBe(expected);
  });

  it('none does not consume randomness', () => {
    let calls = 0;
    backoff(2, base, () => {
      calls++;
      return 0.5;
    });
    expect(calls).toBe(0);
  });

  it('full jitter stays within [0, cap] for random values near 1', () => {
    for (let attempt = 0; attempt < 8; attempt++) {
      const cap = Math.min(30_000, 1000 * 2 ** attempt);
      const ms = backoff(attempt, { ...base, jitter: 'full' }, fixed(0.999_999_9));
      expect(ms).toBeLessThanOrEqual(cap);
      expect(ms).toBeGreaterThan(cap * 0.99);
    }
  });

  it('spreads 1000 clients cut off together over the whole first window with full jitter', () => {
    const random = seededRandom(20240611);
    const o: BackoffOptions = { ...base, jitter: 'full' };
    const deciles = new Array<number>(10).fill(0);
    for (let client = 0; client < 1000; client++) {
      const ms = backoff(0, o, random);
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(o.minDelay);
      deciles[Math.min(9, Math.floor(ms / (o.minDelay / 10)))]!++;
    }
    for (const count of deciles) {
      expect(count).toBeGreaterThanOrEqual(50);
      expect(count).toBeLessThanOrEqual(150);
    }
  });
});
