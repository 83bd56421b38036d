// Redis going away under two live instances: the process never crashes, nothing is acknowledged
// that was not stored, the health flag and typed errors say so, and service comes back with
// Redis. Two cases: Redis unreachable for a while with its data kept (a network cut, here a
// proxy in front of it) resumes every session; Redis restarted empty (no persistence) resets them.
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { ResilientWebSocket } from '../../src/index.js';
import { reliable, type Reliable } from '../../src/reliable.js';
import { Effects, startApp, type AppInstance } from '../support/redis-app.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until as waitUntil, useCleanups } from '../support/until.js';
const until = (what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => waitUntil(what, check, ms);

const cleanups = useCleanups();

const numbered = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

interface Setup {
  redis: RedisServer;
  apps: AppInstance[];
  effects: Effects;
  rel: Reliable;
  ws: ResilientWebSocket<string, string>;
  got: string[];
  closes: number[];
  resets: Array<{ reason: string; lost: number }>;
  ids: string[];
}

/** Redis, two instances (their engines through `engineUrl`), a proxy moving the client between them. */
async function setup(engineUrl?: (redis: RedisServer) => Promise<string>): Promise<Setup> {
  const redis = await RedisServer.start();
  cleanups.push(() => redis.stop());
  const url = engineUrl ? await engineUrl(redis) : redis.url;
  const effects = new Effects();
  const ids: string[] = [];
  const apps: AppInstance[] = [];
  for (const name of ['A', 'B']) {
    const app = await startApp(name, redis.url, 0, { effects, engineUrl: url, onSession: (s) => void ids.push(s.id) });
    cleanups.push(() => app.stop());
    apps.push(app);
  }
  const p = await TcpProxy.start(apps[0]!.port);
  cleanups.push(() => p.close());
  // Moves on every reconnect: each attempt goes to the other instance.
  let n = 0;
  const orig = p.target;
  Object.defineProperty(p, 'target', { get: () => (n++ % 2 ? apps[1]!.port : orig), set: () => undefined });
  const rel = reliable({ storageKey: false });
  const ws = new ResilientWebSocket<string, string>(`ws://127.0.0.1:${p.port}`, [], {
    WebSocket: NodeWebSocket as never,
    plugins: [rel],
    reconnect: { minDelay: 5, maxDelay: 100 },
  } as never);
  cleanups.push(() => ws.close());
  const got: string[] = [];
  const closes: number[] = [];
  const resets: Array<{ reason: string; lost: number }> = [];
  ws.on('message', ({ data }) => void (String(data)[0] !== '@' && got.push(String(data))));
  ws.on('close', ({ code }) => void closes.push(code));
  ws.on('reset', (r) => void resets.push(r));
  return { redis, apps, effects, rel, ws, got, closes, resets, ids };
}

/**
 * Sends s1..sN from instance A one at a time, retrying what failed: the app's part. A failure
 * with REDIS_NO_REPLY may have been stored, so its retry may arrive twice: noted in `unsure`.
 */
async function sendAll(app: AppInstance, id: string, from: number, to: number, refused: string[], unsure = new Set<string>()): Promise<void> {
  for (let i = from; i <= to; i++) {
    for (;;) {
      try {
        await app.rel.send(id, `s${i}`);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code ?? String(err);
        refused.push(code);
        if (code === 'REDIS_NO_REPLY') unsure.add(`s${i}`);
        await app.engine.ready().catch(() => undefined);
      }
    }
  }
}

describe('redis engine: Redis going away', () => {
  it('unreachable for a while, data kept: connections refused with 4495, health false, then the session resumes; a second copy only of a send that got no reply', async () => {
    let cut: TcpProxy | undefined;
    const s = await setup(async (redis) => {
      cut = await TcpProxy.start(redis.port);
      cleanups.push(() => cut!.close());
      return `redis://127.0.0.1:${cut.port}`;
    });
    const [a] = s.apps as [AppInstance, AppInstance];
    const N = 400;
    const acks = numbered('c', N / 2).map((m) => s.rel.sendReliable(m));
    await Promise.all(acks);
    const id = s.ids[0]!;
    const refused: string[] = [];
    const unsure = new Set<string>();
    const sending = sendAll(a, id, 1, N, refused, unsure);
    await until('half the server messages', () => s.got.length >= N / 4);

    // Redis disappears: connections dropped, new ones refused.
    cut!.refuse = true;
    cut!.cut();
    const more = numbered('c', N)
      .slice(N / 2)
      .map((m) => s.rel.sendReliable(m).then(() => 'ok', (e: { code?: string }) => e.code));
    await until('both engines unhealthy', () => s.apps.every((x) => !x.engine.healthy));
    // New connections are refused too, not only the ones that were open: several closes.
    await until('connections closed for storage', () => s.closes.filter((c) => c === 4495).length >= 3);
    await until('a send refused', () => refused.length > 0);
    expect(process.exitCode ?? 0).toBe(0);

    cut!.refuse = false;
    await sending;
    expect(await Promise.all(more)).toEqual(new Array(N / 2).fill('ok'));
    await until('every server message', () => new Set(s.got).size >= N);
    await s.rel.sendReliable('barrier');
    await until('both engines healthy', () => s.apps.every((x) => x.engine.healthy));

    expect(s.resets).toEqual([]);
    expect(new Set(s.ids)).toEqual(new Set([id]));
    expect(s.effects.list.get(id)).toEqual([...numbered('c', N), 'barrier']);
    // Once, in order; a second copy only of a message whose first send had no reply.
    const again = s.got.filter((m, i) => s.got.indexOf(m) < i);
    expect(again.every((m) => unsure.has(m))).toBe(true);
    expect(s.got.filter((m, i) => s.got.indexOf(m) === i)).toEqual(numbered('s', N));
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((c) => c === 'REDIS_UNAVAILABLE' || c === 'REDIS_NO_REPLY')).toBe(true);
    expect(s.apps.flatMap((x) => x.errors).every((e) => e.name === 'RedisEngineError')).toBe(true);
    console.log(`redis outage (kept): ${refused.length} sends refused and retried (${unsure.size} without a reply, ${again.length} arrived twice), closes ${JSON.stringify([...new Set(s.closes)])}, ${s.effects.dup} re-deliveries absorbed`);
  }, 60_000);

  it('stopped and restarted empty: refused meanwhile, then reset (epoch), typed rejections, acknowledged messages all delivered once', async () => {
    const s = await setup();
    const [a] = s.apps as [AppInstance, AppInstance];
    const before = numbered('c', 100);
    await Promise.all(before.map((m) => s.rel.sendReliable(m)));
    const id = s.ids[0]!;
    await sendAll(a, id, 1, 50, []);
    await until('the server messages', () => s.got.length >= 50);

    await s.redis.stop();
    const during = ['d1', 'd2', 'd3'].map((m) => s.rel.sendReliable(m).then(() => 'ok', (e: { code?: string }) => e.code));
    await until('both engines unhealthy', () => s.apps.every((x) => !x.engine.healthy));
    // Known to be down: refused before anything is sent, so certainly not stored.
    await expect(a.rel.send(id, 'never')).rejects.toMatchObject({ name: 'RedisEngineError', code: 'REDIS_UNAVAILABLE' });
    await expect(a.rel.publish('news', 'never')).rejects.toMatchObject({ name: 'RedisEngineError', code: 'REDIS_UNAVAILABLE' });
    // New connections are refused too, not only the one that was open: several closes.
    await until('connections closed for storage', () => s.closes.filter((c) => c === 4495).length >= 3);

    await s.redis.restart();
    const outcome = await Promise.all(during);
    // Redis lost every session: the client is reset; what the server never acknowledged is
    // rejected (the app re-syncs), and nothing acknowledged is missing.
    expect(s.resets.length).toBe(1);
    expect(s.resets[0]!.reason).toBe('epoch');
    for (const [i, r] of outcome.entries()) {
      expect(['ok', 'SESSION_RESET']).toContain(r);
      if (r === 'ok') expect(s.effects.list.get(id)).toContain(`d${i + 1}`);
    }
    expect(s.effects.list.get(id)!.slice(0, 100)).toEqual(before);
    expect(s.got).toEqual(numbered('s', 50));
    await s.rel.sendReliable('after');
    const fresh = s.ids.at(-1)!;
    expect(fresh).not.toBe(id);
    expect(s.effects.list.get(fresh)).toEqual(['after']);
    await a.rel.send(fresh, 'welcome back');
    await until('the new session works both ways', () => s.got.includes('welcome back'));
    await until('both engines healthy', () => s.apps.every((x) => x.engine.healthy));
    expect(s.apps.flatMap((x) => x.errors).every((e) => e.name === 'RedisEngineError')).toBe(true);
  }, 60_000);
});
