import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Engine, LogEntry, SessionRecord } from './engine.js';
import { memoryEngine } from './memory.js';
import { Kind, PROTOCOL, PROTOCOL_LANES, TOPIC_NAME, decode, decodeLane, encodeAck, encodeData, encodeJson, encodeLane, encodeLaneClose, encodeTopic } from './wire.js';

export type { Doorbell, Engine, LogEntry, Payload, SessionInit, SessionRecord, TopicInfo } from './engine.js';
export { memoryEngine, type MemoryEngineOptions } from './memory.js';
export { PROTOCOL, PROTOCOL_LANES } from './wire.js';

/**
 * Close codes the companion uses. The client plug-in retries all of them; a session that
 * cannot continue is answered with a `reset` in the next welcome, never with a close.
 *
 * @example
 * ```ts
 * ws.on('close', (code) => { if (code === CloseCode.TakenOver) console.log('resumed elsewhere'); });
 * ```
 */
export const CloseCode = {
  /** A frame started like an envelope but did not parse (bad header, bad hello JSON). */
  Malformed: 4490,
  /** A number out of range: a sequence number that skips ahead, an ack of what was never sent. */
  OutOfRange: 4491,
  /** No hello first (data before it, a second hello, or none within `helloTimeoutMs`). */
  NoHello: 4492,
  /**
   * The same session was resumed on another connection; this one is stale. On an `rws.v2`
   * connection also the lane close of a lane evicted past `maxLanes`.
   */
  TakenOver: 4493,
  /** The session's unacknowledged bytes passed `maxBufferBytes`: it was dropped (next resume: reset). */
  Evicted: 4494,
  /** The engine failed (storage unreachable); the client retries with backoff. */
  EngineFailed: 4495,
  /**
   * `authenticate` refused the first frame (or threw), or a hello came before it accepted one.
   * 1008 is among `tokenAuth()`'s default `failCodes`: the client fetches a fresh token and retries.
   */
  Unauthenticated: 1008,
  /** `ReliableServer.close()`. */
  ServerClosing: 1001,
} as const;

/** Why a resume became a new session. */
export type ResetReason = 'unknown' | 'epoch' | 'mismatch';

/** What the message handler gets with every application message. */
export interface MessageContext {
  /** The sender's session. */
  readonly session: Session;
  /** Its sequence number, unique in the session (an idempotency key with `session.id`); `undefined` for unnumbered (volatile) messages. */
  readonly seq: number | undefined;
  /** The message came as a binary frame. */
  readonly binary: boolean;
}

/** Options of {@link attach}. */
export interface AttachOptions {
  /** Where sessions and topics live. Default: a `memoryEngine()` owned (and closed) by the companion. */
  engine?: Engine;
  /** A session with no connection is forgotten after this long, in ms. Default 120 000. */
  sessionTtlMs?: number;
  /** Unacknowledged outbound bytes per session before it is evicted. Default 8 MiB. */
  maxBufferBytes?: number;
  /** An inbound message is acknowledged within this many ms (coalesced). Default 20. */
  ackDelayMs?: number;
  /** …or at once after this many unacknowledged inbound messages. Default 64. */
  ackEvery?: number;
  /** Time for the client's hello, in ms. Default 10 000. */
  helloTimeoutMs?: number;
  /**
   * Who a connection belongs to (a user id from your auth). A session is resumed only by a
   * connection with the same owner, so a leaked token is useless to another user.
   */
  owner?: (req: IncomingMessage) => string | undefined;
  /**
   * Each application message, once, in order. Return a promise to hold the next message and
   * the acknowledgement until it settles; a throw or rejection goes to `onError`, and the
   * message still counts as delivered (a retry would replay the same failure).
   */
  onMessage?: (data: Buffer, context: MessageContext) => void | Promise<void>;
  /** A connection got its session: new, resumed, or new after a reset. */
  onSession?: (session: Session, info: { resumed: boolean; reset: ResetReason | undefined; req: IncomingMessage }) => void;
  /** Engine failures and handler errors. Never given a resume token. Default: `console.error`. */
  onError?: (error: Error) => void;
  /**
   * Authentication by a first message (`tokenAuth({ via: 'message' })`, which the client sends
   * on open, before the plug-in's hello). With this option the companion takes one plain
   * (unenveloped) frame before the hello and hands it here; the hello and everything after it
   * wait until the returned promise settles. Return `true` to accept, or a string to accept and
   * make it the connection's owner (used instead of `owner(req)`). Anything else, a throw or a
   * rejection refuses: the connection is closed with 1008 (`CloseCode.Unauthenticated`) unless
   * you closed it yourself (with your own code) first. A hello before an accepted frame is
   * refused the same way; a second plain frame before the hello is closed with 4492. Without
   * this option a plain frame before the hello is closed with 4492, as before. The frame holds
   * a credential: it is never logged or passed to `onError`.
   */
  authenticate?: (data: Buffer, context: { socket: WebSocket; req: IncomingMessage; binary: boolean }) => AuthResult | Promise<AuthResult>;
  /**
   * Accept `rws.v2` connections: one connection carrying several sessions, each in its own lane
   * (the leader tab of `resilient-ws/tabs` multiplexing every tab's `reliable()` session). Each
   * lane is an independent session, exactly as if it had its own `rws.v1` connection: its own
   * hello (or `authenticate` frame), numbering, acks and topics; an error in a lane closes that
   * lane only. With `false` the companion answers such a client with `rws.v1`, as before.
   * Default `true`.
   *
   * @example
   * ```ts
   * attach(wss, { lanes: false }); // one session per connection, even for a tabs leader
   * ```
   */
  lanes?: boolean;
  /**
   * Lanes per `rws.v2` connection. A new lane past it closes the least recently active lane (the
   * one whose last frame is oldest) with 4493 (`CloseCode.TakenOver`). Default 32.
   *
   * @example
   * ```ts
   * attach(wss, { maxLanes: 8 }); // at most 8 tabs share a connection
   * ```
   */
  maxLanes?: number;
}

