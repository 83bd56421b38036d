import { createHash, randomBytes } from 'node:crypto';
import type { Doorbell, Engine, LogEntry, Payload, SessionInit, SessionRecord, TopicInfo } from './engine.js';

/**
 * The part of a node-redis (v5 or later) client the engine uses. A client from `createClient()`
 * fits; the type is structural so the engine's declarations do not depend on the `redis` package.
 */
export interface RedisClientLike {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  connect(): Promise<unknown>;
  duplicate(): RedisClientLike;
  sendCommand(args: ReadonlyArray<string | Buffer>, options?: { typeMapping?: Record<number, unknown> }): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  close?(): Promise<unknown>;
  destroy(): unknown;
}

/** Options of {@link redisEngine}. Give exactly one of `client` and `url`. */
export interface RedisEngineOptions {
  /**
   * A node-redis client. The engine connects it if it is not open yet, adds an `'error'`
   * listener (so a lost connection never throws), and never closes it; it opens one more
   * connection, a `duplicate()`, for the doorbell's pub/sub.
   */
  client?: RedisClientLike;
  /** A Redis URL (`redis://host:6379/0`): the engine creates its own clients and closes them in `close()`. */
  url?: string;
  /** Prefix of every key and of the pub/sub channel, so several apps can share one Redis. Default `'rws:'`. */
  prefix?: string;
  /** Messages kept per topic for replay (`XADD … MAXLEN ~`, so a little more may be kept). Default 1000. */
  topicMaxEntries?: number;
  /**
   * Unacknowledged messages per session; one more evicts the session like `maxBufferBytes`
   * does, so a flood of tiny messages cannot grow a log past what the byte cap suggests. Default 100 000.
   */
  sessionMaxEntries?: number;
  /**
   * A call fails with `REDIS_UNAVAILABLE` if Redis is not connected within this many ms, or with
   * `REDIS_NO_REPLY` if it does not answer within it. Default 2000.
   */
  commandTimeoutMs?: number;
  /** Called when the engine's health changes: `false` with the error that showed it, `true` once Redis answers again. */
  onHealth?: (healthy: boolean, error: RedisEngineError | undefined) => void;
}

/** What a Redis engine adds to {@link Engine}. */
export interface RedisEngine extends Engine {
  /** Whether Redis is connected and the last call succeeded. */
  readonly healthy: boolean;
  /** Resolves once Redis is connected (at most `commandTimeoutMs` later, or rejects). */
  ready(): Promise<void>;
}

/**
 * An error of the Redis engine, by what it says about the call:
 * - `REDIS_UNAVAILABLE`: not connected, the call was not made: nothing was stored, a retry is safe.
 * - `REDIS_NO_REPLY`: the call went out and no reply came back (timed out, or the connection
 *   dropped meanwhile): it may have been applied. Nothing was acknowledged for it, but a
 *   `send()` retried after this can reach the client twice, under two sequence numbers.
 * - `REDIS_ERROR`: Redis refused the call (out of memory, a wrong key type): nothing was stored.
 * - `SESSION_LOST`: a live session's keys are gone (Redis lost its data or evicted them); the
 *   companion closes its connection and the client's next hello ends in `reset`.
 * - `CLOSED`: the engine was closed.
 *
 * @example
 * ```ts
 * redisEngine({ url, onHealth: (ok, err) => metrics.gauge('redis_ok', ok ? 1 : 0, err?.code) });
 * ```
 */
