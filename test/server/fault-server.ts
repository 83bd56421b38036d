// A real WebSocket server for the browser tier that misbehaves on command: it restarts, drops,
// stalls, refuses, goes half-open and checks tokens, and it records everything it saw so tests
// can wait for events and assert on loss, duplicates and ordering. The tests drive it through
// plain methods from the test process (no control channel over the network).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

/**
 * What the server does with each (authenticated) incoming message.
 *
 * - `echo`: send it back unchanged (text as text, binary as binary).
 * - `sink`: record it only; use {@link FaultServer.sequenceReport} to check loss and order.
 * - `push`: record it, and stream `push.message(n)` to every connection every `push.intervalMs`.
 *
 * Every mode records every message in {@link FaultServer.received}.
 */
export type Mode = 'echo' | 'sink' | 'push';

/** Where a client carries its token. */
export type TokenCarrier = 'query' | 'protocol' | 'message';

/** How the server refuses a bad or missing token carried in the handshake (query or subprotocol). */
export type TokenRefusal = { status: number } | { closeCode: number; reason?: string };

/**
 * The token check hook. Generic on purpose: auth scenarios choose the carrier, the valid set and
 * how a refusal looks; the server records which token each connection used.
 */
export interface TokenCheck {
  /** Where tokens are read from. @default 'query' */
  via?: TokenCarrier;
  /** The tokens accepted at first; change the set with {@link FaultServer.allowToken} etc. */
  tokens: Iterable<string>;
  /** The query parameter for `via: 'query'`. @default 'token' */
  param?: string;
  /** The subprotocol prefix for `via: 'protocol'`; the rest is the base64url token. @default 'bearer.' */
  protocolPrefix?: string;
  /** Reads the token from the first message for `via: 'message'`. @default JSON `{type:'auth', token}` */
  parseMessage?: (data: string) => string | undefined;
  /** How a refused handshake token is answered. @default { status: 401 } */
  refuse?: TokenRefusal;
  /** The close code for a refused `via: 'message'` token. @default 4401 */
  messageRefusalCode?: number;
}

/** Options of {@link FaultServer.start}. */
export interface FaultServerOptions {
  /** @default 'echo' */
  mode?: Mode;
  /**
   * The subprotocols the server supports, in its order of preference: it picks the first one the
   * client offered. When the client offered protocols but none is supported, the server picks
   * none and the browser fails the handshake. Undefined: pick the client's first offer that is
   * not an auth carrier (or the carrier itself when it is the only offer).
   */
  protocols?: readonly string[];
  /** Overrides the subprotocol choice entirely, e.g. to pick the auth carrier on purpose. */
  pickProtocol?: (offered: readonly string[]) => string | false;
  /** Token checking; off when undefined. */
  auth?: TokenCheck;
  /** Sent to every connection as soon as it is accepted (and authenticated), e.g. a `ready` hello. */
  hello?: string | ((connection: ConnectionRecord) => string);
  /**
   * Application-level heartbeat: a message equal to `ping` is answered with `pong` in every mode
   * and is not recorded as data (only counted). `false` treats pings as data.
   * @default { ping: 'ping', pong: 'pong' }
   */
  heartbeat?: { ping: string; pong: string } | false;
  /** The server → client stream of `push` mode. @default { intervalMs: 20, message: n => JSON.stringify({seq: n}) } */
  push?: { intervalMs?: number; message?: (seq: number) => string };
}

/** One accepted WebSocket connection, from open to close. Times are `Date.now()` ms. */
export interface ConnectionRecord {
  /** 1, 2, 3… in accept order. */
  readonly id: number;
  /** The request path and query (the token is still in it: this is the server's view). */
  readonly url: string;
  /** The subprotocols the client offered. */
  readonly offered: readonly string[];
  /** The subprotocol the server picked, or `''`. */
  readonly protocol: string;
  readonly openedAt: number;
  /** The token this connection authenticated with, once it did. */
  token: string | undefined;
  /** False until a `via: 'message'` token was accepted; true at once otherwise. */
  authenticated: boolean;
  closedAt: number | undefined;
  /** The close code the server saw: the client's, the server's own, or 1006 when the TCP link died. */
  code: number | undefined;
  reason: string | undefined;
  /** Messages received on this connection (data only, pings excluded). */
  messages: number;
  /** Pings answered on this connection. */
  pings: number;
  /** Messages the server sent on this connection. */
  sent: number;
  /** True while the server does not read from this socket (half-open or slow consumer). */
  readingPaused: boolean;
  /** True while the server sends nothing on this socket (half-open). */
  silent: boolean;
}

