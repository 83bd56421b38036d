// The built bundles in headless Chromium against a real server that restarts, drops, refuses
// and closes with chosen codes. Each scenario waits for events (server records or page-side
// event logs) and asserts concrete outcomes; the only fixed wait is "nothing happens for 3 s".
import { describe, expect, it } from 'vitest';
import { FaultServer } from '../server/fault-server.js';
import { BUNDLES, browserFixture, sleep, type Bundle, type PageEvent, type SendRecord, type TestPage } from './harness.js';

const fx = browserFixture();

const setup = async (bundle: Bundle, mode: 'echo' | 'sink' = 'echo'): Promise<{ tp: TestPage; server: FaultServer }> => {
  fx.server = await FaultServer.start({ mode });
  fx.tp = await fx.harness.newPage(bundle);
  return { tp: fx.tp, server: fx.server };
};


/**
 * Checks the numbered messages the sink received against what the page sent. Duplicates and
 * reordering are never allowed, nor the loss of a message sent while the client was not open
 * (it was queued). A message `send()` handed to an open socket can still be lost when the
 * server died before reading it: no browser API reports a failed write, so only a message sent
 * between the fault and the page's `close` event may be lost. That loss is logged separately.
 */
function checkDelivery(label: string, sends: SendRecord[], s: FaultServer, faultAt: number, closeAt: number, readAtFault: number): void {
  expect(sends.every((r) => r.result === 'sent' || r.result === 'queued')).toBe(true);
  const report = s.sequenceReport(sends.map((r) => r.seq));
  const lost = report.lost.map((seq) => sends.find((r) => r.seq === seq)!);
  const queuedLost = lost.filter((r) => r.state !== 'open' || r.result !== 'sent');
  const inFlightLost = lost.filter((r) => !queuedLost.includes(r));
  const queued = sends.filter((r) => r.state !== 'open').length;
  const show = (r: SendRecord): string => `#${r.seq} sent ${r.at - faultAt} ms after the fault`;
  console.info(
    `[${label}] sent ${sends.length} (${queued} while not open), received ${report.received}, ` +
      `lost ${report.lost.length} (queued ${queuedLost.length}, in flight ${inFlightLost.length}${inFlightLost.length ? `: ${inFlightLost.map(show).join(', ')}` : ''}; ` +
      `page saw the close ${closeAt - faultAt} ms after the fault), duplicates ${report.duplicates.length}, reordered ${report.reordered.length}`,
  );
  expect(report.duplicates).toEqual([]);
  expect(report.reordered).toEqual([]);
  expect(queuedLost).toEqual([]);
  // Only a message the server had not read when its socket died may be lost in flight, and only
  // one sent before the page learnt of the close. No time bound: a loaded machine reads late.
  expect(inFlightLost.filter((r) => r.seq <= readAtFault || r.at > closeAt)).toEqual([]);
}

/** Runs a numbered stream through `fault`, requiring a reconnection, then checks delivery. */
async function streamThroughFault(
  label: string,
  t: TestPage,
  s: FaultServer,
  fault: () => Promise<void>,
  format: 'text' | 'json' = 'text',
): Promise<number> {
  const c = await t.create(s.url);
  await s.waitForOpen(1);
  await t.waitForEvent(c, 'open');
  await t.startSequence(c, 20, { format, burstOnClose: 3 });
  await s.waitForMessages(10);
  const faultAt = Date.now();
  // The fault runs in this process right after this line: nothing more is read before it.
  const readAtFault = Math.max(...s.seqs);
  await fault();
  // The reconnection must really happen: a second accepted connection and a second page `open`.
  await s.waitForConnections(2, 8000);
  await t.waitForEvent(c, 'open', 2, 8000);
  await s.waitFor(() => s.received.filter((m) => m.connection === 2).length >= 10, 5000, '10 messages on the new connection');
  const sends = await t.stopSequence(c);
  const last = sends[sends.length - 1]!.seq;
  await s.waitFor(() => s.seqs.includes(last), 5000, `the last message (#${last})`);
  expect(sends.filter((r) => r.state !== 'open').length).toBeGreaterThanOrEqual(3);
  const [close] = await t.events(c, 'close');
  checkDelivery(label, sends, s, faultAt, close!.at, readAtFault);
  return faultAt;
}

