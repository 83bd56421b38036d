// The benchmark page. run.mjs serves it with the library under test loaded as a global
// (`ResilientWS` or `BenchLib`) and the job in `window.BENCH`; the page runs one phase and
// POSTs its result to /result/<job>.
const job = window.BENCH;
const wsUrl = (path) => `${job.wsOrigin}${path}`;

// Every `new WebSocket()` the page starts, by any library: the reconnect storm's attempt count.
// Only the storm records them, so that the memory run measures the library alone.
const attempts = [];
let recordAttempts = job.phase === 'storm';
const NativeWebSocket = window.WebSocket;
window.WebSocket = class CountedWebSocket extends NativeWebSocket {
  constructor(...args) {
    if (recordAttempts) attempts.push(performance.now());
    super(...args);
  }
};

/**
 * One adapter per library, all with the same shape: `create(url, handlers, fast)` connects and
 * returns `{send, close, bufferedAmount}`. `fast` swaps default delays for ~10 ms ones (the memory
 * run); otherwise each library runs with its defaults.
 */
const adapters = {
  // The baseline; for the storm and memory runs it reconnects at once in onclose, with no backoff.
  raw(url, h) {
    let ws;
    let stopped = false;
    const connect = () => {
      ws = new WebSocket(url);
      ws.onopen = h.open;
      ws.onmessage = (e) => h.message(e.data);
      ws.onclose = () => {
        h.close();
        if (!stopped) connect();
      };
    };
    connect();
    return {
      send: (d) => ws.send(d),
      close() {
        stopped = true;
        ws.close();
      },
      bufferedAmount: () => ws.bufferedAmount,
    };
  },
  'resilient-ws'(url, h, fast) {
    const options = fast ? { reconnect: { minDelay: 1, maxDelay: 10, jitter: 'none' } } : undefined;
    return nativeLike(new window.ResilientWS.ResilientWebSocket(url, undefined, options), h);
  },
  'reconnecting-websocket'(url, h, fast) {
    const options = fast ? { minReconnectionDelay: 1, maxReconnectionDelay: 10 } : undefined;
    return nativeLike(new window.BenchLib.ReconnectingWebSocket(url, undefined, options), h);
  },
  partysocket(url, h, fast) {
    const options = fast ? { minReconnectionDelay: 1, maxReconnectionDelay: 10 } : undefined;
    return nativeLike(new window.BenchLib.WebSocket(url, undefined, options), h);
  },
  sockette(url, h, fast) {
    // Sockette hides its socket; the open event's target is the current one.
    let socket;
    const s = window.BenchLib.Sockette(url, {
      timeout: fast ? 10 : undefined,
      onopen: (e) => {
        socket = e.target;
        h.open();
      },
      onmessage: (e) => h.message(e.data),
      onclose: h.close,
    });
    return { send: (d) => s.send(d), close: () => s.close(), bufferedAmount: () => socket?.bufferedAmount ?? 0 };
  },
  'websocket-ts'(url, h, fast) {
    const { WebsocketBuilder, ArrayQueue, ConstantBackoff } = window.BenchLib;
    const ws = new WebsocketBuilder(url)
      .withBuffer(new ArrayQueue())
      .withBackoff(new ConstantBackoff(fast ? 10 : 1000))
      .onOpen(h.open)
      .onMessage((_ws, e) => h.message(e.data))
      .onClose(h.close)
      .build();
    return { send: (d) => ws.send(d), close: () => ws.close(), bufferedAmount: () => ws.bufferedAmount ?? 0 };
  },
};

function nativeLike(ws, h) {
  ws.onopen = h.open;
  ws.onmessage = (e) => h.message(e.data);
  ws.onclose = h.close;
  return { send: (d) => ws.send(d), close: () => ws.close(), bufferedAmount: () => ws.bufferedAmount };
}

const create = adapters[job.lib];
const noop = () => undefined;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

function signal() {
  let resolve;
  const promise = new Promise((ok) => (resolve = ok));
  return { promise, resolve };
}

// The sender stops while more than this is buffered (library queue + native), as a well-behaved
// producer does. 512 KiB + one batch stays inside every library's default queue bounds.
const PAUSE_ABOVE = 512 * 1024;
const BATCH = 1024;

async function send() {
  const opened = signal();
  const done = signal();
  const c = create(wsUrl(`/send?n=${job.messages}`), {
    open: opened.resolve,
    message: (d) => d === 'done' && done.resolve(),
    close: noop,
  });
  await opened.promise;
  const payload = 's'.repeat(64);
  const t0 = performance.now();
  // Time spent inside send() calls alone: the library's own per-message cost, free of the
  // loopback and server time that dominate (and blur) the end-to-end figure.
  let callMs = 0;
  for (let i = 0; i < job.messages; ) {
    const end = Math.min(job.messages, i + BATCH);
    const b0 = performance.now();
    for (; i < end; i++) c.send(payload);
    callMs += performance.now() - b0;
    while (c.bufferedAmount() > PAUSE_ABOVE) await sleep(0);
  }
  await done.promise;
  const ms = performance.now() - t0;
  c.close();
  return { ms, callMs };
}