/**
 * What `authenticate` returns: `true` or an owner to accept, anything else to refuse.
 *
 * @example
 * ```ts
 * attach(wss, {
 *   authenticate: async (data) => (await users.byToken(JSON.parse(data.toString()).token))?.id ?? false,
 * });
 * ```
 */
export type AuthResult = boolean | string | undefined | void;

/** A session's handle, for application code. `id` is public (log it freely); the resume token is not exposed. */
export interface Session {
  /** A public, random id (not the resume token). */
  readonly id: string;
  /** The live connection, if any (on an `rws.v2` connection, the one shared by every lane). */
  readonly socket: WebSocket | undefined;
  /** Sends a numbered, acknowledged message (see {@link ReliableServer.send}). */
  send(data: SendData): Promise<number>;
  /** Subscribes to a topic from its current head. */
  subscribe(topic: string): Promise<void>;
  /** Ends a subscription. */
  unsubscribe(topic: string): Promise<void>;
}

/** What `send` and `publish` take: strings go as text frames, bytes as binary. */
export type SendData = string | Uint8Array | ArrayBuffer;

/** The companion attached to a `WebSocketServer`. */
export interface ReliableServer {
  /** The engine in use. */
  readonly engine: Engine;
  /**
   * Queues `data` for a session, numbered and kept until the client acknowledges it, and
   * resolves with its sequence number once stored. Works while the client is away (delivered
   * on resume). Rejects with `code: 'UNKNOWN_SESSION'` or `'BUFFER_FULL'` (the session is evicted).
   */
  send(sessionId: string, data: SendData): Promise<number>;
  /** Appends to a topic's log and fans out to its live subscribers; resolves with the offset. */
  publish(topic: string, data: SendData): Promise<number>;
  /** Subscribes a session to a topic, from the topic's current head. */
  subscribe(sessionId: string, topic: string): Promise<void>;
  /** Ends a subscription. */
  unsubscribe(sessionId: string, topic: string): Promise<void>;
  /**
   * The session of a live `rws.v1` connection (`undefined` for plain ones and before the hello).
   * An `rws.v2` connection carries one session per lane: this returns one of them (which one is
   * not specified); use `onSession` or `MessageContext.session` to tell the lanes apart.
   */
  sessionOf(socket: WebSocket): Session | undefined;
  /** Detaches from the server: closes `rws.v1` and `rws.v2` connections (1001) and the engine it created. */
  close(): Promise<void>;
}

/** An error of the companion, with a `code`. */
export class ReliableServerError extends Error {
  override readonly name = 'ReliableServerError' as const;
  constructor(
    readonly code: 'UNKNOWN_SESSION' | 'BUFFER_FULL' | 'INVALID_TOPIC' | 'INVALID_DATA' | 'CLOSED',
    message: string,
  ) {
    super(message);
  }
}

const TOKEN = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{22})$/;
const READ_BATCH = 256;
const HIGH_WATER_BYTES = 1 << 20;
const MAX_HELLO_BYTES = 64 * 1024;

/** `rws.v1` or `rws.v2`, alone or followed by `.<app protocol>`. */
const isV2 = (protocol: string): boolean => protocol === PROTOCOL_LANES || protocol.startsWith(`${PROTOCOL_LANES}.`);
const isOurs = (protocol: string): boolean => protocol === PROTOCOL || protocol.startsWith(`${PROTOCOL}.`) || isV2(protocol);

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();

const toBytes = (data: SendData): { data: Uint8Array; binary: boolean } => {
  if (typeof data === 'string') return { data: Buffer.from(data, 'utf8'), binary: false };
  if (data instanceof Uint8Array) return { data, binary: true };
  if (data instanceof ArrayBuffer) return { data: new Uint8Array(data), binary: true };
  throw new ReliableServerError('INVALID_DATA', `send: expected a string, Uint8Array or ArrayBuffer, got ${typeof data}`);
};

const asBuffer = (raw: unknown): Buffer =>
  Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw as Buffer[]) : Buffer.from(raw as ArrayBuffer);

const num = (name: string, value: number | undefined, fallback: number, min: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`attach: ${name} must be an integer ≥ ${min}, got ${String(value)}`);
  return value;
};

