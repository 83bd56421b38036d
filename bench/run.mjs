#!/usr/bin/env node
// `npm run bench`: resilient-ws against its peers and the raw WebSocket in headless Chromium.
// Sizes, send and receive throughput (a paced and an unpaced producer), a reconnect storm and
// heap growth over reconnect cycles; prints one table and writes bench/RESULTS.md (with the
// method) and bench/storm.svg.
//
// Environment: BENCH_RUNS (throughput runs, default 3), BENCH_MESSAGES (200000),
// BENCH_CHUNKS (64 KiB chunks of the stalled-server burst, 1024), BENCH_PAUSE_MS (how long that
// server stops reading, 1000), BENCH_INSTANCES (storm clients, 200), BENCH_CYCLES (memory
// reconnect cycles, 1000), BENCH_LIBS (comma-separated library ids, default all), BENCH_PHASES
// (comma-separated among throughput, unpaced, storm, memory; default all).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release, platform } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { LIBRARIES, ownEntries, versionOf } from './libraries.mjs';
import { bundleLibraries, measureFile, measureOwnEntries } from './bundle.mjs';
import { startServers } from './server.mjs';
import { openChromium, chromiumVersion } from './browser.mjs';
import { textTable, markdownTable, tableRows, stormSvg, halfway, median, keepForeignSections } from './report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = (name, fallback) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
};
const RUNS = env('BENCH_RUNS', 3);
const MESSAGES = env('BENCH_MESSAGES', 200_000);
const CHUNKS = env('BENCH_CHUNKS', 1024);
const PAUSE_MS = env('BENCH_PAUSE_MS', 1000);
const INSTANCES = env('BENCH_INSTANCES', 200);
const CYCLES = env('BENCH_CYCLES', 1000);
const WARMUP = 200;
const DOWN_MS = 1000;
const STORM_TIMEOUT_MS = 60_000;
const list = (name) => process.env[name]?.split(',').map((s) => s.trim()).filter(Boolean);
const only = list('BENCH_LIBS');
const phases = list('BENCH_PHASES') ?? ['throughput', 'unpaced', 'storm', 'memory'];

const UMD = 'dist/resilient-ws.umd.min.js';
const started = Date.now();
const log = (msg) => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

function ensureBuild() {
  if (existsSync(join(root, UMD)) && existsSync(join(root, 'dist/resilient-ws.mjs'))) return;
  log('dist/ missing: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed; the benchmark needs dist/');
}

