// resilient-ws/tabs in Node: the option checks, and the fallback where Web Locks are missing
// (Node has BroadcastChannel but no navigator.locks), so each client keeps its own socket and
// says so. The sharing itself is tested in Chromium (test/browser/tabs*.test.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, isResilientWebSocketError } from '../../src/core.js';
import { tabs } from '../../src/tabs.js';
import { lanes } from '../../src/reliable.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
};

describe('tabs() options', () => {
  it.each([
    ['no options', undefined, '{}'],
    ['an empty name', { name: '', version: '1' }, '"name":""'],
    ['a number for version', { name: 'app', version: 2 }, '"version":2'],
    ['stealAfter under 100', { name: 'app', version: '1', stealAfter: 50 }, '"stealAfter":50'],
    ['stealAfter NaN', { name: 'app', version: '1', stealAfter: Number.NaN }, '"stealAfter":null'],
    ['stealAfter past a timer’s range', { name: 'app', version: '1', stealAfter: 2 ** 31 }, '"stealAfter":2147483648'],
    ['route not a function', { name: 'app', version: '1', route: 'tab' }, '"route":"tab"'],
    ['lanes not from lanes()', { name: 'app', version: '1', lanes: true }, '"lanes":true'],
    ['the lanes factory itself', { name: 'app', version: '1', lanes }, '{"name":"app","version":"1"}'],
  ])('refuses %s with a typed INVALID_OPTION that shows what was passed', (_, options, shown) => {
    const err = thrown(() => tabs(options as never));
    expect(err).toBeInstanceOf(TypeError);
    expect(isResilientWebSocketError(err)).toBe(true);
    expect((err as { code?: string }).code).toBe('INVALID_OPTION');
    expect(err.message).toMatch(/^tabs\(\): name, version: strings; stealAfter: >= 100; route: a function; lanes: lanes\(\); got /);
    expect(err.message).toContain(shown);
  });

  it('takes valid options, with lanes() and a route', () => {
    expect(() => tabs({ name: 'app', version: '1.0.0', stealAfter: 100, route: () => undefined, lanes: lanes() })).not.toThrow();
  });

  it('options() may be called once', () => {
    const tab = tabs({ name: 'app', version: '1' });
    tab.options({ WebSocket: FakeWebSocket });
    const err = thrown(() => tab.options());
    expect((err as { code?: string }).code).toBe('INVALID_OPTION');
    expect(err.message).toBe('tabs(): options() called twice');
  });
});

describe('tabs() without Web Locks (the fallback)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.reset();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps its own socket, says shared: false and leader: true, and passes the options through', async () => {
    const tab = tabs({ name: 'app', version: '1' });
    expect(tab.shared).toBe(false);
    expect(tab.id).toMatch(/^[0-9a-z]{6,10}$/);
    const mine = { init: () => undefined };
    const o = tab.options({ WebSocket: FakeWebSocket, plugins: [mine], reconnect: { minDelay: 10 } });
    // The native constructor itself, not a link: nothing to share.
    expect(o.WebSocket).toBe(FakeWebSocket);
    expect(o.plugins[0]).toBe(mine);
    expect(o.plugins).toHaveLength(2);
    expect(o.reconnect).toEqual({ minDelay: 10 });
    const ws = new ResilientWebSocket('wss://example.test/', [], o);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    expect(ws.getSnapshot()).toMatchObject({ state: 'open', leader: true, shared: false });
    expect(ws.send('hi')).toBe('sent');
    expect(FakeSocket.last.sent).toEqual(['hi']);
    ws.close();
    expect(FakeSocket.instances).toHaveLength(1);
  });
});