/** One upgrade request, accepted or not. Connection-refused attempts never reach the server. */
export interface UpgradeRecord {
  readonly at: number;
  readonly url: string;
  readonly offered: readonly string[];
  readonly accepted: boolean;
  /** The HTTP status of a refusal. */
  readonly status: number | undefined;
  /** Why it was refused: `'rejecting'`, `'token'`, `'stalled'` (never answered). */
  readonly refusal: 'rejecting' | 'token' | 'stalled' | undefined;
}

/** One data message the server received. */
export interface ReceivedMessage {
  readonly at: number;
  readonly connection: number;
  readonly data: string | Buffer;
  readonly binary: boolean;
  /** The sequence number of `"<n>"` or JSON `{"seq": n}` text, else undefined. */
  readonly seq: number | undefined;
}

/** What arrived compared to what was expected, in arrival order. */
export interface SequenceReport {
  /** Messages with a sequence number that arrived (duplicates included). */
  received: number;
  /** Expected sequence numbers that never arrived. */
  lost: number[];
  /** Sequence numbers that arrived more than once (once per extra copy). */
  duplicates: number[];
  /** Sequence numbers that arrived after a higher one had already arrived. */
  reordered: number[];
}

/**
 * Parses `"<n>"` or JSON `{"seq": n}`.
 * @example parseSeq('42') === 42; parseSeq('{"seq":7,"x":1}') === 7
 */