async function main() {
  const browserVersion = chromiumVersion();
  const libraries = LIBRARIES.filter((l) => !only || only.includes(l.id));
  if (libraries.some((l) => l.id === 'resilient-ws')) ensureBuild();

  log('bundling');
  const tmp = join(root, 'bench/.tmp');
  const own = await ownEntries(root);
  const ownSizes = libraries.some((l) => l.id === 'resilient-ws') ? await measureOwnEntries(root, own, tmp) : {};
  const sizes = await bundleLibraries(root, libraries, tmp, { iife: (lib) => lib.id !== 'resilient-ws', ownEntries: own });
  log(`bundled; own entries: ${own.map((e) => `${e.specifier} (${e.built ? e.path : `${e.path} not built`})`).join(', ')}`);
  const results = [];
  for (const lib of libraries) {
    results.push({
      ...lib,
      version: await versionOf(root, lib.id),
      size: sizes[lib.id],
      umdSize: lib.id === 'resilient-ws' ? await measureFile(join(root, UMD)) : undefined,
      // The package's other entries (resilient-ws/core, …): size rows of their own.
      entries: lib.id === 'resilient-ws' ? own.slice(1).map((e) => ({ ...e, size: ownSizes[e.specifier] })) : [],
      send: [],
      sendCall: [],
      receive: [],
      burst: [],
      stall: [],
    });
  }

  // The page loads what a `<script>` user loads: the shipped UMD for resilient-ws, an IIFE bundle
  // of the same import that the size column measures for the peers.
  const files = { '/bench/page.mjs': 'bench/page.mjs' };
  for (const lib of libraries) {
    if (lib.id === 'resilient-ws') files['/lib/resilient-ws.js'] = UMD;
    else if (lib.entry) files[`/lib/${lib.id}.js`] = `bench/.tmp/${lib.id}.iife.js`;
  }
  const jobs = new Map();
  let nextId = 0;
  let servers;
  const page = (id) => {
    const job = jobs.get(id);
    if (!job) return '<!doctype html><title>gone</title>';
    const config = JSON.stringify({ ...job, id, wsOrigin: servers.wsOrigin }).replace(/</g, '\\u003c');
    const lib = job.lib === 'raw' ? '' : `<script src="/lib/${job.lib}.js"></script>`;
    return `<!doctype html><meta charset="utf-8"><title>bench ${job.lib} ${job.phase}</title>
<script>window.BENCH = ${config};</script>${lib}
<script type="module" src="/bench/page.mjs"></script>`;
  };
  servers = await startServers({ root, files, page });

  /** One phase in a fresh browser; resolves with the page's result or `{error}`. */
  async function run(lib, phase, params, timeoutMs) {
    const id = String(++nextId);
    jobs.set(id, { lib: lib.id, phase, ...params });
    const result = servers.result(id);
    const browser = openChromium(`${servers.origin}/job/${id}`);
    let timer;
    try {
      return await Promise.race([
        result,
        new Promise((ok) => (timer = setTimeout(() => ok({ error: `timed out after ${timeoutMs} ms` }), timeoutMs))),
        browser.exited.then((code) => ({ error: `Chromium exited (${code})` })),
      ]);
    } finally {
      clearTimeout(timer);
      servers.forget(id);
      jobs.delete(id);
      await browser.close();
    }
  }

  try {
    // Runs are interleaved across libraries, and each run starts one library later, so that
    // drift in the machine's load hits all of them alike.
    // The paced and the unpaced producer share the rounds, so every ratio compares runs that
    // saw the same load.
    const rounds = [
      ...(phases.includes('throughput') ? ['send', 'receive'] : []),
      ...(phases.includes('unpaced') ? ['burst', 'stall'] : []),
    ];
    for (let i = 1; i <= (rounds.length ? RUNS : 0); i++) {
      const shift = (i - 1) % results.length;
      for (const r of [...results.slice(shift), ...results.slice(0, shift)]) {
        for (const phase of rounds) {
          const params = phase === 'stall' ? { chunks: CHUNKS, pauseMs: PAUSE_MS } : { messages: MESSAGES };
          const out = await run(r, phase, params, phase === 'stall' ? 180_000 : 120_000);
          if (out.error) {
            r.errors = [...(r.errors ?? []), `${phase}: ${out.error}`];
            log(`${r.id} ${phase} run ${i}: ${out.error}`);
          } else if (phase === 'burst' || phase === 'stall') {
            r[phase].push(out);
            log(`${r.id} ${phase} run ${i}: ${out.delivered}/${out.sent} delivered${out.outOfOrder ? `, ${out.outOfOrder} out of order` : ''} in ${out.ms.toFixed(0)} ms (send loop ${out.loopMs.toFixed(0)} ms)`);
          } else {
            r[phase].push(out.ms);
            if (phase === 'send') r.sendCall.push((out.callMs * 1000) / MESSAGES);
            log(`${r.id} ${phase} run ${i}: ${out.ms.toFixed(0)} ms${phase === 'send' ? `, ${((out.callMs * 1000) / MESSAGES).toFixed(2)} µs per send() call` : ''}`);
          }
        }
      }
    }
    for (const r of phases.includes('storm') ? results : []) {
      const out = await run(r, 'storm', { instances: INSTANCES, downMs: DOWN_MS, stormTimeoutMs: STORM_TIMEOUT_MS }, STORM_TIMEOUT_MS + 60_000);
      r.storm = { ...out, instances: INSTANCES };
      log(`${r.id} storm: ${out.error ?? `${INSTANCES} open in ${out.connectMs.toFixed(0)} ms; after the outage ${out.reconnected} back, ${out.attempts.length} attempts in ${out.elapsed.toFixed(0)} ms`}`);
    }
    for (const r of phases.includes('memory') ? results : []) {
      const out = await run(r, 'memory', { cycles: CYCLES, warmup: WARMUP }, 240_000);
      r.memory = out;
      log(`${r.id} memory: ${out.error ?? `${out.before} → ${out.after} bytes over ${out.cycles} cycles in ${out.ms.toFixed(0)} ms`}`);
    }
  } finally {
    await servers.close();
  }

  const rows = tableRows(results);
  console.log(textTable(rows));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const resultsFile = join(root, 'bench/RESULTS.md');
  const previous = existsSync(resultsFile) ? await readFile(resultsFile, 'utf8') : '';
  await writeFile(resultsFile, keepForeignSections(previous, resultsMarkdown(results, rows, browserVersion, seconds)));
  // A run without the storm phase leaves the last chart alone.
  if (phases.includes('storm')) await writeFile(join(root, 'bench/storm.svg'), stormSvg(results));
  await writeFile(join(tmp, 'results.json'), JSON.stringify(results, null, 1));
  log(`wrote bench/RESULTS.md${phases.includes('storm') ? ' and bench/storm.svg' : ''} in ${seconds} s`);
  const errors = results.flatMap((r) => [...(r.errors ?? []), r.storm?.error, r.memory?.error].filter(Boolean).map((e) => `${r.id}: ${e}`));
  if (errors.length) {
    console.error(errors.join('\n'));
    process.exitCode = 1;
  }
}

