// The send queue in headless Chromium against a server that stops reading: flow control keeps
// the native buffer near the high-water mark and the queue within its bounds, and what Chromium
// still reports in bufferedAmount after an abnormal close is re-sent, once, in order.
// Findings are written up in test/browser/QUEUE-FINDINGS.md.
import { describe, expect, it } from 'vitest';
import { FaultServer, analyzeSequence, type ReceivedMessage } from '../server/fault-server.js';
import { browserFixture, type TestPage } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const CHUNK = 64 * KiB;
const HWM = 1 * MiB;

const fx = browserFixture();

// Page-side helpers, as a plain script so no transpiler helper leaks into the page.
// `Spy` is a native WebSocket that records, per connection, the peak bufferedAmount right after
// each send (what the library handed over) and the bufferedAmount Chromium reports in `close`.
// Chunks are numbered binary frames: a big-endian u32 sequence number, then (seq & 0xff) bytes.
const PAGE_CODE = String.raw`
(() => {
  const CHUNK = ${CHUNK};
  const q = {
    native: [],
    closes: [],
    chunk(seq) {
      const b = new Uint8Array(CHUNK);
      b.fill(seq & 0xff);
      new DataView(b.buffer).setUint32(0, seq);
      return b.buffer;
    },
    watch(i) {
      const ws = rwsTest.ws(i);
      ws.on('close', (e) => q.closes.push({ code: e.code, queuedMessages: ws.queuedMessages, queuedAmount: ws.queuedAmount }));
    },
    sendChunks(i, from, count) {
      const ws = rwsTest.ws(i);
      const results = {};
      for (let seq = from; seq < from + count; seq++) {
        const r = ws.send(q.chunk(seq));
        results[r] = (results[r] || 0) + 1;
      }
      return results;
    },
    produce(i, total) {
      const ws = rwsTest.ws(i);
      const st = (q.stats = { seq: 0, full: 0, maxNative: 0, maxQueued: 0, maxQueuedMessages: 0, results: {}, done: false, error: undefined, ms: 0 });
      const sample = () => {
        st.maxNative = Math.max(st.maxNative, ws.bufferedAmount - ws.queuedAmount);
        st.maxQueued = Math.max(st.maxQueued, ws.queuedAmount);
        st.maxQueuedMessages = Math.max(st.maxQueuedMessages, ws.queuedMessages);
      };
      const sampler = setInterval(sample, 1);
      const t0 = performance.now();
      (async () => {
        while (st.seq < total) {
          let r;
          try {
            r = ws.send(q.chunk(st.seq));
          } catch (e) {
            if (!e || e.code !== 'QUEUE_FULL') throw e;
            st.full++;
            sample();
            await new Promise((resolve) => {
              const off = ws.on('drain', () => { off(); resolve(); });
            });
            continue;
          }
          st.results[r] = (st.results[r] || 0) + 1;
          st.seq++;
          sample();
        }
        await ws.flush();
      })().then(
        () => { st.done = true; },
        (e) => { st.error = String((e && e.code) || e); },
      ).finally(() => { clearInterval(sampler); st.ms = performance.now() - t0; });
    },
  };
  q.Spy = class extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      const rec = { peak: 0, sends: 0, closeBuffered: undefined, code: undefined };
      q.native.push(rec);
      this._rec = rec;
      this.addEventListener('close', (ev) => {
        rec.closeBuffered = this.bufferedAmount;
        rec.code = ev.code;
      });
    }
    send(data) {
      super.send(data);
      this._rec.sends++;
      if (this.bufferedAmount > this._rec.peak) this._rec.peak = this.bufferedAmount;
    }
  };
  window.queueTest = q;
})();
`;

interface NativeRecord {
  peak: number;
  sends: number;
  closeBuffered: number | undefined;
  code: number | undefined;
}

interface ProduceStats {
  seq: number;
  full: number;
  maxNative: number;
  maxQueued: number;
  maxQueuedMessages: number;
  results: Record<string, number>;
  done: boolean;
  error: string | undefined;
  ms: number;
}

const pageValue = <T>(t: TestPage, expr: string): Promise<T> => t.page.evaluate(expr) as Promise<T>;

