// Liveness in headless Chromium against the fault server: the heartbeat finds a half-open link
// and reconnects without losing what was queued, and going offline wastes no attempt. Waits
// are on events (page logs, server records); the only fixed wait is the 3 s offline window.
import { describe, expect, it } from 'vitest';
import { FaultServer } from '../server/fault-server.js';
import { browserFixture, sleep, type Bundle, type TestPage } from './harness.js';

const HEARTBEAT = { interval: 1000, timeout: 1000 };
/** How much later than interval + timeout the death may be reported (timer and IPC slack). */
const SLACK = 1000;
const OFFLINE_MS = 3000;

const fx = browserFixture();

const setup = async (bundle: Bundle = 'esm'): Promise<{ t: TestPage; s: FaultServer }> => {
  fx.server = await FaultServer.start({ mode: 'sink' });
  fx.tp = await fx.harness.newPage(bundle);
  return { t: fx.tp, s: fx.server };
};


describe('heartbeat', () => {
  it('keeps a healthy connection open: pings are answered and pongs are not messages', async () => {
    const { t, s } = await setup();
    const c = await t.create(s.url, { options: { heartbeat: HEARTBEAT } });
    await t.waitForEvent(c, 'open');
    await s.waitFor(() => (s.connections[0]!.pings >= 3 ? true : undefined), 3 * HEARTBEAT.interval + 2000, 'three answered pings');
    expect(await t.events(c, 'close')).toEqual([]);
    expect(await t.events(c, 'message')).toEqual([]);
    expect(s.connections).toHaveLength(1);
    expect(s.received).toEqual([]);
  });

  it.each(['esm', 'core'] as const)('finds a half-open connection within interval + timeout + 1 s, reconnects, and delivers what was queued after the death (%s bundle)', async (bundle) => {
    const { t, s } = await setup(bundle);
    const c = await t.create(s.url, { options: { heartbeat: HEARTBEAT, reconnect: { minDelay: 100, jitter: 'none' } } });
    await t.waitForEvent(c, 'open');
    await s.waitFor(() => (s.connections[0]!.pings >= 1 ? true : undefined), HEARTBEAT.interval + 2000, 'an answered ping');
    for (const seq of [0, 1, 2]) expect(await t.send(c, String(seq))).toBe('sent');
    await s.waitForMessages(3);
    // Messages sent from the close handler go out while the client is between connections,
    // without a round trip to the test process in the way.
    await t.page.evaluate((i) => {
      const ws = (window as any).rwsTest.ws(i);
      const off = ws.on('close', () => {
        off();
        (window as any).afterDeath = [3, 4, 5].map((seq) => ({ state: ws.state, result: ws.send(String(seq)) }));
      });
    }, c);

    const halfOpenAt = Date.now();
    s.halfOpen();
    const [closed] = await t.waitForEvent(c, 'close', 1, HEARTBEAT.interval + HEARTBEAT.timeout + SLACK + 2000);
    const detectedIn = closed!.at - halfOpenAt;
    const [, reopened] = await t.waitForEvent(c, 'open', 2, 3000);
    await s.waitForMessages(6);
    console.info(`[half-open/${bundle}] death detected ${detectedIn} ms after the server went half-open; reopened ${reopened!.at - closed!.at} ms later`);

    expect(closed).toMatchObject({ code: 1006, reason: 'heartbeat timeout', wasClean: false, willReconnect: true });
    expect(detectedIn).toBeLessThanOrEqual(HEARTBEAT.interval + HEARTBEAT.timeout + SLACK);
    expect((await t.events(c, 'error')).map((e) => (e.error as { code: string }).code)).toEqual(['HEARTBEAT_TIMEOUT']);
    expect(await t.page.evaluate(() => (window as any).afterDeath)).toEqual([3, 4, 5].map(() => ({ state: 'reconnecting', result: 'queued' })));
    expect(s.received.map((m) => [m.connection, m.seq])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [2, 3],
      [2, 4],
      [2, 5],
    ]);
    expect(s.connections).toHaveLength(2);
    expect(await t.state(c)).toBe('open');
  });
});

describe('offline', () => {
  /**
   * Goes offline for 3 s with the connection dropped, counting attempts (page `connecting`
   * events, server upgrades) in that window, then comes back online and measures the reconnect.
   */
  async function offlineWindow(t: TestPage, s: FaultServer, c: number, dropFirst: boolean): Promise<void> {
    const attemptsBefore = (await t.events(c, 'connecting')).length;
    const upgradesBefore = s.upgrades.length;
    if (dropFirst) {
      // The client now waits for a backoff timer; going offline must cancel it.
      s.drop();
      await t.waitForEvent(c, 'reconnecting');
    }
    await t.context.setOffline(true);
    await t.page.waitForFunction(() => navigator.onLine === false, undefined, { timeout: 2000, polling: 10 });
    // setOffline does not close an open WebSocket: the server drops it, as a dead network would.
    if (!dropFirst) s.drop();
    await t.waitForEvent(c, 'close');
    await sleep(OFFLINE_MS);
    const attempts = (await t.events(c, 'connecting')).slice(attemptsBefore);
    const upgrades = s.upgrades.slice(upgradesBefore);
    expect(await t.state(c)).toBe('reconnecting');

    const back = Date.now();
    await t.context.setOffline(false);
    const reopenedOnServer = await s.waitForConnections(2, 3000);
    const [, reopened] = await t.waitForEvent(c, 'open', 2, 3000);
    console.info(
      `[offline${dropFirst ? ', dropped first' : ''}] ${attempts.length} attempts and ${upgrades.length} upgrades while offline; ` +
        `server accepted ${reopenedOnServer.openedAt - back} ms after setOffline(false), page open at +${reopened!.at - back} ms`,
    );
    expect(attempts).toEqual([]);
    expect(upgrades).toEqual([]);
    expect(reopenedOnServer.openedAt - back).toBeLessThan(1000);
    // Coming online shortens the wait but keeps the retry budget: the attempt counts on.
    expect((await t.events(c, 'connecting')).at(-1)).toMatchObject({ attempt: 1 });
  }

  it('drop while offline: waits without attempts (delay null) and reconnects within 1 s of coming online (UMD)', async () => {
    const { t, s } = await setup('umd');
    const c = await t.create(s.url);
    await t.waitForEvent(c, 'open');
    await offlineWindow(t, s, c, false);
    expect(await t.events(c, 'reconnecting')).toMatchObject([{ attempt: 1, delay: null, code: 1006 }]);
  });

  it('offline while a retry is pending cancels it; reconnects within 1 s of coming online (ESM, heartbeat on)', async () => {
    const { t, s } = await setup('esm');
    const c = await t.create(s.url, { options: { heartbeat: HEARTBEAT, reconnect: { minDelay: 2000, jitter: 'none' } } });
    await t.waitForEvent(c, 'open');
    await offlineWindow(t, s, c, true);
    // The pending retry is cancelled, and said so: a UI stops its countdown.
    expect(await t.events(c, 'reconnecting')).toMatchObject([
      { attempt: 1, delay: 2000, code: 1006 },
      { attempt: 1, delay: null, code: 1006 },
    ]);
  });
});
