import { describe, expect, it } from 'vitest';
import { canMove, readyStateOf, type State } from '../../src/state.js';

const STATES: readonly State[] = ['connecting', 'open', 'reconnecting', 'closing', 'closed'];

// The whole table, written out: a move not listed here must be refused.
const ALLOWED: ReadonlySet<string> = new Set([
  'connecting→open',
  'connecting→reconnecting',
  'connecting→closed',
  'open→reconnecting',
  'open→connecting',
  'open→closing',
  'open→closed',
  'reconnecting→connecting',
  'reconnecting→closed',
  'closing→closed',
  'closing→connecting',
  'closed→connecting',
]);

const pairs = STATES.flatMap((from) => STATES.map((to) => [from, to, ALLOWED.has(`${from}→${to}`)] as const));

describe('canMove', () => {
  it.each(pairs.filter(([, , ok]) => ok))('allows %s → %s', (from, to) => {
    expect(canMove(from, to)).toBe(true);
  });

  it.each(pairs.filter(([, , ok]) => !ok))('forbids %s → %s', (from, to) => {
    expect(canMove(from, to)).toBe(false);
  });

  it('has no move into a state from itself (a no-op is not a transition)', () => {
    for (const s of STATES) expect(canMove(s, s)).toBe(false);
  });

  it('lets every state reach connecting except connecting itself (reconnect() from anywhere)', () => {
    for (const s of STATES) expect(canMove(s, 'connecting')).toBe(s !== 'connecting');
  });

  it('lets every state but closed and closing reach closed directly or via closing', () => {
    for (const s of STATES.filter((x) => x !== 'closed')) {
      expect(canMove(s, 'closed') || canMove(s, 'closing')).toBe(true);
    }
  });
});

describe('readyStateOf', () => {
  it.each([
    ['connecting', 0],
    ['reconnecting', 0],
    ['open', 1],
    ['closing', 2],
    ['closed', 3],
  ] as const)('%s shows readyState %i', (state, ready) => {
    expect(readyStateOf(state)).toBe(ready);
  });
});
