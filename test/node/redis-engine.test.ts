// The Redis engine against a real redis-server: the Engine contract (the same one the memory
// engine keeps), bounds (trimming, TTL, caps), the doorbell between two engines, and what
// happens while Redis is away.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisEngine, RedisEngineError, type RedisEngine } from '../../src/server/redis.js';
import type { Doorbell } from '../../src/server/engine.js';
import { RedisServer } from '../support/redis-server.js';
import { until as waitUntil } from '../support/until.js';
const until = (what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => waitUntil(what, check, ms);

let redis: RedisServer;
const engines: RedisEngine[] = [];
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  for (const e of engines) await e.close();
  await redis.stop();
});

let n = 0;
function engine(extra: Parameters<typeof redisEngine>[0] | object = {}): RedisEngine {
  const e = redisEngine({ url: redis.url, prefix: `t${++n}:`, ...extra });
  engines.push(e);
  return e;
}

const text = (s: string) => ({ data: Buffer.from(s), binary: false });
const init = { tokenHash: 'ab'.repeat(32), owner: undefined };

describe('redisEngine', () => {
  it('validates its options', () => {
    expect(() => redisEngine({} as never)).toThrow(/exactly one of `client` and `url`/);
    expect(() => redisEngine({ url: 'redis://x', topicMaxEntries: 0 })).toThrow(/topicMaxEntries must be a positive integer/);
    expect(() => redisEngine({ url: 'redis://x', commandTimeoutMs: 1.5 })).toThrow(/commandTimeoutMs/);
  });

  it('keeps one epoch for every instance on the same Redis and prefix', async () => {
    const a = engine();
    const b = redisEngine({ url: redis.url, prefix: `t${n}:` });
    engines.push(b);
    expect(await a.epoch()).toBe(await b.epoch());
    expect(await a.epoch()).toMatch(/^[\w-]{12}$/);
    expect(a.healthy).toBe(true);
  });

  it('stores a session: received, appends, reads, acks that trim by bytes', async () => {
    const e = engine();
    await e.createSession('s1', { tokenHash: init.tokenHash, owner: 'alice' }, 60_000);
    expect(await e.getSession('s1')).toEqual({ tokenHash: init.tokenHash, owner: 'alice', received: 0, sent: 0, acked: 0, topics: {} });
    expect(await e.getSession('nope')).toBeNull();
    await e.setReceived('s1', 5);
    await e.setReceived('s1', 3);
    expect(await e.append('s1', text('one'), 10)).toBe(1);
    expect(await e.append('s1', { data: new Uint8Array([0, 255, 1]), binary: true }, 10)).toBe(2);
    expect(await e.append('s1', text('12345'), 10)).toBe('full');
    expect(await e.append('nope', text('x'), 10)).toBeNull();
    const log = await e.read('s1', 0, 10);
    expect(log.map((x) => [x.seq, Buffer.from(x.data).toString('hex'), x.binary])).toEqual([
      [1, Buffer.from('one').toString('hex'), false],
      [2, '00ff01', true],
    ]);
    expect((await e.read('s1', 1, 10)).map((x) => x.seq)).toEqual([2]);
    expect((await e.read('s1', 0, 1)).map((x) => x.seq)).toEqual([1]);
    await e.ack('s1', 1);
    expect((await e.read('s1', 0, 10)).map((x) => x.seq)).toEqual([2]);
    // 3 bytes left unacknowledged, so 7 more fit and 8 do not.
    expect(await e.append('s1', text('1234567'), 10)).toBe(3);
    await e.ack('s1', 99);
    expect(await e.getSession('s1')).toMatchObject({ received: 5, sent: 3, acked: 3 });
    expect(await e.read('s1', 3, 10)).toEqual([]);
    expect(await e.append('s1', text('0123456789'), 10)).toBe(4);
  });

  it('caps unacknowledged entries per session', async () => {
    const e = engine({ sessionMaxEntries: 2 });
    await e.createSession('s', init, 60_000);
    expect(await e.append('s', text('a'), 1000)).toBe(1);
    expect(await e.append('s', text('b'), 1000)).toBe(2);
    expect(await e.append('s', text('c'), 1000)).toBe('full');
    await e.ack('s', 1);
    expect(await e.append('s', text('c'), 1000)).toBe(3);
  });

  it('keeps subscriptions with the session and deletes everything with it', async () => {
    const e = engine();
    await e.createSession('s', init, 60_000);
    await e.subscribe('s', 'news', 4);
    await e.subscribe('s', 'news', 9);
    await e.subscribe('s', 'a:b', 0);
    expect((await e.getSession('s'))!.topics).toEqual({ news: 4, 'a:b': 0 });
    await e.unsubscribe('s', 'a:b');
    expect((await e.getSession('s'))!.topics).toEqual({ news: 4 });
    await e.subscribe('gone', 'news', 0);
    expect(await e.getSession('gone')).toBeNull();
    await e.append('s', text('x'), 100);
    await e.deleteSession('s');
    expect(await e.getSession('s')).toBeNull();
    await expect(e.read('s', 0, 10)).rejects.toMatchObject({ code: 'SESSION_LOST' });
    await expect(e.setReceived('s', 1)).rejects.toBeInstanceOf(RedisEngineError);
  });

  it('expires an idle session, its log too, and touch pushes the expiry', async () => {
    const e = engine();
    await e.createSession('t', init, 200);
    await e.append('t', text('x'), 100);
    await e.touch('t', 60_000);
    await e.createSession('u', init, 150);
    await e.append('u', text('y'), 100);
    await until('expiry', async () => (await e.getSession('u')) === null);
    expect(await e.getSession('t')).not.toBeNull();
    const c = createClient({ url: redis.url });
    await c.connect();
    expect(await c.exists([`t${n}:s:{u}`, `t${n}:s:{u}:log`])).toBe(0);
    expect(await c.pTTL(`t${n}:s:{t}:log`)).toBeGreaterThan(1000);
    await c.close();
  });

  it('numbers topic messages, trims the log with MAXLEN ~ and reports first/head/epoch', async () => {
    const e = engine({ topicMaxEntries: 10 });
    const empty = await e.topic('news');
    expect(empty).toMatchObject({ first: 1, head: 0 });
    for (let i = 1; i <= 500; i++) expect(await e.publish('news', text(`n${i}`))).toBe(i);
    const info = await e.topic('news');
    expect(info.epoch).toBe(empty.epoch);
    expect(info.head).toBe(500);
    // Approximate trimming keeps whole nodes: more than 10, far fewer than 500.
    expect(info.first).toBeGreaterThan(300);
    expect(info.first).toBeLessThanOrEqual(491);
    const tail = await e.readTopic('news', 495, 100);
    expect(tail.map((x) => Buffer.from(x.data).toString())).toEqual(['n496', 'n497', 'n498', 'n499', 'n500']);
    expect((await e.readTopic('news', 0, 3))[0]!.seq).toBe(info.first);
    expect(await e.readTopic('never', 0, 10)).toEqual([]);
  });

  it('rings the doorbell on the other instance, once per tick at most', async () => {
    const a = engine();
    const b = redisEngine({ url: redis.url, prefix: `t${n}:` });
    engines.push(b);
    await a.ready();
    await b.ready();
    const heard: Doorbell[] = [];
    const own: Doorbell[] = [];
    b.watch((bell) => heard.push(bell));
    a.watch((bell) => own.push(bell));
    await a.createSession('s', init, 60_000);
    // b's subscription is in place once a bell from a publish reaches it; wait for one.
    await until('b subscribed', async () => {
      await a.publish('warmup', text('w'));
      return heard.length > 0;
    });
    heard.length = 0;
    own.length = 0;
    await Promise.all([a.append('s', text('1'), 100), a.append('s', text('2'), 100), a.publish('news', text('n'))]);
    await until('bells', () => heard.some((x) => 'session' in x) && heard.some((x) => 'topic' in x && x.topic === 'news'));
    // a rang its own listeners at once (for each append), and did not hear its own publish back.
    expect(own).toEqual([{ session: 's' }, { session: 's' }, { topic: 'news' }]);
    expect(heard.filter((x) => 'session' in x)).toEqual([{ session: 's' }]);
  });

  it('while Redis is away: typed errors, the health flag, no ack; back: healthy, new epoch, sessions reset', async () => {
    const own = await RedisServer.start();
    const health: Array<[boolean, string | undefined]> = [];
    const e = redisEngine({ url: own.url, commandTimeoutMs: 300, onHealth: (ok, err) => health.push([ok, err?.code]) });
    try {
      await e.ready();
      const before = await e.epoch();
      await e.createSession('s', init, 60_000);
      await own.stop();
      await until('unhealthy', () => !e.healthy);
      // Known to be down: refused before anything is sent, so certainly not stored.
      await expect(e.append('s', text('x'), 100)).rejects.toMatchObject({ name: 'RedisEngineError', code: 'REDIS_UNAVAILABLE' });
      await expect(e.epoch()).rejects.toBeInstanceOf(RedisEngineError);
      expect(e.healthy).toBe(false);
      await own.restart();
      // ready() waits commandTimeoutMs at most; the client's reconnect backoff may take longer.
      await until('reconnected', () => e.ready().then(() => true, () => false));
      expect(e.healthy).toBe(true);
      // No persistence: Redis came back empty, so the epoch moved and the session is gone.
      expect(await e.epoch()).not.toBe(before);
      expect(await e.getSession('s')).toBeNull();
      expect(health[0]).toEqual([true, undefined]);
      expect(health.some(([ok, code]) => !ok && code === 'REDIS_UNAVAILABLE')).toBe(true);
      expect(health.at(-1)).toEqual([true, undefined]);
    } finally {
      await e.close();
      await own.stop();
    }
  });

  it('works on a client the app owns, and leaves it open', async () => {
    const c = createClient({ url: redis.url });
    await c.connect();
    const e = redisEngine({ client: c, prefix: `t${++n}:` });
    await e.createSession('s', init, 60_000);
    expect(await e.append('s', text('x'), 10)).toBe(1);
    await e.close();
    expect(c.isReady).toBe(true);
    expect(await c.exists(`t${n}:s:{s}:log`)).toBe(1);
    await c.close();
  });
});
