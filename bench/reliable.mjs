// End-to-end delivery benchmark (`npm run bench:reliable`; builds dist/ first when it is missing).
//   node --expose-gc bench/reliable.mjs [messages=50000] [sessions=5000]
// 1. Throughput client → server of ws.send() with the reliable plug-in and the companion against
//    plain resilient-ws on a plain ws server, alternating rounds in the same run (median of each);
//    the same server → client (rel.send(sessionId) against socket.send()).
// 2. Envelope bytes per message: bytes that crossed a TCP counter, plug-in minus plain, per message.
// 3. Server heap per idle session: sessions connected once, then disconnected and kept within the
//    TTL; the heap after gc at 500 sessions and at 500 + n, divided by n.
// Prints the figures and writes them into bench/RESULTS.md between the bench:reliable markers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

const root = new URL('..', import.meta.url);
if (!existsSync(new URL('dist/reliable.mjs', root)) || !existsSync(new URL('dist/server.mjs', root))) {
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed; the benchmark needs dist/');
}
const { ResilientWebSocket } = await import('../dist/resilient-ws.mjs');
const { reliable } = await import('../dist/reliable.mjs');
const { attach } = await import('../dist/server.mjs');

const N = Number(process.argv[2] ?? 50_000);
const SESSIONS = Number(process.argv[3] ?? 5000);
const WARM_SESSIONS = 500;
const ROUNDS = 3;
const payload = 'x'.repeat(64);

function listen(wss) {
  return new Promise((r) => wss.once('listening', () => r(wss.address().port)));
}

/** A TCP pass-through that counts client → server bytes. */
async function counter(target) {
  const stats = { up: 0 };
  const server = createServer((c) => {
    const u = connect(target, '127.0.0.1');
    c.on('data', (d) => ((stats.up += d.length), u.write(d)));
    u.on('data', (d) => c.write(d));
    c.on('close', () => u.destroy());
    u.on('close', () => c.destroy());
    c.on('error', () => undefined);
    u.on('error', () => undefined);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { stats, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

async function round(withPlugin, down) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const port = await listen(wss);
  let got = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const count = () => ++got === N && done();
  let rel;
  let socket;
  if (withPlugin) rel = attach(wss, { onMessage: count });
  else wss.on('connection', (s) => ((socket = s), s.on('message', count)));
  const proxy = await counter(port);
  const plugin = withPlugin ? reliable({ storageKey: false }) : undefined;
  const ws = new ResilientWebSocket(`ws://127.0.0.1:${proxy.port}`, [], {
    WebSocket,
    page: false,
    plugins: plugin ? [plugin] : [],
    queue: { maxMessages: Infinity, maxBytes: Infinity },
  });
  await new Promise((r) => ws.on('open', r));
  if (plugin) await plugin.sendReliable('warm-up'); // the welcome came: the session exists
  let received = 0;
  let doneDown;
  const allDown = new Promise((r) => (doneDown = r));
  ws.on('message', () => ++received === N && doneDown());
  const before = proxy.stats.up;
  const t0 = performance.now();
  if (down) {
    const id = rel ? [...wss.clients].map((c) => rel.sessionOf(c)?.id).find(Boolean) : undefined;
    for (let i = 0; i < N; i++) {
      if (rel) void rel.send(id, payload);
      else socket.send(payload);
    }
    await allDown;
  } else {
    for (let i = 0; i < N - (plugin ? 1 : 0); i++) ws.send(payload);
    await all;
  }
  const ms = performance.now() - t0;
  const bytes = proxy.stats.up - before;
  ws.close();
  await rel?.close();
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
  await proxy.close();
  return { ms, rate: N / (ms / 1000), bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function idleSessions() {
  const gc = globalThis.gc ?? (() => undefined);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const port = await listen(wss);
  const rel = attach(wss, { sessionTtlMs: 600_000 });
  const open = async (n) => {
    for (let i = 0; i < n; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, async () => {
          const c = new WebSocket(`ws://127.0.0.1:${port}`, ['rws.v1']);
          await new Promise((r) => c.once('open', r));
          c.send('\x01{}');
          await new Promise((r) => c.once('message', r));
          c.close();
          await new Promise((r) => c.once('close', r));
        }),
      );
    }
  };
  // Closed sockets, timers and the first sessions' one-off costs (maps growing, code) settle first.
  const heap = async () => {
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 25));
      gc();
    }
    return process.memoryUsage().heapUsed;
  };
  await open(WARM_SESSIONS);
  const h1 = await heap();
  await open(SESSIONS);
  const h2 = await heap();
  await rel.close();
  await new Promise((r) => wss.close(r));
  return { perSession: (h2 - h1) / SESSIONS };
}

const runs = { up: [[], []], down: [[], []] };
for (let i = 0; i < ROUNDS; i++) {
  for (const dir of ['up', 'down']) {
    runs[dir][0].push(await round(false, dir === 'down'));
    runs[dir][1].push(await round(true, dir === 'down'));
  }
}
const rate = (xs) => median(xs.map((r) => r.rate));
const up = [rate(runs.up[0]), rate(runs.up[1])];
const down = [rate(runs.down[0]), rate(runs.down[1])];
const envelope = (median(runs.up[1].map((r) => r.bytes)) - median(runs.up[0].map((r) => r.bytes))) / N;
const idle = await idleSessions();
const lines = [
  `messages: ${N} × ${payload.length} B, ${ROUNDS} rounds each, alternating plain and reliable; Node ${process.version}, ws on 127.0.0.1 through a counting TCP proxy`,
  `client → server: plain ${Math.round(up[0])} msg/s, reliable ${Math.round(up[1])} msg/s (×${(up[1] / up[0]).toFixed(2)} of plain; target ≥ 0.8)`,
  `server → client: plain ${Math.round(down[0])} msg/s, reliable ${Math.round(down[1])} msg/s (×${(down[1] / down[0]).toFixed(2)} of plain)`,
  `envelope + acks, client → server: ${envelope.toFixed(2)} bytes per message`,
  `server heap per idle session: ${Math.round(idle.perSession)} B (${SESSIONS} sessions after ${WARM_SESSIONS}${globalThis.gc ? ', gc before each reading' : '; run with --expose-gc for a steady figure'})`,
];
for (const l of lines) console.log(l);

const file = new URL('bench/RESULTS.md', root);
const start = '<!-- bench:reliable -->';
const end = '<!-- /bench:reliable -->';
const block = `${start}\n## End-to-end delivery (\`npm run bench:reliable\`, ${new Date().toISOString().slice(0, 10)})\n\n${lines.map((l) => `- ${l}`).join('\n')}\n${end}`;
const old = existsSync(file) ? await readFile(file, 'utf8') : '';
const at = old.indexOf(start);
const next = at < 0 ? `${old.trimEnd()}\n\n${block}\n` : old.slice(0, at) + block + old.slice(old.indexOf(end) + end.length);
await writeFile(file, next);
process.exit(0);