describe.each(BUNDLES)('%s bundle', (bundle) => {
  it('echoes text, ArrayBuffer and Blob (binaryType blob and arraybuffer)', async () => {
    const { tp: t, server: s } = await setup(bundle);
    const blobClient = await t.create(s.url);
    const bufferClient = await t.create(s.url, { options: { binaryType: 'arraybuffer' } });
    await t.waitForEvent(blobClient, 'open');
    await t.waitForEvent(bufferClient, 'open');
    const bytes = [0, 1, 2, 127, 128, 255, 10, 13];
    for (const [client, binaryKind] of [
      [blobClient, 'blob'],
      [bufferClient, 'arraybuffer'],
    ] as const) {
      const text = await t.call<{ result: string; sent: { text: string }; received: { kind: string; text: string } }>('roundTrip', client, 'text');
      expect(text.result).toBe('sent');
      expect(text.received).toEqual({ kind: 'text', text: text.sent.text });
      for (const kind of ['arraybuffer', 'blob']) {
        const bin = await t.call<{ result: string; received: { kind: string; bytes: number[] } }>('roundTrip', client, kind);
        expect(bin.result).toBe('sent');
        expect(bin.received).toEqual({ kind: binaryKind, bytes });
      }
    }
    expect(s.received.map((m) => (m.binary ? [...(m.data as Buffer)] : 'text'))).toEqual(['text', bytes, bytes, 'text', bytes, bytes]);
    expect(t.errors).toEqual([]);
    if (bundle === 'core') {
      // The page really runs the core: a v1 option object reaches it only through the harness's translation.
      const untranslated = await t.page.evaluate(() => {
        try {
          new (window as any).ResilientWS.ResilientWebSocket('ws://127.0.0.1:9', [], { heartbeat: { interval: 1000 } });
          return 'accepted';
        } catch (e) {
          return (e as { code?: string }).code;
        }
      });
      expect(untranslated).toBe('INVALID_OPTION');
    }
  });

  it('survives a server restart (1006, ~500 ms down) with every message delivered once, in order', async () => {
    const { tp: t, server: s } = await setup(bundle, 'sink');
    const downAt = await streamThroughFault(`restart/${bundle}`, t, s, () => s.restart(500));
    expect(s.connections[0]!.code).toBe(1006);
    const closes = await t.events(0, 'close');
    expect(closes[0]).toMatchObject({ code: 1006, willReconnect: true });
    console.info(`[restart/${bundle}] reconnected ${s.connections[1]!.openedAt - downAt} ms after the kill; attempts: ${(await t.events(0, 'connecting')).length}`);
  });
});

