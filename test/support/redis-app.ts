// A server instance as an app would write it on the Redis engine: a `ws` server, the companion,
// and an application effect that is idempotent by (session, seq) — the recipe the README gives
// for exactly-once. The effect lives in Redis too (one Lua call: first writer wins, and only the
// winner appends to the ordered list), so it survives the instance that performed it.
// Used in-process by the tests and, through test/support/redis-instance.ts, as a child process.
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { WebSocketServer } from 'ws';
import { attach, type AttachOptions, type ReliableServer } from '../../src/server/index.js';
import { redisEngine, type RedisEngine } from '../../src/server/redis.js';

const EFFECT = `if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2]); return 1
end
redis.call('HINCRBY', KEYS[3], 'dup', 1); return 0`;

export interface AppInstance {
  readonly name: string;
  readonly port: number;
  readonly rel: ReliableServer;
  readonly engine: RedisEngine;
  /** Connections that completed a hello here. */
  sessions: number;
  /** What the companion reported to onError. */
  readonly errors: Error[];
  stop(): Promise<void>;
}

/** The same effect kept in this process, for tests where Redis itself goes away. */
export class Effects {
  readonly #seen = new Map<string, Set<number>>();
  /** Per session, the texts in the order their first delivery happened. */
  readonly list = new Map<string, string[]>();
  /** Deliveries of a (session, seq) already seen: absorbed by the idempotency key. */
  dup = 0;
  record(session: string, seq: number, text: string): void {
    let seen = this.#seen.get(session);
    if (!seen) {
      this.#seen.set(session, (seen = new Set()));
      this.list.set(session, []);
    }
    if (seen.has(seq)) return void this.dup++;
    seen.add(seq);
    this.list.get(session)!.push(text);
  }
}

/** Keys of the app's effect for a session: seq → text, the ordered list, the duplicate counter. */
export const effectKeys = (session: string): [string, string, string] => [`app:{${session}}:byseq`, `app:{${session}}:list`, `app:{${session}}:stats`];

export interface AppOptions extends AttachOptions {
  /** Where the effect goes: Redis (default, survives the instance) or this in-process record. */
  effects?: Effects;
  /** The engine's Redis, when it differs from the app's (a proxy in front of it). */
  engineUrl?: string;
}

export async function startApp(name: string, url: string, port = 0, extra: AppOptions = {}): Promise<AppInstance> {
  const db = createClient({ url });
  db.on('error', () => undefined);
  await db.connect();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', () => resolve());
    wss.once('error', reject);
  });
  const engine = redisEngine({ url: extra.engineUrl ?? url, commandTimeoutMs: 1000 });
  const app: AppInstance = {
    name,
    port: (wss.address() as AddressInfo).port,
    engine,
    sessions: 0,
    errors: [],
    rel: attach(wss, {
      engine,
      onError: (err) => void app.errors.push(err),
      sessionTtlMs: extra.sessionTtlMs,
      ackDelayMs: extra.ackDelayMs,
      onSession: (s, info) => {
        app.sessions++;
        if (!info.resumed) void s.subscribe('news').catch(() => undefined);
        // Tell the page which instance it reached (the demo shows it; the tests count it).
        s.socket?.send(`@${name}`);
        extra.onSession?.(s, info);
      },
      onMessage: async (data, ctx) => {
        const text = data.toString();
        if (ctx.seq === undefined) return;
        if (extra.effects) extra.effects.record(ctx.session.id, ctx.seq, text);
        else await db.eval(EFFECT, { keys: effectKeys(ctx.session.id), arguments: [String(ctx.seq), text] });
        await extra.onMessage?.(data, ctx);
      },
    }),
    async stop() {
      await app.rel.close();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await engine.close();
      await db.close().catch(() => db.destroy());
    },
  };
  return app;
}
