// Server benchmark for end-to-end delivery (not part of npm test). Needs `npm run build` first.
//   node --expose-gc bench/reliable.mjs [messages=50000] [sessions=2000]
// 1. Throughput of ws.send() client → server with the reliable plug-in against without it,
//    alternating rounds in the same run (median of each).
// 2. Envelope bytes per message: bytes that crossed a TCP counter, plug-in minus plain, per message.
// 3. Server heap per idle session (connected once, then disconnected, kept within the TTL).
import { createServer, connect } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { ResilientWebSocket } from '../dist/resilient-ws.mjs';
import { reliable } from '../dist/reliable.mjs';
import { attach } from '../dist/server.mjs';

const N = Number(process.argv[2] ?? 50_000);
const SESSIONS = Number(process.argv[3] ?? 2000);
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

async function round(withPlugin) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const port = await listen(wss);
  let got = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const count = () => ++got === N && done();
  let rel;
  if (withPlugin) rel = attach(wss, { onMessage: count });
  else wss.on('connection', (s) => s.on('message', count));
  const proxy = await counter(port);
  const plugin = withPlugin ? reliable({ storageKey: false }) : undefined;
  const ws = new ResilientWebSocket(`ws://127.0.0.1:${proxy.port}`, [], {
    WebSocket,
    page: false,
    plugins: plugin ? [plugin] : [],
    queue: { maxMessages: Infinity, maxBytes: Infinity },
  });
  await new Promise((r) => ws.on('open', r));
  if (plugin) await plugin.sendReliable('warm-up'); // the welcome came: send() is numbered from here
  const before = proxy.stats.up;
  const t0 = performance.now();
  for (let i = 0; i < N - (plugin ? 1 : 0); i++) ws.send(payload);
  await all;
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
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  for (let i = 0; i < SESSIONS; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, SESSIONS - i) }, async () => {
        const c = new WebSocket(`ws://127.0.0.1:${port}`, ['rws.v1']);
        await new Promise((r) => c.once('open', r));
        c.send('\x01{}');
        await new Promise((r) => c.once('message', r));
        c.close();
        await new Promise((r) => c.once('close', r));
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 50));
  gc();
  const perSession = (process.memoryUsage().heapUsed - heap0) / SESSIONS;
  await rel.close();
  await new Promise((r) => wss.close(r));
  return perSession;
}

const plain = [];
const rws = [];
for (let i = 0; i < ROUNDS; i++) {
  plain.push(await round(false));
  rws.push(await round(true));
}
const p = median(plain.map((r) => r.rate));
const q = median(rws.map((r) => r.rate));
const envelope = (median(rws.map((r) => r.bytes)) - median(plain.map((r) => r.bytes))) / N;
const idle = await idleSessions();
console.log(`messages: ${N} × ${payload.length} B, ${ROUNDS} rounds each, alternating`);
console.log(`plain send:     ${Math.round(p)} msg/s`);
console.log(`reliable send:  ${Math.round(q)} msg/s  (×${(q / p).toFixed(2)} of plain; target ≥ 0.8)`);
console.log(`envelope + acks: ${envelope.toFixed(2)} bytes per message on the wire`);
console.log(`server heap per idle session: ${Math.round(idle)} B${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`);
process.exit(0);
