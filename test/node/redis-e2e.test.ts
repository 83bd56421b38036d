// Two companion instances on one Redis, a TCP proxy in front that moves the client from one to
// the other every few hundred ms (and every few hundred messages), 10 000 numbered messages each
// way and 10 000 topic messages: every one once, in order.
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { ResilientWebSocket } from '../../src/index.js';
import { reliable, type Reliable } from '../../src/reliable.js';
import { effectKeys, startApp, type AppInstance } from '../support/redis-app.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until as waitUntil, useCleanups } from '../support/until.js';
const until = (what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> => waitUntil(what, check, ms);

const cleanups = useCleanups();

function client(port: number, rel: Reliable): { ws: ResilientWebSocket<string, string>; got: string[]; at: string[] } {
  const ws = new ResilientWebSocket<string, string>(`ws://127.0.0.1:${port}`, [], {
    WebSocket: NodeWebSocket as never,
    plugins: [rel],
    reconnect: { minDelay: 5, maxDelay: 40 },
  } as never);
  const got: string[] = [];
  const at: string[] = [];
  ws.on('message', ({ data }) => {
    const s = String(data);
    if (s.startsWith('@')) at.push(s.slice(1));
    else got.push(s);
  });
  cleanups.push(() => ws.close());
  return { ws, got, at };
}

const numbered = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('redis engine: two instances, one Redis', () => {
  it('moves a client between instances mid-stream: 10 000 each way and 10 000 topic messages, once, in order', async () => {
    const N = 10_000;
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const db = createClient({ url: redis.url });
    await db.connect();
    cleanups.push(() => db.close());
    const ids = new Set<string>();
    const onSession = (s: { id: string }): void => void ids.add(s.id);
    const a = await startApp('A', redis.url, 0, { onSession });
    cleanups.push(() => a.stop());
    const b = await startApp('B', redis.url, 0, { onSession });
    cleanups.push(() => b.stop());
    const apps: AppInstance[] = [a, b];
    const p = await TcpProxy.start(a.port);
    cleanups.push(() => p.close());

    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel);
    // The first connection lands on A, which subscribes the new session to the topic.
    await rel.sendReliable('c0');
    expect(ids.size).toBe(1);
    const id = [...ids][0]!;
    await until('the subscription', async () => 'news' in ((await a.engine.getSession(id))?.topics ?? {}));

    let moves = 0;
    let mark = 0;
    const move = (): void => {
      moves++;
      p.target = apps[moves % 2]!.port;
      if (moves % 3 === 0) p.reset();
      else p.cut();
    };
    const timer = setInterval(move, 150 + Math.floor(Math.random() * 200));
    cleanups.push(() => clearInterval(timer));

    let inbound = 0;
    const refresh = setInterval(() => {
      void db.lLen(effectKeys(id)[1]).then((n) => (inbound = n - 1), () => undefined);
    }, 20);
    cleanups.push(() => clearInterval(refresh));
    const delivered = (): number => {
      const done = inbound + c.got.length;
      if (done - mark >= 900) {
        mark = done;
        move();
      }
      return done;
    };

    // Paced by progress, not by time: batch k goes out once most of batch k-2 arrived.
    const acks: Array<Promise<void>> = [];
    const sends: Array<Promise<number>> = [];
    const B = 250;
    for (let k = 0; k < N / B; k++) {
      for (let i = k * B + 1; i <= (k + 1) * B; i++) {
        acks.push(rel.sendReliable(`c${i}`));
        // Sent from A and published from B, wherever the client is: the doorbell carries it over.
        sends.push(a.rel.send(id, `s${i}`));
        sends.push(b.rel.publish('news', `n${i}`));
      }
      await until(`batch ${k - 2}`, () => delivered() >= 3 * (k - 1) * B, 60_000);
    }
    await until('all three streams', () => delivered() >= 3 * N, 60_000);
    clearInterval(timer);
    await Promise.all(acks);
    await Promise.all(sends);

    expect(await db.lRange(effectKeys(id)[1], 0, -1)).toEqual(['c0', ...numbered('c', N)]);
    expect(c.got.filter((m) => m[0] === 's')).toEqual(numbered('s', N));
    expect(c.got.filter((m) => m[0] === 'n')).toEqual(numbered('n', N));
    expect(c.got.length).toBe(2 * N);
    expect(moves).toBeGreaterThanOrEqual(20);
    // Both instances served the session, many times.
    expect(a.sessions).toBeGreaterThan(5);
    expect(b.sessions).toBeGreaterThan(5);
    expect(new Set(c.at)).toEqual(new Set(['A', 'B']));
    const dup = Number((await db.hGet(effectKeys(id)[2], 'dup')) ?? 0);
    console.log(`redis e2e: ${moves} moves, ${a.sessions}+${b.sessions} hellos, ${dup} inbound re-deliveries absorbed by the idempotency key`);
  }, 90_000);
});