/** Checks a numbered binary chunk whole and returns its sequence number. */
function chunkSeq(m: ReceivedMessage): number {
  const data = m.data as Buffer;
  expect(m.binary).toBe(true);
  expect(data.length).toBe(CHUNK);
  const seq = data.readUInt32BE(0);
  expect(data.subarray(4).equals(Buffer.alloc(CHUNK - 4, seq & 0xff))).toBe(true);
  return seq;
}

/** Everything goes straight to the native socket, so its bufferedAmount holds all that is unsent. */
const UNLIMITED = `({ queue: { highWaterMark: ${64 * MiB}, lowWaterMark: 0, maxBytes: ${64 * MiB} }, reconnect: { minDelay: 200, maxDelay: 200, jitter: 'none' }, WebSocket: queueTest.Spy })`;

async function setup(bundle: 'umd' | 'esm', optionsJs: string): Promise<{ t: TestPage; s: FaultServer; i: number }> {
  const s = (fx.server = await FaultServer.start({ mode: 'sink' }));
  const t = (fx.tp = await fx.harness.newPage(bundle));
  await t.page.evaluate(PAGE_CODE);
  const i = await t.create(s.url, { optionsJs });
  await t.page.evaluate(`queueTest.watch(${i})`);
  await t.waitForEvent(i, 'open');
  await s.waitForOpen(1);
  return { t, s, i };
}

/**
 * Sends chunk `seq` as an end marker and waits until it arrived on `connection`: everything the
 * page handed over before it has arrived too, so the records are complete.
 */
async function markEnd(t: TestPage, s: FaultServer, i: number, seq: number, connection: number): Promise<void> {
  expect(await t.page.evaluate(`queueTest.sendChunks(${i}, ${seq}, 1)`)).toEqual({ sent: 1 });
  await s.waitFor(() => s.received.some((m) => m.connection === connection && (m.data as Buffer).readUInt32BE(0) === seq), 15_000, `end marker ${seq}`);
}

