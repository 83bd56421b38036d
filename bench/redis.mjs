// The Redis engine's benchmark (not part of `npm test`; builds dist/ first when it is missing).
//   node bench/redis.mjs [messages=20000] [sessions=2000] [topicMessages=10000]
// Uses REDIS_URL when set, else starts its own redis-server (/usr/bin/redis-server, or
// $REDIS_SERVER) on a free port with no persistence, and stops it at the end. BENCH_DEBUG=1
// prints each round.
// 1. Messages per second through one instance, client → server (ws.send with the reliable
//    plug-in, counted in onMessage) and server → client (rel.send(sessionId)), with the memory
//    engine and with the Redis engine, alternating rounds in the same run (median of 3).
// 2. Redis memory per idle session: sessions opened through the protocol (hello, welcome,
//    close), then `used_memory` before and after, divided by their number; and `MEMORY USAGE`
//    of one session's keys.
// 3. Redis memory per topic message (64-byte payloads), the same way, and MEMORY USAGE of the stream.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { WebSocket, WebSocketServer } from 'ws';

const root = new URL('..', import.meta.url);
if (!existsSync(new URL('dist/reliable.mjs', root)) || !existsSync(new URL('dist/server.mjs', root))) {
  const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('npm run build failed; the benchmark needs dist/');
}
const { ResilientWebSocket } = await import('../dist/resilient-ws.mjs');
const { reliable } = await import('../dist/reliable.mjs');
const { attach, memoryEngine, redisEngine } = await import('../dist/server.mjs');

const N = Number(process.argv[2] ?? 20_000);
const SESSIONS = Number(process.argv[3] ?? 2000);
const TOPIC_MESSAGES = Number(process.argv[4] ?? 10_000);
const ROUNDS = 3;
const payload = 'x'.repeat(64);

async function startRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => undefined };
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const child = spawn(process.env.REDIS_SERVER ?? '/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) };
}

const listen = (wss) => new Promise((r) => wss.once('listening', () => r(wss.address().port)));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let prefixes = 0;
async function round(kind, url, down) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const port = await listen(wss);
  let got = 0;
  let done;
  const all = new Promise((r) => (done = r));
  const engine = kind === 'redis' ? redisEngine({ url, prefix: `bench${++prefixes}:` }) : memoryEngine();
  if (kind === 'redis') await engine.ready();
  const rel = attach(wss, { engine, onError: () => undefined, onMessage: () => ++got === N && done() });
  const plugin = reliable({ storageKey: false });
  const ws = new ResilientWebSocket(`ws://127.0.0.1:${port}`, [], {
    WebSocket,
    page: false,
    plugins: [plugin],
    queue: { maxMessages: Infinity, maxBytes: Infinity },
  });
  await plugin.sendReliable('warm-up');
  got = 0;
  let received = 0;
  let doneDown;
  const allDown = new Promise((r) => (doneDown = r));
  ws.on('message', () => ++received === N && doneDown());
  const t0 = performance.now();
  if (down) {
    const id = [...wss.clients].map((c) => rel.sessionOf(c)?.id).find(Boolean);
    for (let i = 0; i < N; i++) void rel.send(id, payload);
    await allDown;
  } else {
    for (let i = 0; i < N; i++) ws.send(payload);
    await all;
  }
  const ms = performance.now() - t0;
  ws.close();
  await rel.close();
  await engine.close();
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
  return N / (ms / 1000);
}

async function usedMemory(db) {
  const info = await db.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)[1]);
}

async function idleSessions(url, db) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const port = await listen(wss);
  const engine = redisEngine({ url, prefix: 'idle:' });
  const rel = attach(wss, { engine, onError: () => undefined, sessionTtlMs: 600_000 });
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
  await open(100);
  const m1 = await usedMemory(db);
  await open(SESSIONS);
  const m2 = await usedMemory(db);
  const [key] = (await db.keys('idle:s:{*}')).filter((k) => !k.endsWith(':log'));
  const usage = await db.memoryUsage(key);
  const keys = (await db.keys('idle:s:{*}')).length;
  await rel.close();
  await engine.close();
  await new Promise((r) => wss.close(r));
  return { perSession: (m2 - m1) / SESSIONS, usage, keysPerSession: keys / (SESSIONS + 100) };
}

async function topicMessages(url, db) {
  const engine = redisEngine({ url, prefix: 'topic:', topicMaxEntries: TOPIC_MESSAGES * 2 });
  await engine.ready();
  await engine.publish('warm', { data: Buffer.from(payload), binary: false });
  const m1 = await usedMemory(db);
  for (let i = 0; i < TOPIC_MESSAGES; i += 500) {
    await Promise.all(Array.from({ length: 500 }, () => engine.publish('news', { data: Buffer.from(payload), binary: false })));
  }
  const m2 = await usedMemory(db);
  const usage = await db.memoryUsage('topic:t:{news}:log', { SAMPLES: 0 });
  await engine.close();
  return { perMessage: (m2 - m1) / TOPIC_MESSAGES, usagePerMessage: usage / TOPIC_MESSAGES };
}

const redis = await startRedis();
const db = createClient({ url: redis.url });
await db.connect();
try {
  const rates = { up: { memory: [], redis: [] }, down: { memory: [], redis: [] } };
  for (let i = 0; i < ROUNDS; i++) {
    for (const dir of ['up', 'down']) {
      for (const kind of ['memory', 'redis']) {
        rates[dir][kind].push(await round(kind, redis.url, dir === 'down'));
        if (process.env.BENCH_DEBUG) console.log(dir, kind, Math.round(rates[dir][kind].at(-1)));
      }
    }
  }
  const idle = await idleSessions(redis.url, db);
  const topic = await topicMessages(redis.url, db);
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  const redisVersion = /redis_version:(\S+)/.exec(await db.info('server'))[1];
  console.log(`Redis engine benchmark: ${N} messages of ${payload.length} B per round, median of ${ROUNDS}; Redis ${redisVersion}, Node ${process.version}`);
  for (const dir of ['up', 'down']) {
    const m = median(rates[dir].memory);
    const r = median(rates[dir].redis);
    console.log(`  ${dir === 'up' ? 'client → server' : 'server → client'}: memory ${fmt(m)} msg/s, redis ${fmt(r)} msg/s (×${(r / m).toFixed(2)})`);
  }
  console.log(`  idle session: ${fmt(idle.perSession)} B of Redis used_memory each (${SESSIONS} sessions); MEMORY USAGE of one session hash ${idle.usage} B; ${idle.keysPerSession.toFixed(2)} keys per session`);
  console.log(`  topic message (${payload.length} B payload): ${fmt(topic.perMessage)} B of used_memory each; MEMORY USAGE of the stream / messages = ${topic.usagePerMessage.toFixed(1)} B`);
} finally {
  await db.close();
  await redis.stop();
}