export class RedisEngineError extends Error {
  override readonly name = 'RedisEngineError' as const;
  constructor(
    readonly code: 'REDIS_UNAVAILABLE' | 'REDIS_NO_REPLY' | 'REDIS_ERROR' | 'SESSION_LOST' | 'CLOSED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// Key layout, for prefix P (all keys of one session, or of one topic, share a hash tag):
//   P epoch                 string  the storage generation
//   P s:{id}                hash    h token hash, o owner, r received, n sent, a acked,
//                                   b unacked bytes, c unacked count, t:<topic> start offset
//   P s:{id}:log            stream  outbound messages, entry id `<seq>-0`, one field:
//                                   `t` (text) or `b` (binary) → the bytes
//   P t:{name}              hash    e topic epoch, h head offset
//   P t:{name}:log          stream  topic messages, entry id `<offset>-0`, like the session log
//   P bell                  channel the doorbell: "<instance> s<id> t<topic> …"
// A session's hash and log carry the same TTL, pushed on every touch. The log is trimmed
// exactly (XTRIM MINID) on ack and deleted when empty: an approximate MAXLEN trim would drop
// unacknowledged messages, which is losing them quietly. Topic logs use MAXLEN ~.

const EPOCH = `local e = redis.call('GET', KEYS[1])
if not e then redis.call('SET', KEYS[1], ARGV[1]); e = ARGV[1] end
return e`;

const CREATE = `redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'r', 0, 'n', 0, 'a', 0, 'b', 0, 'c', 0)
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'o', string.sub(ARGV[3], 2)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const GET = `return redis.call('HGETALL', KEYS[1])`;

const TOUCH = `if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return 1`;

const SET_RECEIVED = `local r = redis.call('HGET', KEYS[1], 'r')
if not r then return -1 end
if tonumber(ARGV[1]) > tonumber(r) then redis.call('HSET', KEYS[1], 'r', ARGV[1]) end
return 0`;

// → the new sequence number, -1 unknown session, -2 full.
const APPEND = `local ttl = redis.call('PTTL', KEYS[1])
if ttl == -2 then return -1 end
local s = redis.call('HMGET', KEYS[1], 'b', 'c')
local len = string.len(ARGV[2])
if tonumber(s[1]) + len > tonumber(ARGV[3]) or tonumber(s[2]) >= tonumber(ARGV[4]) then return -2 end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HINCRBY', KEYS[1], 'b', len)
redis.call('HINCRBY', KEYS[1], 'c', 1)
redis.call('XADD', KEYS[2], string.format('%d-0', n), ARGV[1], ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return n`;

const ACK = `local s = redis.call('HMGET', KEYS[1], 'a', 'n')
if not s[1] then return 0 end
local seq = math.min(tonumber(ARGV[1]), tonumber(s[2]))
if seq <= tonumber(s[1]) then return 0 end
local gone = redis.call('XRANGE', KEYS[2], '-', string.format('%d', seq))
local bytes = 0
for i = 1, #gone do bytes = bytes + string.len(gone[i][2][2]) end
redis.call('HSET', KEYS[1], 'a', string.format('%d', seq))
redis.call('HINCRBY', KEYS[1], 'b', -bytes)
redis.call('HINCRBY', KEYS[1], 'c', -#gone)
redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', seq + 1))
if redis.call('XLEN', KEYS[2]) == 0 then redis.call('DEL', KEYS[2]) end
return #gone`;

// An empty read of a session that no longer exists is a lost session, not an empty log.
const READ = `local r = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
if #r == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return r`;

const SUBSCRIBE = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

const PUBLISH = `redis.call('HSETNX', KEYS[1], 'e', ARGV[3])
local n = redis.call('HINCRBY', KEYS[1], 'h', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], string.format('%d-0', n), ARGV[1], ARGV[2])
return n`;

const TOPIC = `redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
local t = redis.call('HMGET', KEYS[1], 'e', 'h')
local head = tonumber(t[2] or '0')
local f = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
local first = head + 1
if #f > 0 then first = tonumber(string.match(f[1][1], '^%d+')) end
return {t[1], first, head}`;

/** A Lua script and its SHA-1. */
class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
}

const scripts = { EPOCH, CREATE, GET, TOUCH, SET_RECEIVED, APPEND, ACK, READ, SUBSCRIBE, PUBLISH, TOPIC };
const S = Object.fromEntries(Object.entries(scripts).map(([k, v]) => [k, new Script(v)])) as Record<keyof typeof scripts, Script>;

/** node-redis's RESP type code for bulk strings (`$`): mapped to Buffer where payloads come back. */
const BLOB_STRING = 36;
const AS_BUFFERS = { typeMapping: { [BLOB_STRING]: Buffer } };

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`redisEngine: ${name} must be a positive integer, got ${String(value)}`);
  return value;
};

const entries = (reply: unknown): LogEntry[] => {
  const out: LogEntry[] = [];
  for (const e of reply as Array<[Buffer, [Buffer, Buffer]]>) {
    const [id, [field, data]] = e;
    out.push({ seq: parseInt(id.toString('latin1'), 10), binary: field[0] === 0x62, data });
  }
  return out;
};

/** Names in an error's class chain: node-redis's classes are not imported (the package is optional). */
const classes = (err: unknown): string[] => {
  const out: string[] = [];
  for (let p = err === null || typeof err !== 'object' ? null : Object.getPrototypeOf(err); p && p !== Error.prototype; p = Object.getPrototypeOf(p)) {
    out.push((p as { constructor: { name: string } }).constructor.name);
  }
  return out;
};
/** What a node-redis failure says about the call: refused by Redis, never sent, or unknown. */
const outcome = (err: unknown): 'REDIS_ERROR' | 'REDIS_UNAVAILABLE' | 'REDIS_NO_REPLY' => {
  const chain = classes(err);
  if (chain.includes('ErrorReply')) return 'REDIS_ERROR';
  if (chain.includes('ClientOfflineError') || chain.includes('ClientClosedError')) return 'REDIS_UNAVAILABLE';
  return 'REDIS_NO_REPLY';
};

const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v));