describe('faults (esm bundle)', () => {
  it('reconnects after an abrupt drop while listening, losing no queued message', async () => {
    const { tp: t, server: s } = await setup('esm', 'sink');
    await streamThroughFault('drop', t, s, async () => s.drop(), 'json');
    expect(s.connections[0]!.code).toBe(1006);
    expect(s.upgrades.every((u) => u.accepted)).toBe(true);
  });

  it.each([1001, 1012])('reconnects after the server closes with %i', async (code) => {
    const { tp: t, server: s } = await setup('esm');
    const c = await t.create(s.url);
    await s.waitForOpen(1);
    s.closeAll(code, 'going');
    await s.waitForConnections(2, 5000);
    await t.waitForEvent(c, 'open', 2);
    expect(await t.events(c, 'close')).toMatchObject([{ code, reason: 'going', wasClean: true, willReconnect: true }]);
    expect(await t.events(c, 'reconnecting')).toMatchObject([{ attempt: 1, code }]);
    expect(await t.state(c)).toBe('open');
  });

  it('gives up on 1002 with a typed FATAL_CLOSE error and state closed', async () => {
    const { tp: t, server: s } = await setup('esm');
    const c = await t.create(s.url);
    await s.waitForOpen(1);
    s.closeAll(1002, 'protocol error');
    const [giveup] = await t.waitForEvent(c, 'giveup');
    expect(giveup).toMatchObject({ error: { name: 'ResilientWebSocketError', code: 'FATAL_CLOSE' } });
    expect(await t.state(c)).toBe('closed');
    expect(await t.info(c)).toMatchObject({ readyState: 3 });
    expect(await t.events(c, 'close')).toMatchObject([{ code: 1002, willReconnect: false }]);
    expect(await t.events(c, 'reconnecting')).toEqual([]);
    expect(s.upgrades).toHaveLength(1);
  });

  it('makes no attempt for 3 s after the user closes with 1000', async () => {
    const { tp: t, server: s } = await setup('esm');
    const c = await t.create(s.url);
    await s.waitForOpen(1);
    // The server may see the upgrade before the page sees `open`: close from the open state.
    await t.waitForEvent(c, 'open');
    await t.close(c, 1000, 'done');
    await s.waitForNoneOpen();
    expect(s.connections[0]).toMatchObject({ code: 1000, reason: 'done' });
    await t.waitForState(c, 'closed');
    await sleep(3000);
    expect(s.upgrades).toHaveLength(1);
    expect(s.connections).toHaveLength(1);
    const log = await t.events(c);
    const closedAt = log.findIndex((e) => e.type === 'close');
    expect(log.slice(closedAt).filter((e) => e.type === 'connecting')).toEqual([]);
    expect(await t.events(c, 'close')).toMatchObject([{ code: 1000, willReconnect: false }]);
    expect(await t.state(c)).toBe('closed');
    // As the native send() after close: no throw; the message is reported as dropped.
    expect(await t.send(c, 'late')).toBe('dropped');
    expect((await t.events(c, 'drop')).at(-1)).toMatchObject({ reason: 'closed' });
  });

  it.each(['esm', 'core'] as const)('wastes no attempt while offline and reconnects within 1 s of coming back online (%s bundle)', async (bundle) => {
    const { tp: t, server: s } = await setup(bundle);
    const c = await t.create(s.url);
    await s.waitForOpen(1);
    await t.waitForEvent(c, 'open');
    const attemptsBefore = (await t.events(c, 'connecting')).length;
    await t.context.setOffline(true);
    await t.page.waitForFunction(() => navigator.onLine === false, undefined, { timeout: 2000, polling: 10 });
    // setOffline does not close an open WebSocket; the server drops it as a dead network would.
    s.drop();
    await t.waitForEvent(c, 'close');
    await sleep(3000);
    const connecting = (await t.events(c, 'connecting')).slice(attemptsBefore);
    expect(connecting).toEqual([]);
    expect(s.upgrades).toHaveLength(1);
    expect(await t.state(c)).toBe('reconnecting');
    expect(await t.events(c, 'reconnecting')).toMatchObject([{ attempt: 1, delay: null, code: 1006 }]);
    const back = Date.now();
    await t.context.setOffline(false);
    await s.waitForConnections(2, 3000);
    const [, reopened] = await t.waitForEvent(c, 'open', 2, 3000);
    const elapsed = s.connections[1]!.openedAt - back;
    console.info(`[offline/${bundle}] ${connecting.length} attempts while offline; reconnected ${elapsed} ms after setOffline(false) (page open at +${reopened!.at - back} ms)`);
    expect(elapsed).toBeLessThan(1000);
    expect(s.upgrades).toHaveLength(2);
  });

  it('spreads the reconnect attempts of 100 clients after a restart', async () => {
    const { tp: t, server: s } = await setup('esm');
    const n = 100;
    // Default backoff (1 s cap for the first retry, full jitter); maxDelay only bounds the test.
    const started = Date.now();
    await t.createMany(n, s.url, { options: { reconnect: { maxDelay: 4000 } } });
    await s.waitForOpen(n, 20_000);
    await t.page.waitForFunction((count) => (window as any).rwsTest.allEvents('open').length >= count, n, { timeout: 10_000, polling: 20 });
    const killed = Date.now();
    await s.restart(500);
    await s.waitForOpen(n, 30_000);
    const back = Date.now();
    await t.page.waitForFunction((count) => (window as any).rwsTest.allEvents('open').length >= count, 2 * n, { timeout: 10_000, polling: 20 });
    const retries = (await t.allEvents('connecting')).filter((e: PageEvent) => (e.attempt as number) >= 1);
    const times = retries.map((e) => e.t).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 100) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    const clients = new Set(retries.map((e) => e.client));
    console.info(
      `[herd] ${times.length} retry attempts by ${clients.size} clients over ${Math.round(times[times.length - 1]! - times[0]!)} ms; ` +
        `busiest 100 ms window: ${busiest} (limit ${Math.floor(times.length / 3)}); ` +
        `first open of all ${killed - started} ms, all back ${back - killed} ms after the kill`,
    );
    expect(clients.size).toBe(n);
    expect(busiest).toBeLessThanOrEqual(times.length / 3);
  });

  it('control: the checks above fail when the client never retries', async () => {
    // A retry scheduled 10 minutes out is what "never scheduling a retry" looks like from
    // outside. The same waits the scenarios rely on must then time out.
    const { tp: t, server: s } = await setup('esm', 'sink');
    const c = await t.create(s.url, { options: { reconnect: { minDelay: 600_000, maxDelay: 600_000, jitter: 'none' } } });
    await s.waitForOpen(1);
    s.drop();
    await t.waitForEvent(c, 'close');
    await expect(s.waitForConnections(2, 1500)).rejects.toThrow(/2 accepted connections/);
    await expect(t.waitForEvent(c, 'open', 2, 500)).rejects.toThrow(/timed out/);
    expect(await t.state(c)).toBe('reconnecting');
  });
});
