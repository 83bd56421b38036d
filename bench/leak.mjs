#!/usr/bin/env node
// `npm run bench:leak`: 10 000 reconnect cycles of the built client (dist/resilient-ws.mjs) in
// Node against a real `ws` server, to show that nothing accumulates: the heap after gc(), the
// listeners the client keeps on the page (`window` and `document`, faked here as counting
// EventTargets), and the server connections alive at once. Not a timed test: it prints a table
// and exits with 1 when the heap grew by more than the bound over the second half, when a page
// listener outlived its client, or when more than one connection was alive at a time.
//
// Each connection is one cycle, ended one of three ways in turn: the server drops the TCP
// connection (1006), the server closes cleanly (1012), or the client calls reconnect() from its
// message listener. Every ROTATE cycles the client is closed and a new one is made, so the page
// listeners are seen to go away and come back. Heap samples are taken then, with no client
// alive, after a warm-up that lets V8 tier up the hot paths first.
//
// The heap after gc() still moves by some 100 KiB between samples (the server's buffers, V8's
// own bookkeeping), so the second half's growth is the least-squares slope over its samples,
// one per client, rather than the difference of two of them.
//
// Environment: LEAK_CYCLES (10000), LEAK_WARMUP (1000), LEAK_MAX_GROWTH (bytes per cycle allowed
// over the second half, 32).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setImmediate } from 'node:timers';
import WebSocket, { WebSocketServer } from 'ws';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = join(root, 'dist/resilient-ws.mjs');
const env = (name, fallback) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};
const CYCLES = env('LEAK_CYCLES', 10_000);
const WARMUP = env('LEAK_WARMUP', 1000);
const MAX_GROWTH_PER_CYCLE = env('LEAK_MAX_GROWTH', 32);
const ROTATE = 500;
const PRINT_EVERY = 1000;
const TIME_LIMIT_MS = 15 * 60_000;