/**
 * An engine on Redis, so several server instances share sessions and topics: a client whose
 * next connection lands on another instance resumes there, and an instance that crashes loses
 * nothing that was acknowledged. Needs Redis 6.2 or later and the `redis` package (node-redis 5
 * or later, an optional peer dependency). One stream per session and per topic; live fan-out
 * between instances by a pub/sub doorbell; nothing sticky needed from the load balancer.
 *
 * While Redis is unreachable, calls fail with a {@link RedisEngineError} and `healthy` is false:
 * the companion closes the connections that needed storage (and every new one) with close code
 * 4495, and clients retry with backoff and resume when Redis is back. If Redis came back empty
 * (no persistence), the epoch changed and clients are `reset`.
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { attach, redisEngine } from 'resilient-ws/server';
 *
 * const engine = redisEngine({ url: process.env.REDIS_URL, onHealth: (ok) => console.log('redis', ok) });
 * const rel = attach(new WebSocketServer({ port: 8080 }), { engine });
 * ```
 */
export function redisEngine(options: RedisEngineOptions): RedisEngine {
  if ((options.client === undefined) === (options.url === undefined)) throw new TypeError('redisEngine: give exactly one of `client` and `url`');
  if (options.url !== undefined && typeof options.url !== 'string') throw new TypeError('redisEngine: `url` must be a string');
  const prefix = options.prefix ?? 'rws:';
  if (typeof prefix !== 'string') throw new TypeError('redisEngine: `prefix` must be a string');
  const topicMax = positive('topicMaxEntries', options.topicMaxEntries, 1000);
  const sessionMax = positive('sessionMaxEntries', options.sessionMaxEntries, 100_000);
  const timeout = positive('commandTimeoutMs', options.commandTimeoutMs, 2000);
  const instance = randomBytes(6).toString('base64url');
  const epochKey = `${prefix}epoch`;
  const channel = `${prefix}bell`;
  const sKey = (id: string): string => `${prefix}s:{${id}}`;
  const tKey = (name: string): string => `${prefix}t:{${name}}`;

  const owned = options.client === undefined;
  let client: RedisClientLike | undefined = options.client;
  let sub: RedisClientLike | undefined;
  let closed = false;
  let healthy = false;
  const listeners = new Set<(bell: Doorbell) => void>();
  const waiters = new Set<() => void>();
  /** Bells to publish at the end of this tick, coalesced. */
  const outgoing = new Set<string>();
  let flushing = false;
  /**
   * Sessions and topics this instance read lately (its live connections): after the doorbell's
   * connection comes back, each gets a bell, since any bell sent meanwhile was lost.
   */
  const recentSessions = new Map<string, number>();
  const recentTopics = new Map<string, true>();

  const setHealth = (ok: boolean, error?: RedisEngineError): void => {
    if (ok === healthy) return;
    healthy = ok;
    try {
      options.onHealth?.(ok, error);
    } catch {
      // A throwing health callback must not turn into a storage failure.
    }
  };
  const onError = (err: unknown): void => {
    if (!closed) setHealth(false, new RedisEngineError('REDIS_UNAVAILABLE', `redis: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
  };
  const onReady = (): void => {
    if (!closed && client?.isReady) setHealth(true);
    for (const w of waiters) w();
    waiters.clear();
  };
  const onDown = (): void => onError(new Error('connection lost'));

  const ring = (bell: Doorbell): void => {
    for (const l of listeners) {
      try {
        l(bell);
      } catch {
        // A listener is the protocol's pump trigger; its failure is its own to report.
      }
    }
  };
  const ringAll = (): void => {
    for (const session of recentSessions.keys()) ring({ session });
    for (const topic of recentTopics.keys()) ring({ topic });
  };
  const noteTopic = (name: string): void => {
    recentTopics.delete(name);
    recentTopics.set(name, true);
    if (recentTopics.size > 10_000) recentTopics.delete(recentTopics.keys().next().value!);
  };

  const flushBells = (): void => {
    flushing = false;
    if (outgoing.size === 0 || !client?.isReady) return outgoing.clear();
    const message = `${instance} ${[...outgoing].join(' ')}`;
    outgoing.clear();
    // At most once: a lost bell costs the other instances a read on their next bell or reconnect.
    client.sendCommand(['PUBLISH', channel, message]).catch(() => undefined);
  };
  const announce = (bell: Doorbell): void => {
    ring(bell);
    outgoing.add('session' in bell ? `s${bell.session}` : `t${bell.topic}`);
    if (!flushing) {
      flushing = true;
      setImmediate(flushBells);
    }
  };
  const hear = (message: string): void => {
    const parts = message.split(' ');
    if (parts[0] === instance) return;
    for (let i = 1; i < parts.length; i++) {
      const p = parts[i]!;
      if (p[0] === 's') ring({ session: p.slice(1) });
      else if (p[0] === 't') ring({ topic: p.slice(1) });
    }
  };

  // Without an 'error' listener node-redis's EventEmitter would throw and end the process. The
  // health flag follows the command connection; the doorbell's only rings everyone on return.
  const quiet = (): void => undefined;
  const wire = (c: RedisClientLike, isSub: boolean): void => {
    if (isSub) {
      c.on('error', quiet);
      c.on('ready', ringAll);
      return;
    }
    c.on('error', onError);
    c.on('end', onDown);
    c.on('reconnecting', onDown);
    c.on('ready', onReady);
  };

  const start = async (): Promise<void> => {
    if (!client) {
      const { createClient } = await import('redis');
      client = createClient({ url: options.url, disableOfflineQueue: true, pingInterval: 5000 }) as unknown as RedisClientLike;
    }
    if (closed) return;
    wire(client, false);
    if (!client.isOpen) await client.connect();
    else if (client.isReady) onReady();
    if (closed) return;
    sub = client.duplicate();
    wire(sub, true);
    await sub.connect();
    await sub.subscribe(channel, hear);
  };
  const started = start().catch(onError);

  const whenReady = (): Promise<RedisClientLike> => {
    if (closed) return Promise.reject(new RedisEngineError('CLOSED', 'redisEngine: closed'));
    if (client?.isReady) return Promise.resolve(client);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        if (client?.isReady && !closed) resolve(client);
        else reject(new RedisEngineError(closed ? 'CLOSED' : 'REDIS_UNAVAILABLE', closed ? 'redisEngine: closed' : `redis: not connected within ${timeout} ms`));
      };
      const timer = setTimeout(done, timeout);
      waiters.add(done);
    });
  };

  /** Runs one command with a deadline; every failure becomes a RedisEngineError and lowers the health flag. */
  const exec = async (send: (c: RedisClientLike) => Promise<unknown>): Promise<unknown> => {
    const c = await whenReady().catch((err: RedisEngineError) => {
      if (err.code !== 'CLOSED') setHealth(false, err);
      throw err;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const reply = await Promise.race([
        send(c),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RedisEngineError('REDIS_NO_REPLY', `redis: no answer within ${timeout} ms`)), timeout);
        }),
      ]);
      setHealth(true);
      return reply;
    } catch (err) {
      const e = err instanceof RedisEngineError ? err : new RedisEngineError(outcome(err), `redis: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      setHealth(false, e);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };
  const command = (args: string[], buffers = false): Promise<unknown> => exec((c) => c.sendCommand(args, buffers ? AS_BUFFERS : undefined));
  /** Runs a script by its SHA-1, loading it again when Redis forgot it (a restart, SCRIPT FLUSH). */
  const run = (script: Script, keys: string[], args: Array<string | Buffer>, buffers = false): Promise<unknown> =>
    exec(async (c) => {
      const opts = buffers ? AS_BUFFERS : undefined;
      try {
        return await c.sendCommand(['EVALSHA', script.sha, String(keys.length), ...keys, ...args], opts);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return c.sendCommand(['EVAL', script.source, String(keys.length), ...keys, ...args], opts);
      }
    });

  // Forget interest in sessions nobody touched for a while (their connections are gone).
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [id, until] of recentSessions) if (until < now) recentSessions.delete(id);
  }, 30_000);
  sweeper.unref?.();

  const lost = (id: string): RedisEngineError => new RedisEngineError('SESSION_LOST', `redis: session ${id} is gone (expired, evicted or Redis lost its data)`);
  const field = (m: Payload): string => (m.binary ? 'b' : 't');
  const bytes = (m: Payload): Buffer => (Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));

  return {
    get healthy() {
      return healthy;
    },
    async ready() {
      await started;
      await whenReady();
    },
    async epoch() {
      return text(await run(S.EPOCH, [epochKey], [randomBytes(9).toString('base64url')]));
    },
    async createSession(id: string, init: SessionInit, ttlMs: number) {
      const k = sKey(id);
      // The owner is sent with a leading '=' so that an empty owner stays distinct from none.
      await run(S.CREATE, [k, `${k}:log`], [init.tokenHash, String(ttlMs), init.owner === undefined ? '' : `=${init.owner}`]);
      recentSessions.set(id, Date.now() + 2 * ttlMs);
    },
    async getSession(id: string): Promise<SessionRecord | null> {
      const flat = (await run(S.GET, [sKey(id)], [])) as unknown[];
      if (!Array.isArray(flat) || flat.length === 0) return null;
      const h: Record<string, string> = {};
      const topics: Record<string, number> = Object.create(null) as Record<string, number>;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const k = text(flat[i]);
        const v = text(flat[i + 1]);
        if (k.startsWith('t:')) topics[k.slice(2)] = Number(v);
        else h[k] = v;
      }
      if (h.h === undefined) return null;
      return { tokenHash: h.h, owner: h.o, received: Number(h.r ?? 0), sent: Number(h.n ?? 0), acked: Number(h.a ?? 0), topics };
    },
    async touch(id: string, ttlMs: number) {
      const k = sKey(id);
      recentSessions.set(id, Date.now() + 2 * ttlMs);
      await run(S.TOUCH, [k, `${k}:log`], [String(ttlMs)]);
    },
    async deleteSession(id: string) {
      const k = sKey(id);
      recentSessions.delete(id);
      await command(['DEL', k, `${k}:log`]);
    },
    async setReceived(id: string, seq: number) {
      // Throwing here makes the companion close the connection: its session is gone, and
      // acknowledging into nothing would let the client believe the old session goes on.
      if ((await run(S.SET_RECEIVED, [sKey(id)], [String(seq)])) === -1) throw lost(id);
    },
    async append(id: string, message: Payload, maxBytes: number) {
      const k = sKey(id);
      const n = Number(await run(S.APPEND, [k, `${k}:log`], [field(message), bytes(message), String(maxBytes), String(sessionMax)]));
      if (n === -1) return null;
      if (n === -2) return 'full';
      announce({ session: id });
      return n;
    },
    async ack(id: string, seq: number) {
      const k = sKey(id);
      await run(S.ACK, [k, `${k}:log`], [String(seq)]);
    },
    async read(id: string, afterSeq: number, limit: number) {
      const k = sKey(id);
      const reply = await run(S.READ, [k, `${k}:log`], [String(afterSeq), String(limit)], true);
      if (reply === -1) throw lost(id);
      if (!recentSessions.has(id)) recentSessions.set(id, Date.now() + 600_000);
      return entries(reply);
    },
    async subscribe(id: string, topic: string, from: number) {
      await run(S.SUBSCRIBE, [sKey(id)], [`t:${topic}`, String(from)]);
    },
    async unsubscribe(id: string, topic: string) {
      await command(['HDEL', sKey(id), `t:${topic}`]);
    },
    async publish(name: string, message: Payload) {
      const k = tKey(name);
      const n = Number(await run(S.PUBLISH, [k, `${k}:log`], [field(message), bytes(message), randomBytes(9).toString('base64url'), String(topicMax)]));
      announce({ topic: name });
      return n;
    },
    async topic(name: string): Promise<TopicInfo> {
      const k = tKey(name);
      noteTopic(name);
      const [epoch, first, head] = (await run(S.TOPIC, [k, `${k}:log`], [randomBytes(9).toString('base64url')])) as [unknown, number, number];
      return { epoch: text(epoch), first: Number(first), head: Number(head) };
    },
    async readTopic(name: string, afterOffset: number, limit: number) {
      noteTopic(name);
      return entries(await command(['XRANGE', `${tKey(name)}:log`, `(${afterOffset}-0`, '+', 'COUNT', String(limit)], true));
    },
    watch(listener: (bell: Doorbell) => void) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      listeners.clear();
      onReady();
      await started;
      const quit = async (c: RedisClientLike | undefined): Promise<void> => {
        if (!c) return;
        try {
          if (c.isReady && c.close) await c.close();
          else c.destroy();
        } catch {
          c.destroy();
        }
      };
      await quit(sub);
      if (owned) await quit(client);
      else if (client) {
        client.off('end', onDown);
        client.off('reconnecting', onDown);
        client.off('ready', onReady);
        client.off('error', onError);
      }
    },
  };
}