/** Polls the page's native bufferedAmount until it stops changing (the TCP buffers are full). */
async function settledBufferedAmount(t: TestPage, i: number): Promise<number> {
  let last = -1;
  let same = 0;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const now = await pageValue<number>(t, `rwsTest.ws(${i}).bufferedAmount - rwsTest.ws(${i}).queuedAmount`);
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 4) return now;
    if (Date.now() > deadline) throw new Error(`bufferedAmount still changing after 10 s (${now})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('bursts with default options deliver what a native WebSocket delivers (issue 14)', () => {
  it('an unpaced loop of 200 000 × 64 B: every message arrives once, in order, none dropped', async () => {
    const TOTAL = 200_000;
    const s = (fx.server = await FaultServer.start({ mode: 'sink' }));
    const t = (fx.tp = await fx.harness.newPage('umd'));
    const i = await t.create(s.url, {});
    await t.waitForEvent(i, 'open');
    await s.waitForOpen(1);
    const results = await t.page.evaluate(`(() => {
      const ws = rwsTest.ws(${i});
      const pad = 'x'.repeat(64);
      const results = {};
      for (let n = 0; n < ${TOTAL}; n++) {
        const r = ws.send((n + ':' + pad).slice(0, 64));
        results[r] = (results[r] || 0) + 1;
      }
      return results;
    })()`);
    await s.waitForMessages(TOTAL, 60_000);
    const drops = (await t.events(i)).filter((e) => e.type === 'drop');
    const seqs = s.received.map((m) => Number(String(m.data).split(':')[0]));
    console.info(`[unpaced 200k] send results ${JSON.stringify(results)}; ${s.received.length} received; drops ${drops.length}`);
    expect(drops).toEqual([]);
    expect(s.received).toHaveLength(TOTAL);
    expect(seqs).toEqual(Array.from({ length: TOTAL }, (_, n) => n));
    expect(s.received.every((m) => String(m.data).length === 64)).toBe(true);
    expect(s.connections).toHaveLength(1);
  });

  it('64 MiB in 64 KiB chunks while the server stops reading, then resumes: all 1024 chunks once, in order, the native buffer <= 2 MiB', async () => {
    const TOTAL = 1024;
    const { t, s, i } = await setup('esm', `({ WebSocket: queueTest.Spy })`);
    s.pauseReading();
    const results = await t.page.evaluate(`(() => {
      const ws = rwsTest.ws(${i});
      const st = (window.burst = { maxNative: 0 });
      st.sampler = setInterval(() => { st.maxNative = Math.max(st.maxNative, ws.bufferedAmount - ws.queuedAmount); }, 1);
      return queueTest.sendChunks(${i}, 0, ${TOTAL});
    })()`);
    // The server reads nothing until the TCP buffers are full and the native buffer stands still.
    await settledBufferedAmount(t, i);
    s.resumeReading();
    await s.waitForMessages(TOTAL, 60_000);
    const maxNative = await pageValue<number>(t, '(clearInterval(window.burst.sampler), window.burst.maxNative)');
    const [native] = await pageValue<NativeRecord[]>(t, 'queueTest.native');
    const drops = (await t.events(i)).filter((e) => e.type === 'drop');
    console.info(`[64 MiB burst, default options] send results ${JSON.stringify(results)}; peak native bufferedAmount ${native!.peak} B (sampled ${maxNative} B); drops ${drops.length}`);
    expect(drops).toEqual([]);
    expect(Object.keys(results as object).sort()).toEqual(['queued', 'sent']);
    expect(s.received.map(chunkSeq)).toEqual(Array.from({ length: TOTAL }, (_, n) => n));
    expect(native!.peak).toBeLessThanOrEqual(2 * MiB);
    expect(maxNative).toBeLessThanOrEqual(2 * MiB);
    expect(s.connections).toHaveLength(1);
  });
});

describe('send queue in Chromium', () => {
  it('slow consumer: native buffer stays near the high-water mark, the queue within maxBytes, and 64 MiB arrive once, in order', async () => {
    const TOTAL = 1024; // 64 MiB in 64 KiB chunks
    const MAX_BYTES = 8 * MiB;
    const { t, s, i } = await setup('umd', `({ queue: { maxBytes: ${MAX_BYTES}, overflow: 'error' }, WebSocket: queueTest.Spy })`);
    s.pauseReading();
    await t.page.evaluate(`queueTest.produce(${i}, ${TOTAL})`);
    // Backpressure reached the library: the queue hit maxBytes while the server read nothing.
    await t.page.waitForFunction(() => (window as any).queueTest.stats.full > 0, undefined, { timeout: 15_000, polling: 10 });
    // Then the TCP buffers fill up and everything stands still: the producer waits for `drain`.
    const stalledNative = await settledBufferedAmount(t, i);
    const stalled = await pageValue<ProduceStats & { queued: number }>(t, `({ ...queueTest.stats, queued: rwsTest.ws(${i}).queuedAmount })`);
    expect(stalled.seq).toBeLessThan(TOTAL);
    expect(stalled.queued).toBeGreaterThan(0);
    s.resumeReading();
    await t.page.waitForFunction(() => (window as any).queueTest.stats.done || (window as any).queueTest.stats.error, undefined, { timeout: 25_000, polling: 20 });
    const stats = await pageValue<ProduceStats>(t, 'queueTest.stats');
    const [native] = await pageValue<NativeRecord[]>(t, 'queueTest.native');
    await s.waitForMessages(TOTAL, 10_000);
    console.info(
      `[slow consumer] stalled with ${stalled.seq} chunks accepted (${(stalled.seq * CHUNK) / MiB} MiB): native ${stalledNative} B, queued ${stalled.queued} B; ` +
        `QUEUE_FULL ${stats.full}×; peak native bufferedAmount ${native!.peak} (sampled ${stats.maxNative}); ` +
        `peak queue ${stats.maxQueued} B / ${stats.maxQueuedMessages} msgs; ${TOTAL} chunks in ${Math.round(stats.ms)} ms`,
    );
    expect(stats.error).toBeUndefined();
    expect(stats.results).toEqual({ sent: expect.any(Number), queued: expect.any(Number) });
    expect(stats.results.sent! + stats.results.queued!).toBe(TOTAL);
    expect(native!.peak).toBeGreaterThanOrEqual(HWM);
    expect(native!.peak).toBeLessThanOrEqual(HWM + CHUNK);
    expect(stats.maxNative).toBeLessThanOrEqual(HWM + CHUNK);
    expect(stats.maxQueued).toBeLessThanOrEqual(MAX_BYTES);
    expect(stats.maxQueuedMessages).toBeLessThanOrEqual(MAX_BYTES / CHUNK);
    expect(s.received.map(chunkSeq)).toEqual(Array.from({ length: TOTAL }, (_, n) => n));
    expect(s.connections).toHaveLength(1);
  });

  it.each([2, 16])('abnormal close after %i MiB to a stalled server: what bufferedAmount still reports is re-sent once, in order', async (mib) => {
    const COUNT = (mib * MiB) / CHUNK;
    const { t, s, i } = await setup('esm', UNLIMITED);
    s.pauseReading();
    expect(await t.page.evaluate(`queueTest.sendChunks(${i}, 0, ${COUNT})`)).toEqual({ sent: COUNT });
    const before = await settledBufferedAmount(t, i);
    s.drop();
    await t.waitForEvent(i, 'open', 2, 10_000);
    const [first] = await pageValue<NativeRecord[]>(t, 'queueTest.native');
    const [closed] = await pageValue<Array<{ code: number; queuedMessages: number; queuedAmount: number }>>(t, 'queueTest.closes');
    const requeued = closed!.queuedMessages;
    await markEnd(t, s, i, COUNT, 2);
    const onFirst = s.received.filter((m) => m.connection === 1).map(chunkSeq);
    const onSecond = s.received.filter((m) => m.connection === 2).map(chunkSeq);
    const report = analyzeSequence([...onFirst, ...onSecond], Array.from({ length: COUNT + 1 }, (_, n) => n));
    console.info(
      `[abnormal close, ${mib} MiB] native bufferedAmount settled at ${before} B, in the close event ${first!.closeBuffered} B (code ${first!.code}); ` +
        `re-queued ${requeued} chunks (${closed!.queuedAmount} B); the server read ${onFirst.length} on the first connection, ` +
        `${onSecond.length - 1} + the end marker on the second; lost ${report.lost.length} chunks (${(report.lost.length * CHUNK) / MiB} MiB` +
        `${report.lost.length ? `: ${report.lost[0]}..${report.lost.at(-1)}` : ''}); duplicates ${report.duplicates.length}`,
    );
    expect(first!.code).toBe(1006);
    // Chromium keeps reporting what it never transmitted after the abnormal close.
    expect(first!.closeBuffered).toBe(before);
    if (mib === 16) expect(before).toBeGreaterThan(0);
    expect(report.duplicates).toEqual([]);
    expect(report.reordered).toEqual([]);
    // The re-sent chunks are the newest ones, whole: exactly those that cover the reported bytes.
    expect(requeued).toBe(Math.ceil(before / CHUNK));
    expect(onSecond).toEqual(Array.from({ length: requeued + 1 }, (_, n) => COUNT - requeued + n));
    // What is lost is what the kernel had taken but the server never read, nothing else.
    expect(report.lost).toEqual(Array.from({ length: COUNT - requeued - onFirst.length }, (_, n) => onFirst.length + n));
  });

  it('reconnect() while the native buffer holds bytes: the old socket still delivers them, nothing is sent twice', async () => {
    const COUNT = (16 * MiB) / CHUNK;
    const { t, s, i } = await setup('esm', UNLIMITED);
    s.pauseReading();
    expect(await t.page.evaluate(`queueTest.sendChunks(${i}, 0, ${COUNT})`)).toEqual({ sent: COUNT });
    const before = await settledBufferedAmount(t, i);
    const requeued = await t.page.evaluate(`(() => { const ws = rwsTest.ws(${i}); ws.reconnect(); return ws.queuedMessages; })()`);
    await t.waitForEvent(i, 'open', 2, 10_000);
    s.resumeReading(1);
    await s.waitFor(() => s.connections[0]!.closedAt !== undefined, 20_000, 'the first connection to close');
    await markEnd(t, s, i, COUNT, 2);
    const onFirst = s.received.filter((m) => m.connection === 1).map(chunkSeq);
    const onSecond = s.received.filter((m) => m.connection === 2).map(chunkSeq);
    console.info(
      `[reconnect()] native bufferedAmount ${before} B when reconnect() was called; re-queued ${requeued}; ` +
        `the old connection delivered ${onFirst.length} chunks and closed with ${s.connections[0]!.code}; the new one ${onSecond.length - 1} + the end marker`,
    );
    expect(before).toBeGreaterThan(0);
    expect(requeued).toBe(0);
    expect(s.connections[0]!.code).toBe(1000);
    expect(onFirst).toEqual(Array.from({ length: COUNT }, (_, n) => n));
    expect(onSecond).toEqual([COUNT]);
  });
});