/**
 * The producer that code written for the native API is: every message in one synchronous loop,
 * no look at `bufferedAmount`. The server answers `done <count> <outOfOrder> <idleMs>` when all
 * arrived or when nothing more came (see bench/server.mjs); what a library dropped is missing.
 * The messages are built before the clock starts, each with its index in its first 8 bytes.
 */
async function unpaced(path, messages) {
  const opened = signal();
  const done = signal();
  const c = create(wsUrl(path), {
    open: opened.resolve,
    message: (d) => typeof d === 'string' && d.startsWith('done ') && done.resolve(d),
    close: noop,
  });
  await opened.promise;
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i++) c.send(messages[i]);
  const loopMs = performance.now() - t0;
  const [, count, outOfOrder, idleMs] = (await done.promise).split(' ').map(Number);
  const ms = performance.now() - t0 - idleMs;
  c.close();
  return { ms, loopMs, delivered: count, outOfOrder, sent: messages.length };
}

/** `job.messages` × 64 B text, unpaced, to a server that reads as fast as it can. */
function burst() {
  const messages = Array.from({ length: job.messages }, (_, i) => String(i).padStart(8, '0') + 'b'.repeat(56));
  return unpaced(`/burst?n=${job.messages}`, messages);
}

/** `job.chunks` × 64 KiB binary, unpaced, to a server that stops reading for `job.pauseMs` at the first chunk. */
function stall() {
  const messages = Array.from({ length: job.chunks }, (_, i) => {
    const chunk = new Uint8Array(64 * 1024);
    new DataView(chunk.buffer).setUint32(0, i, true);
    return chunk.buffer;
  });
  return unpaced(`/stall?n=${job.chunks}&pauseMs=${job.pauseMs}`, messages);
}

async function receive() {
  const opened = signal();
  const done = signal();
  let count = 0;
  const c = create(wsUrl(`/recv?n=${job.messages}`), {
    open: opened.resolve,
    message: () => ++count === job.messages && done.resolve(),
    close: noop,
  });
  await opened.promise;
  const t0 = performance.now();
  c.send('go');
  await done.promise;
  const ms = performance.now() - t0;
  c.close();
  return { ms };
}

async function storm() {
  const clients = [];
  let outage = false;
  let pending = job.instances;
  // Resolved when every client is open: first after the start, then again after the outage.
  let allOpen = signal();
  const started = performance.now();
  for (let i = 0; i < job.instances; i++) {
    const client = { droppedAt: null, reopenedAt: null, opened: false };
    client.handle = create(wsUrl('/storm'), {
      open() {
        if (!client.opened) {
          client.opened = true;
        } else if (outage && client.reopenedAt === null) {
          client.reopenedAt = performance.now();
        } else {
          return;
        }
        if (--pending === 0) allOpen.resolve();
      },
      message: noop,
      close() {
        if (outage && client.droppedAt === null) client.droppedAt = performance.now();
      },
    });
    clients.push(client);
  }
  await allOpen.promise;
  const connectMs = performance.now() - started;

  allOpen = signal();
  pending = job.instances;
  outage = true;
  const before = attempts.length;
  const t0 = performance.now();
  await fetch(`/ctl/outage?ms=${job.downMs}`, { cache: 'no-store' });
  const restartedAt = performance.now() - t0;
  const timedOut = await Promise.race([allOpen.promise.then(() => false), sleep(job.stormTimeoutMs).then(() => true)]);
  const elapsed = performance.now() - t0;
  recordAttempts = false;
  for (const c of clients) c.handle.close();
  const times = clients.filter((c) => c.reopenedAt !== null && c.droppedAt !== null).map((c) => c.reopenedAt - c.droppedAt);
  return {
    connectMs,
    restartedAt,
    elapsed,
    reconnected: times.length,
    timedOut,
    reconnectMs: times,
    attempts: attempts.slice(before).map((t) => t - t0),
  };
}

function heap() {
  for (let i = 0; i < 3; i++) window.gc();
  return performance.memory.usedJSHeapSize;
}

async function memory() {
  const done = signal();
  const step = Math.max(1, Math.floor(job.cycles / 10));
  const samples = [];
  let opens = 0;
  let t0 = 0;
  // Samples are taken in the open handler, at the same point of a cycle each time: after the
  // warm-up, and then every tenth of the run.
  const c = create(
    wsUrl('/cycle'),
    {
      open() {
        opens++;
        const cycle = opens - job.warmup;
        if (cycle < 0 || cycle % step !== 0) return;
        if (cycle === 0) t0 = performance.now();
        samples.push(heap());
        if (cycle >= job.cycles) done.resolve();
      },
      message: (d) => c.send(d),
      close: noop,
    },
    true,
  );
  await done.promise;
  const ms = performance.now() - t0;
  c.close();
  return { cycles: job.cycles, before: samples[0], after: samples[samples.length - 1], samples, ms };
}

const phases = { send, burst, stall, receive, storm, memory };

async function main() {
  let result;
  try {
    result = await phases[job.phase]();
  } catch (error) {
    result = { error: String(error?.stack ?? error) };
  }
  await fetch(`/result/${job.id}`, { method: 'POST', body: JSON.stringify(result) });
}

window.addEventListener('error', (e) => {
  fetch(`/result/${job.id}`, { method: 'POST', body: JSON.stringify({ error: String(e.message) }) });
});

main();
