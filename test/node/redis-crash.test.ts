// SIGKILL of a server instance mid-stream, on the Redis engine: the instances are child
// processes; each is killed in turn while messages flow both ways, and restarted. Nothing that
// was acknowledged is lost, nothing arrives twice, nothing out of order.
import { createClient } from 'redis';
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { ResilientWebSocket } from '../../src/index.js';
import { reliable } from '../../src/reliable.js';
import { ChildInstance } from '../support/child-instance.js';
import { effectKeys, startApp } from '../support/redis-app.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { until as waitUntil, useCleanups } from '../support/until.js';
const until = (what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> => waitUntil(what, check, ms);

const cleanups = useCleanups();

const numbered = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('redis engine: an instance killed mid-stream', () => {
  it('SIGKILL of each instance in turn, restarted: no gap, no duplicate, in order, both ways and on a topic', async () => {
    const N = 6000;
    const redis = await RedisServer.start();
    cleanups.push(() => redis.stop());
    const db = createClient({ url: redis.url });
    await db.connect();
    cleanups.push(() => db.close());
    // The sender is a third instance with no client of its own: any instance can send to any session.
    const sender = await startApp('S', redis.url);
    cleanups.push(() => sender.stop());
    const children: ChildInstance[] = [];
    cleanups.push(() => Promise.all(children.map((c) => c.kill())));
    const spawnChild = async (name: string, port = 0): Promise<ChildInstance> => {
      const c = await ChildInstance.start(name, redis.url, port);
      children.push(c);
      return c;
    };
    let a = await spawnChild('A');
    let b = await spawnChild('B');
    const p = await TcpProxy.start(a.port);
    cleanups.push(() => p.close());

    const rel = reliable({ storageKey: false });
    const ws = new ResilientWebSocket<string, string>(`ws://127.0.0.1:${p.port}`, [], {
      WebSocket: NodeWebSocket as never,
      plugins: [rel],
      reconnect: { minDelay: 5, maxDelay: 40 },
    } as never);
    cleanups.push(() => ws.close());
    const got: string[] = [];
    const at: string[] = [];
    ws.on('message', ({ data }) => {
      const s = String(data);
      if (s.startsWith('@')) at.push(s.slice(1));
      else got.push(s);
    });
    const resets: unknown[] = [];
    ws.on('reset', (r) => resets.push(r));

    await rel.sendReliable('c0');
    const [key] = (await db.keys('rws:s:{*}')).filter((k) => !k.endsWith(':log'));
    const id = key!.slice('rws:s:{'.length, -1);
    await until('the subscription', async () => 'news' in ((await sender.engine.getSession(id))?.topics ?? {}));

    let inbound = 0;
    const refresh = setInterval(() => {
      void db.lLen(effectKeys(id)[1]).then((n) => (inbound = n - 1), () => undefined);
    }, 20);
    cleanups.push(() => clearInterval(refresh));
    const delivered = (): number => inbound + got.length;

    const kills: string[] = [];
    // Kill the instance the client is on, point the proxy at the other one, restart the dead one.
    const crash = async (): Promise<void> => {
      const [dead, other] = p.target === a.port ? [a, b] : [b, a];
      p.target = other.port;
      await dead.kill();
      kills.push(dead.name);
      const again = await spawnChild(dead.name, dead.port);
      if (dead === a) a = again;
      else b = again;
    };

    const acks: Array<Promise<void>> = [];
    const sends: Array<Promise<number>> = [];
    const B = 200;
    let crashing: Promise<void> | undefined;
    for (let k = 0; k < N / B; k++) {
      for (let i = k * B + 1; i <= (k + 1) * B; i++) {
        acks.push(rel.sendReliable(`c${i}`));
        sends.push(sender.rel.send(id, `s${i}`));
        sends.push(sender.rel.publish('news', `n${i}`));
      }
      // Mid-stream, with batches in flight both ways: four times.
      if (k > 0 && k % Math.floor(N / B / 4) === 0) crashing = crash();
      await until(`batch ${k - 2}`, () => delivered() >= 3 * (k - 1) * B, 40_000);
      await crashing;
    }
    await until('all three streams', () => delivered() >= 3 * N, 40_000);
    await Promise.all(acks);
    await Promise.all(sends);

    expect(kills).toEqual(['A', 'B', 'A', 'B']);
    expect(await db.lRange(effectKeys(id)[1], 0, -1)).toEqual(['c0', ...numbered('c', N)]);
    expect(got.filter((m) => m[0] === 's')).toEqual(numbered('s', N));
    expect(got.filter((m) => m[0] === 'n')).toEqual(numbered('n', N));
    expect(got.length).toBe(2 * N);
    expect(resets).toEqual([]);
    expect(new Set(at)).toEqual(new Set(['A', 'B']));
    const dup = Number((await db.hGet(effectKeys(id)[2], 'dup')) ?? 0);
    console.log(`redis crash: kills ${kills.join(',')}, ${at.length} hellos, ${dup} inbound re-deliveries absorbed by the idempotency key`);
  }, 60_000);
});
