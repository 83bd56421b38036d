import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMEOUT_MS } from '../../src/constants.js';
import { Timer } from '../../src/timer.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('Timer', () => {
  it('is not pending when new', () => {
    expect(new Timer().pending).toBe(false);
  });

  it('runs the callback once after the delay', () => {
    const t = new Timer();
    const fn = vi.fn();
    t.schedule(100, fn);
    vi.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('is pending until it fires, then not', () => {
    const t = new Timer();
    t.schedule(50, () => undefined);
    expect(t.pending).toBe(true);
    vi.advanceTimersByTime(50);
    expect(t.pending).toBe(false);
  });

  it('reports not pending inside its own callback, so the callback can schedule again', () => {
    const t = new Timer();
    const seen: boolean[] = [];
    t.schedule(10, () => {
      seen.push(t.pending);
      t.schedule(10, () => seen.push(t.pending));
    });
    vi.advanceTimersByTime(20);
    expect(seen).toEqual([false, false]);
  });

  it('schedule() replaces the pending run', () => {
    const t = new Timer();
    const first = vi.fn();
    const second = vi.fn();
    t.schedule(100, first);
    t.schedule(200, second);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it('cancel() clears the pending run and the timer', () => {
    const t = new Timer();
    const fn = vi.fn();
    t.schedule(100, fn);
    t.cancel();
    expect(t.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('cancel() without a pending run is harmless', () => {
    const t = new Timer();
    expect(() => t.cancel()).not.toThrow();
    expect(t.pending).toBe(false);
  });

  it('clamps delays beyond 2^31-1 ms instead of letting setTimeout fire them at once', () => {
    const t = new Timer();
    const fn = vi.fn();
    t.schedule(2 ** 40, fn);
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(MAX_TIMEOUT_MS - 1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('treats a negative delay as 0', () => {
    const t = new Timer();
    const fn = vi.fn();
    t.schedule(-50, fn);
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});
