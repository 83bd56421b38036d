/**
 * The storage behind the server companion: sessions (inbound position, outbound log, topic
 * subscriptions) and topic logs. The protocol code (src/server/index.ts) talks to storage only
 * through this interface, so an engine on another store (Redis Streams, issue 17) replaces
 * `memoryEngine()` without touching the protocol.
 *
 * Rules every engine follows:
 * - Every method may be async; the protocol awaits each one and never acknowledges a message
 *   before the call that stored it resolved.
 * - Numbers are safe integers. Session sequence numbers and topic offsets start at 1 and grow
 *   by 1; 0 means "nothing yet".
 * - `watch` is a doorbell, not a data feed: it says "something was appended to this session
 *   or topic", and the protocol reads the log itself. A lost or repeated doorbell costs a
 *   read, never a message, so an at-most-once pub/sub is good enough to carry it.
 * - An engine never sees a resume token: the protocol stores only its SHA-256 (`tokenHash`).
 *
 * @example
 * ```ts
 * import { attach, memoryEngine } from 'resilient-ws/server';
 * attach(wss, { engine: memoryEngine({ topicMaxEntries: 500 }) });
 * ```
 */
export interface Engine {
  /**
   * The storage generation. It changes when the stored sessions are gone (a memory engine in a
   * new process, a flushed Redis): a client presenting another epoch is `reset` at once.
   */
  epoch(): Promise<string>;
  /** Stores a new, empty session that expires `ttlMs` from now unless touched. */
  createSession(id: string, init: SessionInit, ttlMs: number): Promise<void>;
  /** The session, or `null` when it is unknown or expired. */
  getSession(id: string): Promise<SessionRecord | null>;
  /** Pushes the session's expiry to `ttlMs` from now. No-op for an unknown session. */
  touch(id: string, ttlMs: number): Promise<void>;
  /** Forgets the session, its log and its subscriptions. */
  deleteSession(id: string): Promise<void>;
  /** Stores the highest contiguous sequence number delivered from the client. */
  setReceived(id: string, seq: number): Promise<void>;
  /**
   * Appends an outbound message and returns its sequence number; `'full'` when the session's
   * unacknowledged bytes would pass `maxBytes` (nothing stored); `null` for an unknown session.
   */
  append(id: string, message: Payload, maxBytes: number): Promise<number | 'full' | null>;
  /** The client has everything up to `seq`: trims the outbound log. */
  ack(id: string, seq: number): Promise<void>;
  /** Outbound messages with a sequence number above `afterSeq`, oldest first, at most `limit`. */
  read(id: string, afterSeq: number, limit: number): Promise<LogEntry[]>;
  /** Subscribes the session to `topic` from offset `from` (exclusive). Idempotent. */
  subscribe(id: string, topic: string, from: number): Promise<void>;
  /** Removes the subscription. */
  unsubscribe(id: string, topic: string): Promise<void>;
  /** Appends to the topic's log and returns the offset. */
  publish(topic: string, message: Payload): Promise<number>;
  /** The topic's position: its epoch, the oldest offset still kept, the newest one. */
  topic(topic: string): Promise<TopicInfo>;
  /** Topic messages with an offset above `afterOffset`, oldest first, at most `limit`. */
  readTopic(topic: string, afterOffset: number, limit: number): Promise<LogEntry[]>;
  /** Rings on every append to a session's log or a topic's, from any instance. */
  watch(listener: (bell: Doorbell) => void): () => void;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** One application message as stored: its bytes and whether it travels as a binary frame. */
export interface Payload {
  readonly data: Uint8Array;
  readonly binary: boolean;
}

/** A stored message with its number (a session sequence number or a topic offset). */
export interface LogEntry extends Payload {
  readonly seq: number;
}

/** What a new session starts with. */
export interface SessionInit {
  /** SHA-256 of the secret part of the resume token (hex). */
  readonly tokenHash: string;
  /** The `owner(req)` key of the connection that created it, if the server set one. */
  readonly owner: string | undefined;
}

/** A session as stored. */
export interface SessionRecord extends SessionInit {
  /** The highest contiguous sequence number delivered from the client. */
  readonly received: number;
  /** The newest outbound sequence number assigned (0 when none). */
  readonly sent: number;
  /** The newest outbound sequence number the client acknowledged. */
  readonly acked: number;
  /** Subscribed topics, each with the offset delivery starts after. */
  readonly topics: Readonly<Record<string, number>>;
}

/** A topic's position. `first` is the oldest kept offset (`head + 1` when the log is empty). */
export interface TopicInfo {
  readonly epoch: string;
  readonly first: number;
  readonly head: number;
}

/** What `watch` reports: an append to one session's log or to one topic's. */
export type Doorbell = { readonly session: string } | { readonly topic: string };