/**
 * Where one session's frames go: the connection itself (rws.v1) or one lane of it (rws.v2). The
 * protocol code (`Conn`) writes and closes only through it, so v1 and lanes share one code path.
 */
interface Port {
  /** The WebSocket underneath: its state, `bufferedAmount` and pings are shared by every lane. */
  readonly ws: WebSocket;
  /** Writes one v1 frame (a lane prefixes it; text stays text, binary stays binary). */
  send(frame: string | Buffer, binary: boolean): void;
  /** Ends this session's channel with a code: the connection (v1), or only the lane (v2). */
  close(code: number, reason: string): void;
  /** Ends the whole connection and every session on it (storage failure, server closing, takeover). */
  end(code: number, reason: string): void;
  /** The session let go of its channel: a lane is forgotten, so a later frame for its id starts a new one. */
  release(): void;
}

/** What `onConnection` keeps per socket: a v1 connection's one session, or a v2 connection's lanes. */
interface Link {
  frame(data: Buffer, binary: boolean): void;
  end(code: number, reason: string): void;
  /** The socket closed: every session on it detaches. */
  detach(): void;
  /** A session on it (for `sessionOf`). */
  anyId(): string | undefined;
}

/** The client's hello, validated. */
interface Hello {
  token: string | undefined;
  epoch: string | undefined;
  received: number;
  topics: Map<string, [string, number]>;
}

function parseHello(json: string): Hello | string {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return 'hello is not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'hello is not an object';
  const o = v as Record<string, unknown>;
  if (o.s !== undefined && (typeof o.s !== 'string' || o.s.length > 100)) return 'bad session';
  if (o.e !== undefined && (typeof o.e !== 'string' || o.e.length > 100)) return 'bad epoch';
  const r = o.r ?? 0;
  if (!Number.isSafeInteger(r) || (r as number) < 0) return 'bad received number';
  const topics = new Map<string, [string, number]>();
  if (o.t !== undefined) {
    if (typeof o.t !== 'object' || o.t === null || Array.isArray(o.t)) return 'bad topics';
    for (const [name, pos] of Object.entries(o.t as Record<string, unknown>)) {
      if (!TOPIC_NAME.test(name) || !Array.isArray(pos) || typeof pos[0] !== 'string' || !Number.isSafeInteger(pos[1]) || pos[1] < 0) return 'bad topic position';
      topics.set(name, [pos[0], pos[1] as number]);
    }
    if (topics.size > 10_000) return 'too many topics';
  }
  return { token: o.s as string | undefined, epoch: o.e as string | undefined, received: r as number, topics };
}

