// The log of sent messages that `queue.resend: 'unsent'` reads back after a connection died.
import { describe, expect, it } from 'vitest';
import { SentLog } from '../../src/queue.js';

const add = (log: SentLog, buffered: number, wire: string, control = false): void =>
  log.add(buffered, wire, wire, undefined, Infinity, control);

describe('SentLog', () => {
  it('forgets everything once the native buffer was empty before a send', () => {
    const log = new SentLog();
    add(log, 0, 'aaaa');
    add(log, 4, 'bbbb');
    add(log, 0, 'cccc');
    expect(log.length).toBe(1);
    expect(log.unsent(4).map((e) => e.data)).toEqual(['cccc']);
  });

  it('gives back the newest whole messages that account for the unsent bytes, oldest first', () => {
    const log = new SentLog();
    add(log, 0, 'aaaa');
    add(log, 4, 'bbbb');
    add(log, 8, 'cccc');
    expect(log.unsent(0)).toEqual([]);
    expect(log.unsent(1).map((e) => e.data)).toEqual(['cccc']);
    expect(log.unsent(5).map((e) => e.data)).toEqual(['bbbb', 'cccc']);
    expect(log.unsent(99).map((e) => e.data)).toEqual(['aaaa', 'bbbb', 'cccc']);
    expect(log.unsent(5)[0]).toMatchObject({ wire: 'bbbb', bytes: 4, expires: Infinity, beforeReady: false });
  });

  it('counts control messages in the bytes but never gives them back', () => {
    const log = new SentLog();
    add(log, 0, 'aaaa');
    add(log, 4, 'ping', true);
    expect(log.unsent(8).map((e) => e.data)).toEqual(['aaaa']);
    expect(log.unsent(4)).toEqual([]);
  });

  it('stays bounded under a buffer that never empties, keeping what the buffer may hold', () => {
    const log = new SentLog();
    add(log, 0, 'x'.repeat(10));
    for (let i = 1; i < 5000; i++) add(log, 100, 'x'.repeat(10));
    expect(log.length).toBeLessThanOrEqual(1024);
    expect(log.unsent(100)).toHaveLength(10);
  });

  it('keeps everything when the whole log is still buffered', () => {
    const log = new SentLog();
    add(log, 0, 'x'.repeat(10));
    for (let i = 1; i < 1100; i++) add(log, i * 10, 'x'.repeat(10));
    expect(log.length).toBe(1100);
    expect(log.unsent(1100 * 10)).toHaveLength(1100);
  });

  // A producer that keeps the native buffer large (8000 small messages in flight) must not pay
  // a walk over the whole log on every send.
  it('trims a large still-buffered log only now and then', () => {
    const log = new SentLog();
    add(log, 0, 'x'.repeat(64));
    let walks = 0;
    const big = 8000 * 64;
    for (let i = 1; i < 20_000; i++) {
      const before = log.length;
      add(log, big, 'x'.repeat(64));
      if (log.length < before) walks++;
    }
    expect(walks).toBeLessThan(10);
    expect(log.unsent(big)).toHaveLength(8000);
  });

  it('counts bytes as UTF-8', () => {
    const log = new SentLog();
    add(log, 0, 'é'); // 2 bytes
    add(log, 2, 'a');
    expect(log.unsent(2).map((e) => e.data)).toEqual(['é', 'a']);
    expect(log.unsent(1).map((e) => e.data)).toEqual(['a']);
  });
});
