import { randomBytes } from 'node:crypto';
import type { Doorbell, Engine, LogEntry, Payload, SessionInit, SessionRecord, TopicInfo } from './engine.js';

/** Options of {@link memoryEngine}. */
export interface MemoryEngineOptions {
  /** Messages kept per topic for replay; older ones are trimmed. Default 1000. */
  topicMaxEntries?: number;
  /** Bytes kept per topic for replay; the oldest messages go first. Default 1 MiB. */
  topicMaxBytes?: number;
  /** How often expired sessions are swept, in ms. Default 10 000. */
  sweepIntervalMs?: number;
}

/**
 * A log of consecutive numbers in an array whose front is trimmed in place: the head index
 * moves, and the array is compacted only when the dead front outgrows the live part, so
 * trimming is amortized O(1) per entry.
 */
class Log {
  #items: LogEntry[] = [];
  #start = 0;
  bytes = 0;

  get length(): number {
    return this.#items.length - this.#start;
  }

  push(entry: LogEntry): void {
    this.#items.push(entry);
    this.bytes += entry.data.byteLength;
  }

  /** The oldest entry, if any. */
  first(): LogEntry | undefined {
    return this.#items[this.#start];
  }

  /** Drops the oldest entry. */
  shift(): void {
    const e = this.#items[this.#start];
    if (!e) return;
    this.bytes -= e.data.byteLength;
    this.#start++;
    if (this.#start > 1024 && this.#start * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#start);
      this.#start = 0;
    }
  }

  /** Entries with a number above `after`, at most `limit`. */
  after(after: number, limit: number): LogEntry[] {
    const head = this.first();
    if (!head) return [];
    const from = this.#start + Math.max(0, after + 1 - head.seq);
    return this.#items.slice(from, Math.min(this.#items.length, from + limit));
  }
}

interface MemSession {
  readonly tokenHash: string;
  readonly owner: string | undefined;
  received: number;
  sent: number;
  acked: number;
  readonly log: Log;
  readonly topics: Record<string, number>;
  expiresAt: number;
}

interface MemTopic {
  readonly log: Log;
  head: number;
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`memoryEngine: ${name} must be a positive integer, got ${String(value)}`);
  return value;
};

/**
 * The default engine: everything in this process's memory. Nothing to install; sessions and
 * topics do not survive a restart (the new process has a new epoch, so clients are `reset`).
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { attach, memoryEngine } from 'resilient-ws/server';
 * const rel = attach(new WebSocketServer({ port: 8080 }), { engine: memoryEngine() });
 * ```
 */
export function memoryEngine(options: MemoryEngineOptions = {}): Engine {
  const topicMaxEntries = positive('topicMaxEntries', options.topicMaxEntries, 1000);
  const topicMaxBytes = positive('topicMaxBytes', options.topicMaxBytes, 1 << 20);
  const sweepIntervalMs = positive('sweepIntervalMs', options.sweepIntervalMs, 10_000);
  const epoch = randomBytes(9).toString('base64url');
  const sessions = new Map<string, MemSession>();
  const topics = new Map<string, MemTopic>();
  const listeners = new Set<(bell: Doorbell) => void>();

  const live = (id: string): MemSession | undefined => {
    const s = sessions.get(id);
    if (s && s.expiresAt <= Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    return s;
  };
  const sweep = (): void => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.expiresAt <= now) sessions.delete(id);
  };
  // unref: an idle engine must not keep the process alive.
  const sweeper = setInterval(sweep, sweepIntervalMs);
  sweeper.unref?.();

  const ring = (bell: Doorbell): void => {
    for (const l of listeners) l(bell);
  };
  const topicOf = (name: string): MemTopic => {
    let t = topics.get(name);
    if (!t) topics.set(name, (t = { log: new Log(), head: 0 }));
    return t;
  };

  return {
    epoch: async () => epoch,
    async createSession(id: string, init: SessionInit, ttlMs: number) {
      sessions.set(id, {
        tokenHash: init.tokenHash,
        owner: init.owner,
        received: 0,
        sent: 0,
        acked: 0,
        log: new Log(),
        topics: Object.create(null) as Record<string, number>,
        expiresAt: Date.now() + ttlMs,
      });
    },
    async getSession(id: string): Promise<SessionRecord | null> {
      const s = live(id);
      if (!s) return null;
      return { tokenHash: s.tokenHash, owner: s.owner, received: s.received, sent: s.sent, acked: s.acked, topics: { ...s.topics } };
    },
    async touch(id: string, ttlMs: number) {
      const s = live(id);
      if (s) s.expiresAt = Date.now() + ttlMs;
    },
    async deleteSession(id: string) {
      sessions.delete(id);
    },
    async setReceived(id: string, seq: number) {
      const s = live(id);
      if (s && seq > s.received) s.received = seq;
    },
    async append(id: string, message: Payload, maxBytes: number) {
      const s = live(id);
      if (!s) return null;
      if (s.log.bytes + message.data.byteLength > maxBytes) return 'full';
      const seq = ++s.sent;
      s.log.push({ seq, data: message.data, binary: message.binary });
      ring({ session: id });
      return seq;
    },
    async ack(id: string, seq: number) {
      const s = live(id);
      if (!s || seq <= s.acked) return;
      s.acked = Math.min(seq, s.sent);
      for (let e = s.log.first(); e && e.seq <= s.acked; e = s.log.first()) s.log.shift();
    },
    async read(id: string, afterSeq: number, limit: number) {
      return live(id)?.log.after(afterSeq, limit) ?? [];
    },
    async subscribe(id: string, topic: string, from: number) {
      const s = live(id);
      if (s && !(topic in s.topics)) s.topics[topic] = from;
    },
    async unsubscribe(id: string, topic: string) {
      const s = live(id);
      if (s) delete s.topics[topic];
    },
    async publish(name: string, message: Payload) {
      const t = topicOf(name);
      const seq = ++t.head;
      t.log.push({ seq, data: message.data, binary: message.binary });
      while (t.log.length > topicMaxEntries || (t.log.bytes > topicMaxBytes && t.log.length > 1)) t.log.shift();
      ring({ topic: name });
      return seq;
    },
    async topic(name: string): Promise<TopicInfo> {
      const t = topics.get(name);
      if (!t) return { epoch, first: 1, head: 0 };
      return { epoch, first: t.log.first()?.seq ?? t.head + 1, head: t.head };
    },
    async readTopic(name: string, afterOffset: number, limit: number) {
      return topics.get(name)?.log.after(afterOffset, limit) ?? [];
    },
    watch(listener: (bell: Doorbell) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      clearInterval(sweeper);
      listeners.clear();
    },
  };
}