if (typeof globalThis.gc !== 'function') {
  // Run as `node bench/leak.mjs`: start again with the flag instead of failing.
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

/** An EventTarget that knows how many distinct listeners it holds, and the most it ever held. */
class CountingTarget extends EventTarget {
  #listeners = new Map();
  max = 0;
  get count() {
    let n = 0;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
  addEventListener(type, listener, options) {
    super.addEventListener(type, listener, options);
    if (!listener) return;
    // The DOM ignores a second identical registration; so does the count.
    const key = `${type}:${typeof options === 'boolean' ? options : Boolean(options?.capture)}`;
    if (!this.#listeners.has(key)) this.#listeners.set(key, new Set());
    this.#listeners.get(key).add(listener);
    this.max = Math.max(this.max, this.count);
  }
  removeEventListener(type, listener, options) {
    super.removeEventListener(type, listener, options);
    const key = `${type}:${typeof options === 'boolean' ? options : Boolean(options?.capture)}`;
    this.#listeners.get(key)?.delete(listener);
  }
}

const fakeWindow = new CountingTarget();
const fakeDocument = new CountingTarget();
Object.defineProperty(fakeDocument, 'visibilityState', { value: 'visible' });
Object.defineProperty(fakeDocument, 'hidden', { value: false });
globalThis.window = fakeWindow;
globalThis.document = fakeDocument;
const pageListeners = () => fakeWindow.count + fakeDocument.count;

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

const settle = () => new Promise((ok) => setImmediate(ok));
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx;
}

async function main() {
  if (!existsSync(ENTRY)) {
    console.error('dist/resilient-ws.mjs missing: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  const { ResilientWebSocket } = await import(pathToFileURL(ENTRY).href);

  // The server: one cycle per connection. `live` counts connections that are OPEN on the
  // server's side (no close frame either way, not dropped), checked at every new connection.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((ok) => wss.once('listening', ok));
  const url = `ws://127.0.0.1:${wss.address().port}/`;
  let connections = 0;
  let maxLive = 0;
  let waiter;
  const liveNow = () => [...wss.clients].filter((c) => c.readyState === WebSocket.OPEN).length;
  wss.on('connection', (socket) => {
    connections++;
    maxLive = Math.max(maxLive, liveNow());
    const kind = ['terminate', 'close', 'reconnect'][connections % 3];
    socket.on('message', (data) => {
      const text = data.toString();
      if (text === 'ping') socket.send('pong');
      else if (text === 'ack' && kind === 'terminate') socket.terminate();
      else if (text === 'ack' && kind === 'close') socket.close(1012, 'restart');
    });
    socket.on('error', () => undefined);
    socket.send(kind);
    if (waiter && connections >= waiter.target) {
      const { resolve } = waiter;
      waiter = undefined;
      resolve();
    }
  });
  const reached = (target) =>
    connections >= target ? Promise.resolve() : new Promise((resolve) => (waiter = { target, resolve }));

  const options = {
    WebSocket,
    // Short delays so the run is about the cycles, not the backoff.
    reconnect: { minDelay: 1, maxDelay: 2, jitter: 'none' },
    // Timers armed on every open and cancelled on every close: the heartbeat's among them.
    heartbeat: { interval: 5000, timeout: 2000 },
  };
  const clientStats = { opens: 0, snapshots: 0, errors: [] };
  const listenersWhileRunning = new Set();

  function makeClient() {
    const ws = new ResilientWebSocket(url, [], options);
    ws.on('open', () => clientStats.opens++);
    ws.on('message', ({ data }) => {
      if (data === 'reconnect') ws.reconnect();
      else if (data !== 'pong') ws.send('ack');
    });
    ws.on('error', ({ error }) => {
      if (clientStats.errors.length < 5) clientStats.errors.push(error.code ?? String(error));
    });
    ws.subscribe?.(() => clientStats.snapshots++);
    return ws;
  }

  async function closeClient(ws) {
    listenersWhileRunning.add(pageListeners());
    const closed = new Promise((ok) => (ws.state === 'closed' ? ok() : ws.on('statechange', ({ to }) => to === 'closed' && ok())));
    ws.close();
    await closed;
    // Let the server see the close before the next client's connection is checked for overlap;
    // a connection still open after a second stays, and is counted as live.
    const until = Date.now() + 1000;
    while (liveNow() > 0 && Date.now() < until) await settle();
  }

  const started = Date.now();
  const deadline = setTimeout(() => {
    console.error(`gave up: ${connections} of ${WARMUP + CYCLES} cycles after ${TIME_LIMIT_MS / 60_000} min`);
    process.exit(1);
  }, TIME_LIMIT_MS);

  const samples = [];
  let leftover = 0;
  const total = WARMUP + CYCLES;
  for (let done = 0; done < total; ) {
    const ws = makeClient();
    done = Math.min(total, done + ROTATE);
    await reached(done);
    await closeClient(ws);
    leftover = Math.max(leftover, pageListeners());
    const cycle = done - WARMUP;
    if (cycle >= 0) {
      // The closed sockets' last callbacks run first, so the sample sees a quiet process.
      await sleep(20);
      samples.push({ cycle, heap: heap(), listenersAfterClose: pageListeners(), maxLive, seconds: (Date.now() - started) / 1000 });
    }
  }
  clearTimeout(deadline);
  wss.close();

  const first = samples[0];
  const last = samples[samples.length - 1];
  const secondHalf = samples.filter((s) => s.cycle >= last.cycle / 2);
  const middle = secondHalf[0];
  const secondHalfCycles = last.cycle - middle.cycle;
  const perCycle = slope(secondHalf.map((s) => ({ x: s.cycle, y: s.heap })));
  const growth = perCycle * secondHalfCycles;
  const bound = MAX_GROWTH_PER_CYCLE * secondHalfCycles;
  const kib = (b) => (b / 1024).toFixed(1);
  const rows = samples.filter((s) => s.cycle % PRINT_EVERY === 0 || s === last);

  const header = ['cycle', 'heap KiB', 'page listeners after close', 'max live connections', 'elapsed s'];
  const table = [header, ...rows.map((s) => [String(s.cycle), kib(s.heap), String(s.listenersAfterClose), String(s.maxLive), s.seconds.toFixed(1)])];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log(table.map((r) => r.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n'));
  console.log('');
  console.log(`cycles: ${last.cycle} measured after ${WARMUP} of warm-up (${connections} connections, ${clientStats.opens} opens, ${Math.ceil(total / ROTATE)} clients of ${ROTATE} cycles each)`);
  console.log(`heap after gc(): ${kib(first.heap)} KiB at cycle ${first.cycle} → ${kib(last.heap)} KiB at cycle ${last.cycle} (${last.heap - first.heap >= 0 ? '+' : ''}${kib(last.heap - first.heap)} KiB in all)`);
  console.log(`second half (cycles ${middle.cycle}–${last.cycle}, ${secondHalf.length} samples): ${growth >= 0 ? '+' : ''}${kib(growth)} KiB fitted (${perCycle.toFixed(1)} B per cycle; ${last.heap - middle.heap >= 0 ? '+' : ''}${kib(last.heap - middle.heap)} KiB end to end); bound ${MAX_GROWTH_PER_CYCLE} B per cycle (${kib(bound)} KiB)`);
  console.log(`page listeners: ${[...listenersWhileRunning].join(', ')} while a client ran (most at once: window ${fakeWindow.max}, document ${fakeDocument.max}); ${leftover} left after a close`);
  console.log(`max live server connections: ${maxLive}`);
  console.log(`snapshots published: ${clientStats.snapshots}${clientStats.errors.length ? `; first errors: ${clientStats.errors.join(', ')}` : ''}`);

  const failures = [];
  if (growth > bound) failures.push(`heap grew ${kib(growth)} KiB over the second half (bound ${kib(bound)} KiB)`);
  if (maxLive > 1) failures.push(`${maxLive} server connections were live at once`);
  if (leftover > 0) failures.push(`${leftover} page listeners outlived their client`);
  if (listenersWhileRunning.size > 1) failures.push(`the page listener count changed between clients: ${[...listenersWhileRunning].join(', ')}`);
  if (failures.length) {
    console.error(`\nFAIL: ${failures.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nok: flat heap, page listeners removed with their client, at most one live connection');
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