/** The reset confirmation `{"b": n}`: the client's first sequence number in the new session. */
function confirmOf(json: string): number | undefined {
  try {
    const b = (JSON.parse(json) as { b?: unknown } | null)?.b;
    return Number.isSafeInteger(b) && (b as number) >= 1 ? (b as number) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Attaches the end-to-end delivery companion to a `ws` `WebSocketServer`. It wraps the server,
 * never replaces it: plain connections are untouched; on connections that chose `rws.v1` the
 * companion reads the envelope, so the socket's own `'message'` listeners see each application
 * message once, unwrapped (and `onMessage` gets it with its session and number). A connection
 * that chose `rws.v2` carries several such sessions, one per lane (see the `lanes` option).
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { attach } from 'resilient-ws/server';
 *
 * const wss = new WebSocketServer({ port: 8080 });
 * const rel = attach(wss, {
 *   onMessage: async (data, { session, seq }) => {
 *     await db.insertOnce(`${session.id}:${seq}`, data); // the idempotency key
 *     await rel.publish('chat', data);
 *   },
 *   onSession: (session) => session.subscribe('chat'),
 * });
 * ```
 */
export function attach(wss: WebSocketServer, options: AttachOptions = {}): ReliableServer {
  const ownEngine = options.engine === undefined;
  const engine = options.engine ?? memoryEngine();
  const cfg = {
    ttl: num('sessionTtlMs', options.sessionTtlMs, 120_000, 1),
    maxBytes: num('maxBufferBytes', options.maxBufferBytes, 8 << 20, 1),
    ackDelay: num('ackDelayMs', options.ackDelayMs, 20, 0),
    ackEvery: num('ackEvery', options.ackEvery, 64, 1),
    helloTimeout: num('helloTimeoutMs', options.helloTimeoutMs, 10_000, 1),
    maxLanes: num('maxLanes', options.maxLanes, 32, 1),
    lanes: options.lanes ?? true,
  };
  if (typeof cfg.lanes !== 'boolean') throw new TypeError(`attach: lanes must be a boolean, got ${String(cfg.lanes as unknown)}`);
  const report = (error: unknown): void => {
    const err = error instanceof Error ? error : new Error(String(error));
    if (options.onError) options.onError(err);
    else console.error('resilient-ws/server:', err.message);
  };
  /** Live connections by session id, and by topic. */
  const live = new Map<string, Conn>();
  const byTopic = new Map<string, Set<Conn>>();
  let closed = false;

  // A fresh handle each time: caching them would keep one object per session ever seen.
  const handle = (id: string): Session => ({
    id,
    get socket() {
      return live.get(id)?.port.ws;
    },
    send: (data) => api.send(id, data),
    subscribe: (topic) => api.subscribe(id, topic),
    unsubscribe: (topic) => api.unsubscribe(id, topic),
  });

  class Conn implements Link {
    id: string | undefined;
    /** Highest contiguous client number delivered; `stored` is what the engine has; `ackSent` what the client was told. */
    received = 0;
    stored = 0;
    ackSent = 0;
    unacked = 0;
    /** Highest outbound number written to this socket, and the client's cumulative ack. */
    sentSeq = 0;
    acked = 0;
    readonly topics = new Map<string, number>();
    #inbox: Array<[Buffer, boolean]> = [];
    /** This connection's session handle, made once (a fresh one per message cost four closures each). */
    #handle: Session | undefined;
    #busy = false;
    /** The handling of the frame in flight (and what queued behind it): a newer connection of the session waits for it. */
    #current: Promise<unknown> = Promise.resolve();
    #pumping = false;
    #again = false;
    #topicPumps = new Set<string>();
    #ackTimer: ReturnType<typeof setTimeout> | undefined;
    #touchTimer: ReturnType<typeof setInterval> | undefined;
    #helloTimer: ReturnType<typeof setTimeout> | undefined;
    #dead = false;
    /** A reset welcome went out and the client has not confirmed it yet. */
    #pending = false;
    /** `authenticate` accepted a frame (or there is no `authenticate`), and the owner it named. */
    #authed = options.authenticate === undefined;
    #owner: string | undefined;

    constructor(
      readonly port: Port,
      readonly req: IncomingMessage,
      readonly deliver: (data: Buffer, binary: boolean) => void,
    ) {
      this.#helloTimer = setTimeout(() => this.kill(CloseCode.NoHello, 'rws: no hello'), cfg.helloTimeout);
      this.#helloTimer.unref?.();
    }

    frame(data: Buffer, binary: boolean): void {
      if (this.#dead) return;
      // The common case, a message handled synchronously, touches neither the inbox nor a promise.
      if (this.#busy) return void this.#inbox.push([data, binary]);
      this.#run(data, binary);
    }

    #run(data: Buffer, binary: boolean): void {
      let pending: Promise<void> | void;
      try {
        pending = this.#frame(data, binary);
      } catch (err) {
        return this.#engineFailed(err);
      }
      if (!pending) return;
      this.#busy = true;
      this.#current = pending.then(
        () => {
          this.#busy = false;
          // Frames that came while this one was pending, in order, until one is pending again.
          while (!this.#busy && !this.#dead && this.#inbox.length > 0) {
            const [d, b] = this.#inbox.shift()!;
            this.#run(d, b);
          }
        },
        (err: unknown) => this.#engineFailed(err),
      );
    }

    #frame(buf: Buffer, binary: boolean): Promise<void> | void {
      const f = decode(buf, binary);
      if (this.id === undefined) {
        // The app closed the socket (a refused credential) while its check ran: read no further.
        if (this.port.ws.readyState !== this.port.ws.OPEN) return;
        if (!this.#authed) {
          if (f.k === 'plain') return this.#authenticate(f.payload, binary);
          return this.kill(CloseCode.Unauthenticated, 'rws: not authenticated');
        }
        if (f.k !== 'hello') return this.kill(CloseCode.NoHello, 'rws: expected hello');
        if (buf.length > MAX_HELLO_BYTES) return this.kill(CloseCode.Malformed, 'rws: hello too large');
        const hello = parseHello(f.json);
        if (typeof hello === 'string') return this.kill(CloseCode.Malformed, `rws: ${hello}`);
        return this.#hello(hello);
      }
      if (this.#pending) {
        // After a reset, everything the client pipelined belongs to the old session: dropped,
        // until the client confirms with the first number it will use in the new one.
        if (f.k !== 'hello') return;
        const b = confirmOf(f.json);
        if (b === undefined) return this.kill(CloseCode.Malformed, 'rws: bad reset confirmation');
        this.#pending = false;
        this.received = this.stored = this.ackSent = b - 1;
        return engine.setReceived(this.id, b - 1).then(() => this.pump());
      }
      switch (f.k) {
        case 'bad':
          return this.kill(CloseCode.Malformed, `rws: ${f.why}`);
        case 'hello':
          return this.kill(CloseCode.NoHello, 'rws: second hello');
        case 'plain':
          return this.#app(f.payload, binary, undefined);
        case 'ack':
          return this.#ack(f.ack);
        case 'data': {
          // A duplicate's piggybacked ack may be from before a reset: ignore it with the frame.
          if (f.seq <= this.received) return this.#scheduleAck(true);
          if (f.ack !== undefined) this.#ack(f.ack);
          if (this.#dead) return;
          if (f.seq !== this.received + 1) return this.kill(CloseCode.OutOfRange, 'rws: sequence gap');
          const pending = this.#app(f.payload, binary, f.seq);
          if (pending) return pending.then(() => this.#delivered(f.seq));
          return this.#delivered(f.seq);
        }
      }
    }

    /** The one frame before the hello that `authenticate` judges; frames after it wait for the verdict. */
    #authenticate(data: Buffer, binary: boolean): Promise<void> | void {
      const verdict = (r: AuthResult): void => {
        if (this.#dead || this.port.ws.readyState !== this.port.ws.OPEN) return;
        if (r !== true && typeof r !== 'string') return this.kill(CloseCode.Unauthenticated, 'rws: not authenticated');
        this.#authed = true;
        if (typeof r === 'string') this.#owner = r;
      };
      const refused = (err: unknown): void => {
        report(err);
        verdict(false);
      };
      let r: AuthResult | Promise<AuthResult>;
      try {
        r = options.authenticate!(data, { socket: this.port.ws, req: this.req, binary });
      } catch (err) {
        return refused(err);
      }
      if (r && typeof r === 'object' && typeof r.then === 'function') return r.then(verdict, refused);
      verdict(r as AuthResult);
    }

    #delivered(seq: number): void {
      this.received = seq;
      // An async handler that settles after the connection went away: store the position now,
      // or the next connection would deliver this message again (setReceived only moves forward).
      if (this.#dead) {
        if (this.id !== undefined && seq > this.stored) void engine.setReceived(this.id, seq).catch(report);
        return;
      }
      this.#scheduleAck(false);
    }

    #app(payload: Buffer, binary: boolean, seq: number | undefined): Promise<void> | void {
      try {
        this.deliver(payload, binary);
      } catch (err) {
        report(err);
      }
      if (!options.onMessage) return;
      try {
        const r = options.onMessage(payload, { session: (this.#handle ??= handle(this.id!)), seq, binary });
        if (r && typeof r.then === 'function') return r.then(undefined, report);
      } catch (err) {
        report(err);
      }
    }

    async #hello(h: Hello): Promise<void> {
      clearTimeout(this.#helloTimer);
      const epoch = await engine.epoch();
      const owner = this.#owner ?? options.owner?.(this.req);
      let reset: ResetReason | undefined;
      let id: string | undefined;
      let token = h.token;
      let rec: SessionRecord | null = null;
      if (token !== undefined) {
        const m = TOKEN.exec(token);
        if (h.epoch !== epoch) reset = 'epoch';
        else if (!m) reset = 'unknown';
        else {
          rec = await engine.getSession(m[1]!);
          const hash = sha256(m[2]!);
          if (!rec || !timingSafeEqual(hash, Buffer.from(rec.tokenHash, 'hex')) || rec.owner !== owner) {
            rec = null;
            reset = 'unknown';
          } else if (h.received > rec.sent || h.received < rec.acked) {
            rec = null;
            reset = 'mismatch';
          } else id = m[1]!;
        }
      }
      if (this.#dead) return;
      if (!rec || id === undefined) {
        id = randomBytes(12).toString('base64url');
        const secret = randomBytes(16).toString('base64url');
        token = `${id}.${secret}`;
        await engine.createSession(id, { tokenHash: sha256(secret).toString('hex'), owner }, cfg.ttl);
        h.received = 0;
      } else {
        this.received = this.stored = this.ackSent = rec.received;
        if (h.received > rec.acked) await engine.ack(id, h.received);
      }
      if (this.#dead) return;
      this.id = id;
      this.sentSeq = this.acked = h.received;
      const old = live.get(id);
      // Another lane of this connection (a tab that reloaded) lets go quietly; another connection
      // is closed as a whole: it is stale (a frozen leader tab), so none of its lanes may write on.
      if (old?.port.ws === this.port.ws) old.detach();
      else old?.end(CloseCode.TakenOver, 'rws: session resumed elsewhere');
      if (old && rec) {
        // The old connection may have delivered more than the engine had when `rec` was read (it
        // stores on acks and when it goes), and may be in a handler still: go on from where it
        // stopped, or what the client re-sends would be delivered twice. (This connection's own
        // frames wait behind this hello.)
        const n = await old.settled();
        if (n > this.received) {
          await engine.setReceived(id, n);
          this.received = this.stored = this.ackSent = n;
        }
        if (this.#dead) return;
        // A third connection of the session said hello meanwhile: it is the newer one.
        if (live.has(id)) return this.kill(CloseCode.TakenOver, 'rws: session resumed elsewhere');
      }
      live.set(id, this);
      const welcome: Record<string, unknown> = { s: token, e: epoch, r: this.received };
      if (reset) {
        welcome.x = reset;
        this.#pending = true;
      }
      this.port.send(encodeJson(Kind.Welcome, welcome), false);
      this.#touchTimer = setInterval(() => engine.touch(id, cfg.ttl).catch(report), Math.max(1, Math.floor(cfg.ttl / 2)));
      this.#touchTimer.unref?.();
      await engine.touch(id, cfg.ttl);
      if (rec) {
        for (const [topic, start] of Object.entries(rec.topics)) {
          const pos = h.topics.get(topic);
          const info = await engine.topic(topic);
          if (pos && pos[0] === info.epoch) this.#follow(topic, Math.max(start, Math.min(pos[1], info.head)));
          else this.#follow(topic, start, info.epoch, pos ? 'epoch' : undefined);
        }
      }
      options.onSession?.(handle(id), { resumed: reset === undefined && rec !== null, reset, req: this.req });
      if (!this.#pending) this.pump();
    }

    /** Starts delivering `topic` after offset `from`; tells the client the topic's epoch and start when given. */
    #follow(topic: string, from: number, epoch?: string, reset?: string): void {
      this.topics.set(topic, from);
      let set = byTopic.get(topic);
      if (!set) byTopic.set(topic, (set = new Set()));
      set.add(this);
      if (epoch !== undefined) this.port.send(encodeJson(Kind.TopicInfo, reset ? { t: topic, e: epoch, o: from, x: reset } : { t: topic, e: epoch, o: from }), false);
      this.pumpTopic(topic);
    }

    subscribed(topic: string, epoch: string, from: number): void {
      if (!this.#dead && !this.topics.has(topic)) this.#follow(topic, from, epoch);
    }

    unsubscribed(topic: string): void {
      this.topics.delete(topic);
      byTopic.get(topic)?.delete(this);
    }

    #ack(ack: number): void {
      if (ack > this.sentSeq) return this.kill(CloseCode.OutOfRange, 'rws: ack beyond sent');
      if (ack <= this.acked) return;
      this.acked = ack;
      engine.ack(this.id!, ack).catch((err: unknown) => this.#engineFailed(err));
    }

    #scheduleAck(duplicate: boolean): void {
      if (duplicate) this.ackSent = Math.min(this.ackSent, this.received - 1);
      if (++this.unacked >= cfg.ackEvery) return void this.#flushAck();
      if (this.#ackTimer === undefined) {
        this.#ackTimer = setTimeout(() => void this.#flushAck(), cfg.ackDelay);
        this.#ackTimer.unref?.();
      }
    }

    async #flushAck(): Promise<void> {
      clearTimeout(this.#ackTimer);
      this.#ackTimer = undefined;
      this.unacked = 0;
      const n = this.received;
      try {
        // Never acknowledge what the engine does not have: after a crash the client re-sends it.
        if (n > this.stored) await engine.setReceived(this.id!, n);
      } catch (err) {
        return this.#engineFailed(err);
      }
      this.stored = Math.max(this.stored, n);
      if (!this.#dead && this.stored > this.ackSent) {
        this.ackSent = this.stored;
        this.port.send(encodeAck(this.stored), false);
      }
    }

    /** Writes the session's log after `sentSeq`, pausing above the high-water mark. */
    pump(): void {
      if (this.#dead || this.id === undefined) return;
      if (this.#pumping) {
        this.#again = true;
        return;
      }
      this.#pumping = true;
      void this.#pumpLoop();
    }

    async #pumpLoop(): Promise<void> {
      try {
        for (;;) {
          this.#again = false;
          const batch: LogEntry[] = await engine.read(this.id!, this.sentSeq, READ_BATCH);
          if (this.#dead) return;
          for (const e of batch) {
            if (e.seq <= this.sentSeq) continue;
            this.sentSeq = e.seq;
            this.port.send(encodeData(e.seq, e.data), e.binary);
          }
          if (this.port.ws.bufferedAmount > HIGH_WATER_BYTES) return this.#whenDrained(() => this.pump());
          if (batch.length < READ_BATCH && !this.#again) return;
        }
      } catch (err) {
        this.#engineFailed(err);
      } finally {
        this.#pumping = false;
      }
    }

    pumpTopic(topic: string): void {
      if (this.#dead || !this.topics.has(topic)) return;
      if (this.#topicPumps.has(topic)) {
        this.#topicPumps.add(`\0${topic}`);
        return;
      }
      this.#topicPumps.add(topic);
      void this.#topicLoop(topic);
    }

    async #topicLoop(topic: string): Promise<void> {
      try {
        for (;;) {
          this.#topicPumps.delete(`\0${topic}`);
          const last = this.topics.get(topic);
          if (last === undefined) return;
          const batch = await engine.readTopic(topic, last, READ_BATCH);
          if (this.#dead || this.topics.get(topic) !== last) return;
          const first = batch[0];
          if (first && first.seq > last + 1) {
            // The client's position fell out of the bounded history: say so, then go on from what is kept.
            const info = await engine.topic(topic);
            this.port.send(encodeJson(Kind.TopicInfo, { t: topic, e: info.epoch, o: first.seq - 1, x: 'trimmed' }), false);
          }
          let at = last;
          for (const e of batch) {
            if (e.seq <= at) continue;
            at = e.seq;
            this.port.send(encodeTopic(e.seq, topic, e.data), e.binary);
          }
          this.topics.set(topic, at);
          if (this.port.ws.bufferedAmount > HIGH_WATER_BYTES) return this.#whenDrained(() => this.pumpTopic(topic));
          if (batch.length < READ_BATCH && !this.#topicPumps.has(`\0${topic}`)) return;
        }
      } catch (err) {
        this.#engineFailed(err);
      } finally {
        this.#topicPumps.delete(topic);
      }
    }

    #whenDrained(again: () => void): void {
      // ws has no drain event; a ping's callback runs once everything before it was written.
      this.port.ws.ping(undefined, undefined, () => setImmediate(again));
    }

    #engineFailed(err: unknown): void {
      report(err);
      this.end(CloseCode.EngineFailed, 'rws: storage unavailable');
    }

    /** Closes this session's channel: the connection (v1) or the lane (v2). */
    kill(code: number, reason: string): void {
      if (this.#dead) return;
      this.port.close(code, reason);
      this.detach();
    }

    /** Closes the whole connection, every lane on it included. */
    end(code: number, reason: string): void {
      if (this.#dead) return;
      this.port.end(code, reason);
      this.detach();
    }

    anyId(): string | undefined {
      return this.id;
    }

    /** Once the frame in flight (if any) was handled: how far this connection delivered. */
    async settled(): Promise<number> {
      await this.#current.catch(() => undefined);
      return this.received;
    }

    detach(): void {
      if (this.#dead) return;
      this.#dead = true;
      this.port.release();
      clearTimeout(this.#helloTimer);
      clearTimeout(this.#ackTimer);
      clearInterval(this.#touchTimer);
      for (const t of this.topics.keys()) byTopic.get(t)?.delete(this);
      const id = this.id;
      if (id !== undefined && live.get(id) === this) {
        live.delete(id);
        const n = this.received;
        // Store what was delivered even if it was not acknowledged yet, so a resume does not replay it.
        void (n > this.stored ? engine.setReceived(id, n) : Promise.resolve())
          .then(() => engine.touch(id, cfg.ttl))
          .catch(report);
      }
    }
  }

  /** A v1 connection is its session's port: what the session writes or closes, it does on the socket. */
  const socketPort = (ws: WebSocket): Port => ({
    ws,
    send: (frame, binary) => ws.send(frame, { binary }),
    close: (code, reason) => ws.close(code, reason),
    end: (code, reason) => ws.close(code, reason),
    release: () => undefined,
  });

  /**
   * An rws.v2 connection: one `Conn` per lane, each an independent session behind a port that
   * prefixes what it writes and closes only its lane. A lane starts with its first frame.
   */
  class Lanes implements Link {
    /** Lane id → its session, least recently active first (moved to the end on every frame). */
    readonly #lanes = new Map<string, Conn>();
    #helloTimer: ReturnType<typeof setTimeout> | undefined;
    #dead = false;

    constructor(
      readonly ws: WebSocket,
      readonly req: IncomingMessage,
      readonly deliver: (data: Buffer, binary: boolean) => void,
    ) {
      this.#helloTimer = setTimeout(() => this.end(CloseCode.NoHello, 'rws: no hello'), cfg.helloTimeout);
      this.#helloTimer.unref?.();
    }

    frame(data: Buffer, binary: boolean): void {
      if (this.#dead) return;
      const f = decodeLane(data, binary);
      // Without a lane there is no session to blame: the connection itself is broken.
      if (f.k === 'bad') return this.end(CloseCode.Malformed, `rws: ${f.why}`);
      let conn = this.#lanes.get(f.lane);
      // The tab left: its session detaches as if its own socket had closed (its TTL starts).
      if (f.k === 'leave') return conn?.detach();
      if (conn) {
        this.#lanes.delete(f.lane);
        this.#lanes.set(f.lane, conn);
      } else {
        clearTimeout(this.#helloTimer);
        if (this.#lanes.size >= cfg.maxLanes) this.#lanes.values().next().value?.kill(CloseCode.TakenOver, 'rws: too many lanes');
        conn = new Conn(this.#port(f.lane), this.req, this.deliver);
        this.#lanes.set(f.lane, conn);
      }
      conn.frame(f.frame, binary);
    }

    #port(lane: string): Port {
      const ws = this.ws;
      const port: Port = {
        ws,
        send: (frame, binary) => ws.send(encodeLane(lane, frame), { binary }),
        close: (code, reason) => {
          if (ws.readyState === ws.OPEN) ws.send(encodeLaneClose(lane, code, reason));
        },
        end: (code, reason) => this.end(code, reason),
        // Forgotten: a later frame for this id is a new lane, which must begin with a hello.
        release: () => {
          if (this.#lanes.get(lane)?.port === port) this.#lanes.delete(lane);
        },
      };
      return port;
    }

    end(code: number, reason: string): void {
      if (this.#dead) return;
      this.ws.close(code, reason);
      this.detach();
    }

    detach(): void {
      if (this.#dead) return;
      this.#dead = true;
      clearTimeout(this.#helloTimer);
      for (const conn of [...this.#lanes.values()]) conn.detach();
      this.#lanes.clear();
    }

    anyId(): string | undefined {
      for (const conn of this.#lanes.values()) if (conn.id !== undefined) return conn.id;
      return undefined;
    }
  }

  const unwatch = engine.watch((bell) => {
    if ('session' in bell) live.get(bell.session)?.pump();
    else for (const c of byTopic.get(bell.topic) ?? []) c.pumpTopic(bell.topic);
  });

  // Wrap, never replace: the app's handleProtocols still picks among its own subprotocols.
  const original = wss.options.handleProtocols;
  const pick = (protocols: Set<string>, req: IncomingMessage): string | false => {
    // A tabs leader offers `rws.v2[.<app>]` first, then the v1 names: lanes when they are on.
    const base = cfg.lanes && protocols.has(PROTOCOL_LANES) ? PROTOCOL_LANES : PROTOCOL;
    if (!protocols.has(base) || closed) {
      // The v2 names are ours even with `lanes: false`: the app's handleProtocols never sees them.
      const offered = [...protocols].some(isV2) ? new Set([...protocols].filter((p) => !isV2(p))) : protocols;
      if (offered.size === 0) return false;
      if (original) return original(offered, req);
      return offered.values().next().value ?? false;
    }
    // The client offers `rws.v1.<app>` for each app protocol: picking one tells it both choices.
    const rest = new Set([...protocols].filter((p) => !isOurs(p)));
    const app = rest.size === 0 ? false : original ? original(rest, req) : rest.values().next().value;
    return app && protocols.has(`${base}.${app}`) ? `${base}.${app}` : base;
  };
  wss.options.handleProtocols = pick;

  const sockets = new Map<WebSocket, Link>();
  const onConnection = (ws: WebSocket, req: IncomingMessage): void => {
    if (!isOurs(ws.protocol) || closed) return;
    const target = ws as unknown as { emit(event: string | symbol, ...args: unknown[]): boolean };
    const emit = target.emit;
    const deliver = (data: Buffer, binary: boolean): boolean => emit.call(ws, 'message', data, binary);
    const link: Link = isV2(ws.protocol) ? new Lanes(ws, req, deliver) : new Conn(socketPort(ws), req, deliver);
    sockets.set(ws, link);
    // The socket's own 'message' listeners must see application messages, not envelopes.
    target.emit = function (this: unknown, event: string | symbol, ...args: unknown[]): boolean {
      if (event !== 'message') return emit.call(this, event, ...args);
      link.frame(asBuffer(args[0]), args[1] === true);
      return true;
    };
    // ws closes the socket itself after a protocol error (1002, 1009); without a listener the
    // 'error' event would throw and take the process down.
    ws.on('error', () => undefined);
    ws.once('close', () => {
      link.detach();
      sockets.delete(ws);
    });
  };
  wss.prependListener('connection', onConnection);

  const check = (): void => {
    if (closed) throw new ReliableServerError('CLOSED', 'the companion was closed');
  };
  const api: ReliableServer = {
    engine,
    async send(sessionId, data) {
      check();
      const payload = toBytes(data);
      const seq = await engine.append(sessionId, payload, cfg.maxBytes);
      if (seq === null) throw new ReliableServerError('UNKNOWN_SESSION', 'send: no such session (expired or reset)');
      if (seq === 'full') {
        live.get(sessionId)?.kill(CloseCode.Evicted, 'rws: session buffer full');
        await engine.deleteSession(sessionId);
        throw new ReliableServerError('BUFFER_FULL', `send: the session's unacknowledged bytes passed maxBufferBytes (${cfg.maxBytes}); it was evicted`);
      }
      return seq;
    },
    async publish(topic, data) {
      check();
      if (!TOPIC_NAME.test(topic)) throw new ReliableServerError('INVALID_TOPIC', `publish: bad topic name ${JSON.stringify(topic.slice(0, 40))}`);
      return engine.publish(topic, toBytes(data));
    },
    async subscribe(sessionId, topic) {
      check();
      if (!TOPIC_NAME.test(topic)) throw new ReliableServerError('INVALID_TOPIC', `subscribe: bad topic name ${JSON.stringify(topic.slice(0, 40))}`);
      const info = await engine.topic(topic);
      if (!(await engine.getSession(sessionId))) throw new ReliableServerError('UNKNOWN_SESSION', 'subscribe: no such session (expired or reset)');
      await engine.subscribe(sessionId, topic, info.head);
      const rec = await engine.getSession(sessionId);
      live.get(sessionId)?.subscribed(topic, info.epoch, rec?.topics[topic] ?? info.head);
    },
    async unsubscribe(sessionId, topic) {
      check();
      await engine.unsubscribe(sessionId, topic);
      live.get(sessionId)?.unsubscribed(topic);
    },
    sessionOf(socket) {
      const id = sockets.get(socket)?.anyId();
      return id === undefined ? undefined : handle(id);
    },
    async close() {
      if (closed) return;
      closed = true;
      wss.removeListener('connection', onConnection);
      if (wss.options.handleProtocols === pick) wss.options.handleProtocols = original;
      unwatch();
      for (const link of sockets.values()) link.end(CloseCode.ServerClosing, 'rws: server closing');
      sockets.clear();
      if (ownEngine) await engine.close();
    },
  };
  return api;
}

export { redisEngine, RedisEngineError, type RedisEngine, type RedisEngineOptions, type RedisClientLike } from './redis.js';
