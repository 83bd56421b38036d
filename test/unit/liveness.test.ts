import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LATE_TIMER_MS } from '../../src/constants.js';
import { Heartbeat, isHidden, isOnline, watchPage, type PageHooks } from '../../src/liveness.js';
import { installFakePage } from '../support/fake-page.js';

const INTERVAL = 1000;
const TIMEOUT = 500;

// The heartbeat reads elapsed time from an injected clock. It follows the fake timers, plus a
// `skew` a test adds to model a clock that moved on while the timers did not fire (a frozen or
// throttled background tab).
let skew = 0;
const now = (): number => Date.now() + skew;

interface Probe {
  hb: Heartbeat;
  pings: number[];
  deaths: number[];
}

const heartbeat = (): Probe => {
  const pings: number[] = [];
  const deaths: number[] = [];
  const hb = new Heartbeat(
    { interval: INTERVAL, timeout: TIMEOUT },
    now,
    () => pings.push(now()),
    () => deaths.push(now()),
  );
  return { hb, pings, deaths };
};

describe('Heartbeat', () => {
  let t0 = 0;

  beforeEach(() => {
    vi.useFakeTimers();
    skew = 0;
    t0 = Date.now();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings after `interval` ms without inbound data, not before', async () => {
    const { hb, pings } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(pings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings).toEqual([t0 + INTERVAL]);
  });

  it('postpones the ping while data keeps arriving', async () => {
    const { hb, pings } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(600);
    hb.inbound();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(pings).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(pings).toEqual([t0 + 600 + INTERVAL]);
  });

  it('declares death exactly `timeout` ms after an unanswered ping (interval + timeout of silence)', async () => {
    const { hb, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT - 1);
    expect(deaths).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(deaths).toEqual([t0 + INTERVAL + TIMEOUT]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stays alive when an answer arrives within `timeout`, and pings again after the next silence', async () => {
    const { hb, pings, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL + TIMEOUT - 1);
    hb.inbound();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    expect(deaths).toEqual([]);
    expect(pings).toEqual([t0 + INTERVAL, t0 + 2 * INTERVAL + TIMEOUT - 1]);
  });

  it('declares death when the deadline timer is a little late (within the lateness allowance)', async () => {
    const { hb, deaths, pings } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    skew += LATE_TIMER_MS;
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(deaths).toHaveLength(1);
    expect(pings).toHaveLength(1);
  });

  it('does not die when the timers fired late but data did arrive (throttled tab)', async () => {
    const { hb, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    // The tab was throttled for a minute: the clock moved, the deadline timer did not fire yet,
    // and the answer arrived in the meantime.
    skew += 60_000;
    hb.inbound();
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(deaths).toEqual([]);
  });

  it('re-pings instead of declaring death when the deadline timer fires long after its time (frozen tab)', async () => {
    const { hb, pings, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    skew += 60_000;
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(deaths).toEqual([]);
    expect(pings).toHaveLength(2);
    // The fresh ping gets a fresh, on-time deadline: silence now is a real death.
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(deaths).toHaveLength(1);
  });

  it('measures silence from the last inbound data, not from when the timer was set', async () => {
    const { hb, pings } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL / 2);
    hb.inbound();
    // The first tick finds only INTERVAL/2 of silence and waits for the rest.
    await vi.advanceTimersByTimeAsync(INTERVAL / 2);
    expect(pings).toEqual([]);
    await vi.advanceTimersByTimeAsync(INTERVAL / 2);
    expect(pings).toHaveLength(1);
  });

  it('check() pings at once while idle-waiting', async () => {
    const { hb, pings, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(100);
    hb.check();
    expect(pings).toEqual([t0 + 100]);
    await vi.advanceTimersByTimeAsync(TIMEOUT);
    expect(deaths).toEqual([t0 + 100 + TIMEOUT]);
  });

  it('check() does not send a second ping while one is out', async () => {
    const { hb, pings } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    hb.check();
    expect(pings).toHaveLength(1);
  });

  it('check() does nothing once stopped', () => {
    const { hb, pings } = heartbeat();
    hb.start();
    hb.stop();
    hb.check();
    expect(pings).toEqual([]);
  });

  it('stop() cancels its timer, with a ping out or not', async () => {
    const { hb, pings, deaths } = heartbeat();
    hb.start();
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    hb.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);
    expect(pings).toHaveLength(1);
    expect(deaths).toEqual([]);
  });

  it('start() after a ping forgets that ping (a new connection starts clean)', async () => {
    const { hb, pings, deaths } = heartbeat();
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL);
    hb.start();
    await vi.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(deaths).toEqual([]);
    expect(pings).toHaveLength(1);
  });
});

describe('isOnline / isHidden', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it.each([
    [{ onLine: true }, true],
    [{ onLine: false }, false],
    [{}, true],
    [undefined, true],
  ])('isOnline() with navigator %j is %s', (nav, expected) => {
    vi.stubGlobal('navigator', nav);
    expect(isOnline()).toBe(expected);
  });

  it.each([
    [{ visibilityState: 'hidden' }, true],
    [{ visibilityState: 'visible' }, false],
    [undefined, false],
  ])('isHidden() with document %j is %s', (doc, expected) => {
    vi.stubGlobal('document', doc);
    expect(isHidden()).toBe(expected);
  });
});

describe('watchPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  const hooks = (): PageHooks & { calls: string[] } => {
    const calls: string[] = [];
    const hook = (name: string) => () => void calls.push(name);
    return {
      calls,
      online: hook('online'),
      offline: hook('offline'),
      visible: hook('visible'),
      hidden: hook('hidden'),
      restored: hook('restored'),
      stored: hook('stored'),
      resumed: hook('resumed'),
    };
  };

  it.each<[string, (p: ReturnType<typeof installFakePage>) => void, string[]]>([
    ['online', (p) => p.online(), ['online']],
    ['offline', (p) => p.offline(), ['offline']],
    ['visibilitychange to hidden', (p) => p.hide(), ['hidden']],
    ['visibilitychange to visible', (p) => p.show(), ['visible']],
    ['pageshow persisted', (p) => p.pageshow(true), ['restored']],
    ['pageshow not persisted', (p) => p.pageshow(false), []],
    ['pagehide persisted', (p) => p.pagehide(true), ['stored']],
    ['pagehide not persisted', (p) => p.pagehide(false), []],
    ['resume', (p) => p.resume(), ['resumed']],
  ])('%s calls %j', (_name, fire, expected) => {
    const page = installFakePage();
    const h = hooks();
    watchPage(h);
    fire(page);
    expect(h.calls).toEqual(expected);
  });

  it('adds one listener per event and the returned function removes every one of them', () => {
    const page = installFakePage();
    const h = hooks();
    const unwatch = watchPage(h);
    for (const type of ['online', 'offline', 'pageshow', 'pagehide']) expect(page.window.held(type)).toBe(1);
    for (const type of ['visibilitychange', 'resume']) expect(page.document.held(type)).toBe(1);
    unwatch();
    expect(page.window.held() + page.document.held()).toBe(0);
    page.online();
    page.hide();
    expect(h.calls).toEqual([]);
  });

  it('calling the remover twice removes nothing more', () => {
    const page = installFakePage();
    const unwatch = watchPage(hooks());
    unwatch();
    const removes = page.window.removes + page.document.removes;
    unwatch();
    expect(page.window.removes + page.document.removes).toBe(removes);
  });

  it('does nothing where there is no window or document (Node, workers)', () => {
    vi.stubGlobal('window', undefined);
    vi.stubGlobal('document', undefined);
    const unwatch = watchPage(hooks());
    expect(unwatch).not.toThrow();
  });
});
