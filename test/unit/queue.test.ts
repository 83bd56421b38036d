// The pure byte-counted FIFO behind the send queue: order, byte accounting and the three
// overflow policies, without any socket.
import { describe, expect, it } from 'vitest';
import { isResilientWebSocketError } from '../../src/errors.js';
import { Fifo, type Entry, type Limits } from '../../src/queue.js';

const entry = (data: string, bytes = data.length, expires = Infinity): Entry => ({
  data,
  wire: data,
  codec: undefined,
  bytes,
  expires,
  beforeReady: false,
});

const fill = (...items: Entry[]): Fifo => {
  const q = new Fifo();
  for (const e of items) q.push(e);
  return q;
};

const drain = (q: Fifo): unknown[] => {
  const out: unknown[] = [];
  for (let e = q.shift(); e; e = q.shift()) out.push(e.data);
  return out;
};

const limits = (overflow: Limits['overflow'], maxMessages = 3, maxBytes = 100): Limits => ({ maxMessages, maxBytes, overflow });

describe('Fifo order and byte accounting', () => {
  it('shifts in insertion order and counts bytes and length', () => {
    const q = fill(entry('a', 1), entry('bb', 20), entry('ccc', 300));
    expect([q.length, q.bytes]).toEqual([3, 321]);
    expect(drain(q)).toEqual(['a', 'bb', 'ccc']);
    expect([q.length, q.bytes, q.shift()]).toEqual([0, 0, undefined]);
  });

  it('keeps order and totals across the compaction of a long run of shifts', () => {
    const q = new Fifo();
    let next = 0;
    let expected = 0;
    // Interleave pushes and shifts so the head index passes the compaction threshold many times.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(entry(String(next++), 2));
      for (let i = 0; i < 90; i++) expect(q.shift()?.data).toBe(String(expected++));
    }
    expect([q.length, q.bytes]).toEqual([500, 1000]);
    expect(drain(q)).toEqual(Array.from({ length: 500 }, (_, i) => String(expected + i)));
  });

  it('unshifts entries in front, oldest first', () => {
    const q = fill(entry('x', 1), entry('c', 3), entry('d', 4));
    q.shift();
    q.unshift([entry('a', 10), entry('b', 20)]);
    expect([q.length, q.bytes]).toEqual([4, 37]);
    expect(drain(q)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('extracts matching entries in order and keeps the rest in order', () => {
    const q = fill(entry('a', 1), entry('B', 2), entry('c', 4), entry('D', 8));
    const out = q.extract((e) => (e.data as string) === (e.data as string).toUpperCase());
    expect(out.map((e) => e.data)).toEqual(['B', 'D']);
    expect(q.bytes).toBe(5);
    expect(drain(q)).toEqual(['a', 'c']);
  });

  it('clears everything and returns it in order', () => {
    const q = fill(entry('a', 1), entry('b', 2));
    expect(q.clear().map((e) => e.data)).toEqual(['a', 'b']);
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });

  it.each([
    { expiries: [], next: Infinity },
    { expiries: [Infinity, Infinity], next: Infinity },
    { expiries: [300, 100, Infinity, 200], next: 100 },
  ])('nextExpiry of $expiries is $next', ({ expiries, next }) => {
    const q = fill(...expiries.map((t, i) => entry(String(i), 1, t)));
    expect(q.nextExpiry()).toBe(next);
  });

  it('nextExpiry ignores entries already shifted', () => {
    const q = fill(entry('a', 1, 10), entry('b', 1, 20));
    q.shift();
    expect(q.nextExpiry()).toBe(20);
  });
});

describe('Fifo.offer within limits', () => {
  it.each(['drop-oldest', 'drop-newest', 'error'] as const)('%s: accepts while within both bounds', (overflow) => {
    const q = new Fifo();
    for (const d of ['a', 'b', 'c']) expect(q.offer(entry(d, 30), limits(overflow))).toEqual([]);
    expect([q.length, q.bytes]).toEqual([3, 90]);
  });

  it('accepts an entry that fills maxBytes exactly', () => {
    const q = fill(entry('a', 60));
    expect(q.offer(entry('b', 40), limits('error'))).toEqual([]);
    expect(q.bytes).toBe(100);
  });

  it('drop-oldest: drops the oldest entries until the new one fits (by count)', () => {
    const q = fill(entry('a', 1), entry('b', 1), entry('c', 1));
    const e = entry('d', 1);
    expect(q.offer(e, limits('drop-oldest')).map((x) => x.data)).toEqual(['a']);
    expect(drain(q)).toEqual(['b', 'c', 'd']);
  });

  it('drop-oldest: drops as many oldest entries as the new one needs bytes', () => {
    const q = fill(entry('a', 40), entry('b', 40), entry('c', 10));
    expect(q.offer(entry('d', 85), limits('drop-oldest', 10)).map((x) => x.data)).toEqual(['a', 'b']);
    expect([q.bytes, drain(q)]).toEqual([95, ['c', 'd']]);
  });

  it('drop-oldest: an entry larger than maxBytes is dropped itself, the queue is untouched', () => {
    const q = fill(entry('a', 10));
    const big = entry('big', 101);
    expect(q.offer(big, limits('drop-oldest'))).toEqual([big]);
    expect(drain(q)).toEqual(['a']);
  });

  it('drop-oldest with maxMessages 0 drops every new entry', () => {
    const q = new Fifo();
    const e = entry('a', 1);
    expect(q.offer(e, limits('drop-oldest', 0))).toEqual([e]);
    expect(q.length).toBe(0);
  });

  it.each([
    { why: 'count', held: [1, 1, 1], size: 1 },
    { why: 'bytes', held: [50, 40], size: 20 },
  ])('drop-newest: a full queue ($why) drops the new entry and keeps the old ones', ({ held, size }) => {
    const q = fill(...held.map((b, i) => entry(String(i), b)));
    const e = entry('new', size);
    expect(q.offer(e, limits('drop-newest'))).toEqual([e]);
    expect(drain(q)).toEqual(held.map((_, i) => String(i)));
  });

  it.each([
    { why: 'count', held: [1, 1, 1], size: 1 },
    { why: 'bytes', held: [50, 40], size: 20 },
    { why: 'an entry larger than maxBytes', held: [], size: 101 },
  ])('error: a full queue ($why) throws QUEUE_FULL and changes nothing', ({ held, size }) => {
    const q = fill(...held.map((b, i) => entry(String(i), b)));
    const before = [q.length, q.bytes];
    let thrown: unknown;
    try {
      q.offer(entry('new', size), limits('error'));
    } catch (err) {
      thrown = err;
    }
    expect(isResilientWebSocketError(thrown) && thrown.code).toBe('QUEUE_FULL');
    expect([q.length, q.bytes]).toEqual(before);
    expect(drain(q)).toEqual(held.map((_, i) => String(i)));
  });
});

describe('Fifo.trim', () => {
  it('drops the oldest entries until within both bounds again', () => {
    const q = fill(entry('a', 30), entry('b', 30), entry('c', 30), entry('d', 30));
    expect(q.trim(limits('drop-newest', 10, 70)).map((e) => e.data)).toEqual(['a', 'b']);
    expect(drain(q)).toEqual(['c', 'd']);
  });

  it('drops nothing from a queue within its bounds', () => {
    const q = fill(entry('a', 30), entry('b', 30));
    expect(q.trim(limits('error', 2, 60))).toEqual([]);
    expect(q.length).toBe(2);
  });
});