function resultsMarkdown(results, rows, browserVersion, seconds) {
  const overrides = ['BENCH_RUNS', 'BENCH_MESSAGES', 'BENCH_CHUNKS', 'BENCH_PAUSE_MS', 'BENCH_INSTANCES', 'BENCH_CYCLES', 'BENCH_LIBS', 'BENCH_PHASES']
    .filter((k) => process.env[k])
    .map((k) => `${k}=${process.env[k]} `)
    .join('');
  const cpu = cpus();
  const growth = results
    .filter((r) => r.memory && !r.memory.error)
    .map((r) => `${r.id === 'raw' ? 'raw' : r.name} ${((r.memory.after - halfway(r.memory)) / (r.memory.cycles / 2)).toFixed(1)} B`)
    .join(', ');
  const raw = results.find((r) => r.id === 'raw');
  const rawUs = raw?.send.length ? ` Raw takes ${((median(raw.send) * 1000) / MESSAGES).toFixed(1)} µs per message sent and ${((median(raw.receive) * 1000) / MESSAGES).toFixed(1)} µs per message received on this machine; where the browser's and the kernel's loopback path cost that much, a ratio near 1 means the library's own per-message work is small next to it.` : '';
  const unpacedRuns = (runs) => runs.map((x) => `${x.delivered}${x.outOfOrder ? ` (${x.outOfOrder} out of order)` : ''} in ${x.ms.toFixed(0)} ms`).join(', ');
  const allRuns = results
    .map((r) => `- ${r.name}: send ${r.send.map((x) => x.toFixed(0)).join(', ')} ms (${r.sendCall.map((x) => x.toFixed(2)).join(', ')} µs per send() call); receive ${r.receive.map((x) => x.toFixed(0)).join(', ')} ms${r.burst.length ? `; unpaced burst ${unpacedRuns(r.burst)}` : ''}${r.stall.length ? `; stalled server ${unpacedRuns(r.stall)}` : ''}`)
    .join('\n');
  const entryNotes = results
    .flatMap((r) => r.entries ?? [])
    .map((e) => `\`import { ResilientWebSocket } from '${e.specifier}'\` (${e.path}${e.built ? '' : ', not built when this ran'})`);
  return `# Benchmarks

Generated by \`${overrides}npm run bench\` on ${new Date().toISOString().slice(0, 10)} in ${seconds} s.

- Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}, Node ${process.version}
- Browser: ${browserVersion}, headless, launched as a plain process (no DevTools connection, which reports every frame and halves throughput)
- Server: \`ws\` on 127.0.0.1, same process as the harness; every phase runs in a fresh browser profile

${markdownTable(rows)}

1. Raw \`WebSocket\` is the baseline. In the storm and memory runs it reconnects at once in \`onclose\`, with no backoff (the naive loop).
2. \`dist/resilient-ws.umd.min.js\` as shipped (everything included, \`mitt\` inlined); sizes only. The benchmark pages load this file.
${entryNotes.length ? `3. ${entryNotes.join('; ')}: the same class from the package's other entries, bundled like the rest; sizes only. The entries are the \`.size-limit.json\` entries that import the class, plus \`OWN_ENTRIES\` in \`bench/libraries.mjs\`.\n` : ''}
## What is measured

- **Size**: what an app ships for the class the benchmark uses, e.g. \`import { ResilientWebSocket } from 'resilient-ws'\`, bundled with rollup (node-resolve \`browser: true\`, commonjs, terser), dependencies included; gzip level 9, brotli quality 11. The imports are listed in \`bench/libraries.mjs\`. Whole entry point, gzip: ${[...results.filter((r) => r.size).map((r) => `${r.name} ${r.size.wholeGzip} B`), ...results.flatMap((r) => r.entries ?? []).filter((e) => e.size).map((e) => `${e.specifier} ${e.size.wholeGzip} B`)].join(', ')}.
- **Send, paced**: ${MESSAGES} messages of 64 bytes, page → server, until the server has counted all of them; median of ${RUNS} runs. The page sends in batches of 1024 and waits while the library reports more than 512 KiB buffered (its \`bufferedAmount\`), as a well-behaved producer does. *send() call µs* is the time spent inside the library's \`send()\` alone, per message (summed over the batches): its own per-message cost, without the loopback and server time that blur the end-to-end figure.
- **Unpaced burst**: what code written for the native API does: ${MESSAGES} messages of 64 bytes in one synchronous loop right after \`open\`, default options, to a server that reads as fast as it can. *Delivered* is what the server counted, the worst of ${RUNS} runs (each message carries its index, so a duplicate or a reordering would be reported); the time runs from the loop's start to the last message's arrival (median of the runs). A library that drops messages is timed to the last one that arrived.
- **Stalled server**: ${CHUNKS} binary chunks of 64 KiB (${(CHUNKS * 64) / 1024} MiB) in one synchronous loop, default options; at the first chunk the server stops reading for ${PAUSE_MS} ms (\`ws.pause()\`: the kernel's buffers fill, then the browser's), then reads on. Delivered and time as for the burst; the time includes the pause.
- **Receive**: ${MESSAGES} messages of 64 bytes, server → page, from the page's \`go\` until its handler has seen the last one; median of ${RUNS} runs.${rawUs} Other processes on the machine add noise; the runs are interleaved across libraries, each starting one library later, so that it hits all of them alike (every run is listed below).
- **Storm**: ${INSTANCES} instances in one page, default options; the server drops them all, refuses connections for ${DOWN_MS} ms, then listens again. Reconnect time = from an instance's \`close\` to its next \`open\`, so it includes the ${DOWN_MS} ms outage. Attempts = \`new WebSocket()\` calls the page made (the constructor is wrapped), from the drop until all are back (at most ${STORM_TIMEOUT_MS / 1000} s); the peak is over any 100 ms window. Chromium runs one handshake per host:port at a time, so ${INSTANCES} clients need a while to get back whatever the library does. websocket-ts does not reconnect without a backoff: it runs its quickstart setup (\`ConstantBackoff(1000)\`, \`ArrayQueue\`). Chart: [storm.svg](storm.svg).
- **Memory**: one instance, ${CYCLES} reconnect cycles (the server sends 64 bytes, the page answers, the server drops the socket) after ${WARMUP} cycles of warm-up; \`usedJSHeapSize\` after \`gc()\` (\`--js-flags=--expose-gc --enable-precise-memory-info\`), sampled every tenth of the run. V8 counts optimized code in the heap, so the heap steps up once when the hot paths tier up (a few hundred cycles in, larger for larger libraries) and is flat after that; a leak shows as growth over the second half. (Checked with \`--no-opt --no-maglev --no-sparkplug\`: then raw and resilient-ws both grow by the same 1.3 KiB over 1000 cycles.) Short delays here: resilient-ws \`reconnect: {minDelay: 1, maxDelay: 10, jitter: 'none'}\`, reconnecting-websocket/partysocket \`minReconnectionDelay: 1, maxReconnectionDelay: 10\`, sockette \`timeout: 10\`, websocket-ts \`ConstantBackoff(10)\`. ${growth ? `Growth per cycle over the second half: ${growth}.` : ''}

## Every run

${allRuns}
`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