export function parseSeq(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  if (!text.startsWith('{')) return undefined;
  try {
    const seq = (JSON.parse(text) as { seq?: unknown }).seq;
    return typeof seq === 'number' && Number.isInteger(seq) ? seq : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Compares the sequence numbers that arrived (in arrival order) with the ones expected.
 * Without `expected`, every number from 0 to the highest seen is expected.
 * @example analyzeSequence([0, 2, 1, 2], [0, 1, 2, 3]) // lost [3], duplicates [2], reordered [1]
 */
export function analyzeSequence(arrived: readonly number[], expected?: Iterable<number>): SequenceReport {
  const seen = new Set<number>();
  const duplicates: number[] = [];
  const reordered: number[] = [];
  let highest = -Infinity;
  for (const seq of arrived) {
    if (seen.has(seq)) duplicates.push(seq);
    else if (seq < highest) reordered.push(seq);
    seen.add(seq);
    highest = Math.max(highest, seq);
  }
  const want = expected ? [...expected] : Array.from({ length: Math.max(0, highest + 1) }, (_, i) => i);
  return { received: arrived.length, lost: want.filter((s) => !seen.has(s)), duplicates, reordered };
}

/**
 * Polls `check` every 5 ms until it returns something other than `undefined`/`false`, and
 * resolves with that value. Rejects after `timeoutMs` with `what` (and `detail()`) in the message.
 * @example const conn = await waitUntil(() => server.connections[1], 2000, 'a second connection');
 */
export async function waitUntil<T>(
  check: () => T | undefined | false,
  timeoutMs: number,
  what: string,
  detail?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

const defaultParseAuthMessage = (data: string): string | undefined => {
  try {
    const msg = JSON.parse(data) as { type?: unknown; token?: unknown };
    return msg.type === 'auth' && typeof msg.token === 'string' ? msg.token : undefined;
  } catch {
    return undefined;
  }
};

interface Live {
  record: ConnectionRecord;
  ws: WebSocket;
  pushTimer: ReturnType<typeof setInterval> | undefined;
}

/** Which open connections a control method acts on: all (default), one id, or a filter. */
export type Which = number | ((connection: ConnectionRecord) => boolean) | undefined;

/**
 * The fault-injecting WebSocket server. Bound to 127.0.0.1 on a free port, which it keeps
 * across {@link stop}/{@link start}.
 *
 * @example
 * ```ts
 * const server = await FaultServer.start({ mode: 'sink' });
 * // … page connects to server.url …
 * await server.stop();            // clients see 1006, new attempts are refused
 * await server.start();           // same port
 * await server.waitForConnections(2);
 * expect(server.sequenceReport().lost).toEqual([]);
 * await server.close();
 * ```
 */
export class FaultServer {
  /** Every accepted connection, in order; open ones have `closedAt === undefined`. */
  readonly connections: ConnectionRecord[] = [];
  /** Every upgrade request that reached the server. */
  readonly upgrades: UpgradeRecord[] = [];
  /** Every data message received, in arrival order. */
  readonly received: ReceivedMessage[] = [];
  /** The server's current mode; change it with {@link setMode}. */
  mode: Mode;

  #options: FaultServerOptions;
  #port = 0;
  #http: Server | undefined;
  #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, handleProtocols: (offered) => this.#pick([...offered]) });
  #live = new Map<number, Live>();
  #sockets = new Set<Duplex>();
  #rejecting: { status: number; remaining: number } | undefined;
  #stalling = false;
  #tokens = new Set<string>();
  #pushSeq = 0;
  #lastId = 0;

  private constructor(options: FaultServerOptions) {
    this.#options = options;
    this.mode = options.mode ?? 'echo';
    for (const token of options.auth?.tokens ?? []) this.#tokens.add(token);
  }

  /** Creates the server and starts listening on a free port. */
  static async start(options: FaultServerOptions = {}): Promise<FaultServer> {
    const server = new FaultServer(options);
    await server.start();
    return server;
  }

  /** The port, the same after every restart. */
  get port(): number {
    return this.#port;
  }

  /** `ws://127.0.0.1:<port>/`. */
  get url(): string {
    return `ws://127.0.0.1:${this.#port}/`;
  }

  /** True while the server accepts TCP connections. */
  get listening(): boolean {
    return this.#http !== undefined;
  }

  /** The connections that are open right now. */
  get open(): ConnectionRecord[] {
    return this.connections.filter((c) => c.closedAt === undefined);
  }

  /** The sequence numbers of the received messages, in arrival order. */
  get seqs(): number[] {
    return this.received.flatMap((m) => (m.seq === undefined ? [] : [m.seq]));
  }

  /** `url` with a path and query parameters, e.g. `server.urlWith('/chat', { token: 'a' })`. */
  urlWith(path = '/', query: Record<string, string> = {}): string {
    const url = new URL(path, this.url);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }

  /** Starts listening again, on the same port as before (a free one the first time). */
  async start(): Promise<void> {
    if (this.#http) return;
    const http = createServer((_req, res) => res.writeHead(426, { connection: 'close' }).end('WebSocket only'));
    http.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(this.#port, '127.0.0.1', () => {
        http.off('error', reject);
        resolve();
      });
    });
    this.#port = (http.address() as { port: number }).port;
    this.#http = http;
  }

  /**
   * Stops listening and kills every socket without a close frame: clients see 1006 and new
   * attempts are refused until {@link start}.
   */
  async stop(): Promise<void> {
    const http = this.#http;
    if (!http) return;
    this.#http = undefined;
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    this.#killAll();
    await closed;
  }

  /** {@link stop}, then {@link start} again after `downMs`. */
  async restart(downMs = 500): Promise<void> {
    await this.stop();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  /** Destroys the TCP socket of the chosen open connections while still listening (client sees 1006). */
  drop(which?: Which): void {
    for (const live of this.#select(which)) live.ws.terminate();
  }

  /** Closes the chosen open connections with a close frame carrying `code` and `reason`. */
  closeAll(code: number, reason = '', which?: Which): void {
    for (const live of this.#select(which)) {
      // A paused socket would never read the client's close reply; the close must complete.
      this.heal(live.record.id);
      live.ws.close(code, reason);
    }
  }

  /** Answers upgrade requests with HTTP `status` (401, 403, …), the next `times` ones or until {@link acceptUpgrades}. */
  rejectUpgrades(status = 401, times = Infinity): void {
    this.#rejecting = { status, remaining: times };
  }

  /**
   * Holds every new upgrade request without an answer (the client's connect timeout must fire),
   * until {@link acceptUpgrades}; held sockets are destroyed then.
   */
  stallUpgrades(): void {
    this.#stalling = true;
  }

  /** Ends {@link rejectUpgrades} and {@link stallUpgrades}. */
  acceptUpgrades(): void {
    this.#rejecting = undefined;
    if (!this.#stalling) return;
    this.#stalling = false;
    for (const socket of this.#sockets) if ((socket as { stalled?: boolean }).stalled) socket.destroy();
  }

  /**
   * Half-open: the server stops reading and stops sending on the chosen connections without
   * closing them, as when the peer vanished. The client learns nothing until it sends a ping and
   * times out. {@link heal} ends it.
   */
  halfOpen(which?: Which): void {
    for (const live of this.#select(which)) {
      live.ws.pause();
      live.record.readingPaused = true;
      live.record.silent = true;
    }
  }

  /** Undoes {@link halfOpen} and {@link pauseReading} on the chosen connections. */
  heal(which?: Which): void {
    for (const live of this.#select(which)) {
      live.record.silent = false;
      live.record.readingPaused = false;
      live.ws.resume();
    }
  }

  /**
   * Slow consumer: stops reading the chosen connections (still answering nothing new, since no
   * message is read) so the client's `bufferedAmount` grows once the TCP buffers are full.
   * Loopback buffers hold a few MB, so send more than that to see it.
   */
  pauseReading(which?: Which): void {
    for (const live of this.#select(which)) {
      live.ws.pause();
      live.record.readingPaused = true;
    }
  }

  /** Ends {@link pauseReading}. */
  resumeReading(which?: Which): void {
    this.heal(which);
  }

  /** Switches the mode for the messages that follow; `push` starts streaming to open connections. */
  setMode(mode: Mode): void {
    this.mode = mode;
    for (const live of this.#live.values()) this.#syncPush(live);
  }

  /** Sends `data` to the chosen open connections (skipping silent ones). */
  send(data: string | Buffer, which?: Which): void {
    for (const live of this.#select(which)) this.#send(live, data);
  }

  /** Sets the supported subprotocols (see {@link FaultServerOptions.protocols}). */
  setProtocols(protocols: readonly string[] | undefined): void {
    this.#options = { ...this.#options, protocols };
  }

  /** Accepts `token` from now on. */
  allowToken(token: string): void {
    this.#tokens.add(token);
  }

  /** Refuses `token` from the next handshake on; open connections stay. */
  revokeToken(token: string): void {
    this.#tokens.delete(token);
  }

  /** Revokes `token` and closes every connection authenticated with it with `code` (default 4401). */
  expireToken(token: string, code = 4401, reason = 'token expired'): void {
    this.revokeToken(token);
    this.closeAll(code, reason, (c) => c.token === token);
  }

  /** The loss, duplicate and order check of the received sequence numbers (see {@link analyzeSequence}). */
  sequenceReport(expected?: Iterable<number>): SequenceReport {
    return analyzeSequence(this.seqs, expected);
  }

  /** Forgets every record (connections, upgrades, messages); open connections stay open. */
  resetRecords(): void {
    this.connections.splice(0, this.connections.length, ...this.open);
    this.upgrades.length = 0;
    this.received.length = 0;
  }

  /** Polls server-side state (see {@link waitUntil}); a timeout error shows {@link describe}. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000, what = 'a server-side condition'): Promise<T> {
    return waitUntil(check, timeoutMs, what, () => this.describe());
  }

  /** Waits until `count` connections were accepted in all (not necessarily open now). */
  waitForConnections(count: number, timeoutMs = 5000): Promise<ConnectionRecord> {
    return this.waitFor(() => this.connections[count - 1], timeoutMs, `${count} accepted connections`);
  }

  /** Waits until `count` connections are open at the same time. */
  waitForOpen(count: number, timeoutMs = 5000): Promise<ConnectionRecord[]> {
    return this.waitFor(() => (this.open.length >= count ? this.open : undefined), timeoutMs, `${count} open connections`);
  }

  /** Waits until no connection is open. */
  waitForNoneOpen(timeoutMs = 5000): Promise<true> {
    return this.waitFor(() => this.open.length === 0, timeoutMs, 'every connection to close');
  }

  /** Waits until `count` data messages arrived in all. */
  waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMessage> {
    return this.waitFor(() => this.received[count - 1], timeoutMs, `${count} received messages`);
  }

  /** Waits until `count` upgrade requests reached the server in all. */
  waitForUpgrades(count: number, timeoutMs = 5000): Promise<UpgradeRecord> {
    return this.waitFor(() => this.upgrades[count - 1], timeoutMs, `${count} upgrade requests`);
  }

  /** A one-paragraph summary of the recorded state, for failure messages. */
  describe(): string {
    const conns = this.connections
      .slice(-10)
      .map((c) => `#${c.id} ${c.closedAt === undefined ? 'open' : `closed ${c.code}`} msgs=${c.messages}`)
      .join(', ');
    const report = this.sequenceReport();
    return (
      `fault server :${this.#port} listening=${this.listening} mode=${this.mode}; ` +
      `upgrades=${this.upgrades.length} (${this.upgrades.filter((u) => !u.accepted).length} refused); ` +
      `connections=${this.connections.length} [${conns}]; messages=${this.received.length} ` +
      `(lost ${report.lost.length}, duplicates ${report.duplicates.length}, reordered ${report.reordered.length})`
    );
  }

  /** Stops listening, kills every connection and timer. Call it in teardown. */
  async close(): Promise<void> {
    this.acceptUpgrades();
    await this.stop();
    this.#killAll();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #killAll(): void {
    for (const live of this.#live.values()) live.ws.terminate();
    for (const socket of this.#sockets) socket.destroy();
  }

  #select(which: Which): Live[] {
    const all = [...this.#live.values()];
    if (which === undefined) return all;
    if (typeof which === 'number') return all.filter((l) => l.record.id === which);
    return all.filter((l) => which(l.record));
  }

  #pick(offered: string[]): string | false {
    if (this.#options.pickProtocol) return this.#options.pickProtocol(offered);
    const supported = this.#options.protocols;
    if (supported) return supported.find((p) => offered.includes(p)) ?? false;
    const prefix = this.#options.auth?.via === 'protocol' ? (this.#options.auth.protocolPrefix ?? 'bearer.') : undefined;
    return offered.find((p) => prefix === undefined || !p.startsWith(prefix)) ?? offered[0] ?? false;
  }

  #handshakeToken(req: IncomingMessage, offered: readonly string[]): string | undefined {
    const auth = this.#options.auth;
    if (!auth) return undefined;
    const via = auth.via ?? 'query';
    if (via === 'query') return new URL(req.url ?? '/', 'http://x').searchParams.get(auth.param ?? 'token') ?? undefined;
    if (via === 'protocol') {
      const prefix = auth.protocolPrefix ?? 'bearer.';
      const carrier = offered.find((p) => p.startsWith(prefix));
      return carrier === undefined ? undefined : Buffer.from(carrier.slice(prefix.length), 'base64url').toString('utf8');
    }
    return undefined;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const offered = (req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    const url = req.url ?? '/';
    const at = Date.now();
    const refuse = (status: number, refusal: 'rejecting' | 'token'): void => {
      this.upgrades.push({ at, url, offered, accepted: false, status, refusal });
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (this.#stalling) {
      this.upgrades.push({ at, url, offered, accepted: false, status: undefined, refusal: 'stalled' });
      (socket as { stalled?: boolean }).stalled = true;
      return;
    }
    if (this.#rejecting && this.#rejecting.remaining > 0) {
      this.#rejecting.remaining -= 1;
      refuse(this.#rejecting.status, 'rejecting');
      return;
    }
    const auth = this.#options.auth;
    const via = auth?.via ?? 'query';
    let token: string | undefined;
    let closeAfterAccept: { code: number; reason: string } | undefined;
    if (auth && via !== 'message') {
      token = this.#handshakeToken(req, offered);
      if (token === undefined || !this.#tokens.has(token)) {
        const how = auth.refuse ?? { status: 401 };
        if ('status' in how) {
          refuse(how.status, 'token');
          return;
        }
        closeAfterAccept = { code: how.closeCode, reason: how.reason ?? 'invalid token' };
        token = undefined;
      }
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.upgrades.push({ at, url, offered, accepted: true, status: undefined, refusal: undefined });
      this.#accept(ws, url, offered, token, closeAfterAccept);
    });
  }

  #accept(ws: WebSocket, url: string, offered: readonly string[], token: string | undefined, refusal?: { code: number; reason: string }): void {
    const viaMessage = this.#options.auth?.via === 'message';
    const record: ConnectionRecord = {
      id: ++this.#lastId,
      url,
      offered,
      protocol: ws.protocol,
      openedAt: Date.now(),
      token,
      authenticated: !viaMessage && refusal === undefined,
      closedAt: undefined,
      code: undefined,
      reason: undefined,
      messages: 0,
      pings: 0,
      sent: 0,
      readingPaused: false,
      silent: false,
    };
    this.connections.push(record);
    const live: Live = { record, ws, pushTimer: undefined };
    this.#live.set(record.id, live);
    ws.on('close', (code, reason) => {
      record.closedAt = Date.now();
      record.code = code;
      record.reason = reason.toString();
      if (live.pushTimer) clearInterval(live.pushTimer);
      this.#live.delete(record.id);
    });
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => this.#message(live, data, isBinary));
    if (refusal) {
      ws.close(refusal.code, refusal.reason);
      return;
    }
    if (record.authenticated) this.#welcome(live);
  }

  #welcome(live: Live): void {
    const hello = this.#options.hello;
    if (hello !== undefined) this.#send(live, typeof hello === 'string' ? hello : hello(live.record));
    this.#syncPush(live);
  }

  #syncPush(live: Live): void {
    const want = this.mode === 'push' && live.record.authenticated;
    if (want && !live.pushTimer) {
      const message = this.#options.push?.message ?? ((n: number) => JSON.stringify({ seq: n }));
      live.pushTimer = setInterval(() => this.#send(live, message(this.#pushSeq++)), this.#options.push?.intervalMs ?? 20);
    } else if (!want && live.pushTimer) {
      clearInterval(live.pushTimer);
      live.pushTimer = undefined;
    }
  }

  #send(live: Live, data: string | Buffer): void {
    if (live.record.silent || live.ws.readyState !== live.ws.OPEN) return;
    live.record.sent += 1;
    live.ws.send(data);
  }

  #message(live: Live, raw: RawData, binary: boolean): void {
    const record = live.record;
    const data = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
    const text = binary ? undefined : data.toString('utf8');
    const auth = this.#options.auth;
    if (!record.authenticated && auth?.via === 'message') {
      const token = text === undefined ? undefined : (auth.parseMessage ?? defaultParseAuthMessage)(text);
      if (token === undefined || !this.#tokens.has(token)) {
        live.ws.close(auth.messageRefusalCode ?? 4401, 'invalid token');
        return;
      }
      record.token = token;
      record.authenticated = true;
      this.#welcome(live);
      return;
    }
    const heartbeat = this.#options.heartbeat ?? { ping: 'ping', pong: 'pong' };
    if (heartbeat && text === heartbeat.ping) {
      record.pings += 1;
      this.#send(live, heartbeat.pong);
      return;
    }
    record.messages += 1;
    this.received.push({ at: Date.now(), connection: record.id, data: text ?? data, binary, seq: text === undefined ? undefined : parseSeq(text) });
    if (this.mode === 'echo') this.#send(live, binary ? data : (text as string));
  }
}
