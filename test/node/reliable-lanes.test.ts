// rws.v2 on a real `ws` server: one connection carrying several rws.v1 sessions in lanes (the
// tabs leader's multiplexing), driven by a small hand-written lane client so these tests pin the
// lane wire format and the companion's per-lane answers without the browser side.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { attach, CloseCode, memoryEngine, PROTOCOL_LANES, type AttachOptions, type Engine, type ReliableServer } from '../../src/server/index.js';

const WAIT_MS = 3000;

function within<T>(what: string, start: (done: (v: T) => void) => void, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    start((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

interface Welcome {
  s: string;
  e: string;
  r: number;
  x?: string;
}

interface Got {
  frame: Buffer;
  binary: boolean;
}

const idOf = (w: Welcome): string => w.s.split('.')[0]!;

/** A raw connection: records every frame; `lane(id)` reads and writes one lane of it. */
class RawSocket {
  readonly frames: Got[] = [];
  closed: { code: number; reason: string } | undefined;
  #waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (frame: Buffer, binary: boolean) => {
      this.frames.push({ frame, binary });
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  until(what: string, check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return within<void>(what, (done) => {
      const w = (): void => {
        if (!check()) return;
        this.#waiters = this.#waiters.filter((x) => x !== w);
        done();
      };
      this.#waiters.push(w);
    });
  }

  lane(id: string): Lane {
    return new Lane(this, id);
  }

  /** A ping round trip: the server has read (and synchronously handled) everything sent before it. */
  roundTrip(): Promise<void> {
    return within<void>('pong', (done) => {
      this.ws.once('pong', () => done());
      this.ws.ping();
    });
  }

  closeCode(): Promise<number> {
    return this.until('close', () => this.closed !== undefined).then(() => this.closed!.code);
  }
}

/** One lane of a RawSocket: the same calls as a raw v1 client, each frame wrapped in `\x0e<lane>:`. */
class Lane {
  readonly head: Buffer;

  constructor(
    readonly sock: RawSocket,
    readonly id: string,
  ) {
    this.head = Buffer.from(`\x0e${id}:`, 'latin1');
  }

  /** This lane's v1 frames, the lane header stripped. */
  frames(): Got[] {
    return this.sock.frames
      .filter((f) => f.frame.length >= this.head.length && f.frame.subarray(0, this.head.length).equals(this.head))
      .map((f) => ({ frame: f.frame.subarray(this.head.length), binary: f.binary }));
  }

  texts(kind: number): string[] {
    return this.frames()
      .filter((f) => !f.binary && f.frame[0] === kind)
      .map((f) => f.frame.toString('utf8', 1));
  }

  /** Numbered text data frames as `seq:payload`. */
  data(): string[] {
    return this.texts(3).map((s) => `${parseInt(s.slice(0, s.indexOf(':')), 36)}:${s.slice(s.indexOf(':') + 1)}`);
  }

  acks(): number[] {
    return this.texts(5).map((s) => parseInt(s, 36));
  }

  /** The server's lane closes for this id, oldest first. */
  closes(): Array<{ code: number; reason: string }> {
    const prefix = `\x0f${this.id},`;
    return this.sock.frames
      .filter((f) => !f.binary && f.frame.toString('latin1', 0, prefix.length) === prefix)
      .map((f) => {
        const rest = f.frame.toString('utf8', prefix.length);
        const comma = rest.indexOf(',');
        return { code: Number(rest.slice(0, comma)), reason: rest.slice(comma + 1) };
      });
  }

  /** Waits for this lane's `n`-th close (1-based) and returns it. */
  async closed(n = 1): Promise<{ code: number; reason: string }> {
    await this.sock.until(`lane ${this.id} close #${n}`, () => this.closes().length >= n);
    return this.closes()[n - 1]!;
  }

  raw(frame: string | Buffer): void {
    if (typeof frame === 'string') this.sock.ws.send(this.head.toString('latin1') + frame);
    else this.sock.ws.send(Buffer.concat([this.head, frame]), { binary: true });
  }

  async hello(h: object = {}): Promise<Welcome> {
    const before = this.texts(2).length;
    this.raw('\x01' + JSON.stringify(h));
    await this.sock.until(`welcome on lane ${this.id}`, () => this.texts(2).length > before);
    return JSON.parse(this.texts(2).at(-1)!) as Welcome;
  }

  send(seq: number, payload: string): void {
    this.raw(`\x03${seq.toString(36)}:${payload}`);
  }

  ack(n: number): void {
    this.raw(`\x05${n.toString(36)}`);
  }

  async acked(n: number): Promise<void> {
    await this.sock.until(`ack ${n} on lane ${this.id}`, () => this.acks().includes(n));
  }

  leave(): void {
    this.sock.ws.send(`\x0f${this.id}`);
  }
}

interface Setup {
  wss: WebSocketServer;
  rel: ReliableServer;
  port: number;
  /** What onMessage got, as `sessionId|seq:text` (binary payloads as `hex:…`). */
  got: string[];
  events: string[];
  /** The server side of each connection, in order. */
  sockets: WebSocket[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: AttachOptions = {}, handleProtocols?: (p: Set<string>) => string | false): Promise<Setup> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...(handleProtocols ? { handleProtocols } : {}) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got: string[] = [];
  const events: string[] = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => sockets.push(ws));
  const rel = attach(wss, {
    ackDelayMs: 5,
    onError: (e) => events.push(`error:${e.message}`),
    ...options,
    onMessage: (data, ctx) => {
      got.push(`${ctx.session.id}|${ctx.seq}:${ctx.binary ? `hex:${data.toString('hex')}` : data.toString()}`);
      return options.onMessage?.(data, ctx);
    },
  });
  const s: Setup = { wss, rel, port: (wss.address() as AddressInfo).port, got, events, sockets };
  cleanups.push(async () => {
    await rel.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return s;
}

async function connect(port: number, protocols: string[] = ['rws.v2', 'rws.v1']): Promise<RawSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, protocols);
  const c = new RawSocket(ws);
  cleanups.push(async () => ws.terminate());
  await within<void>('open', (done) => ws.once('open', () => done()));
  return c;
}

const ofSession = (got: string[], id: string): string[] => got.filter((g) => g.startsWith(`${id}|`)).map((g) => g.slice(id.length + 1));

describe('rws.v2 lanes: negotiation', () => {
  it('picks rws.v2.<app> for a tabs leader, with the app choice made by handleProtocols over the app names alone', async () => {
    const seen: string[][] = [];
    const s = await setup({}, (p) => (seen.push([...p]), p.has('chat') ? 'chat' : false));
    const c = await connect(s.port, ['rws.v2.chat', 'rws.v2', 'rws.v1.chat', 'rws.v1', 'chat']);
    expect(c.ws.protocol).toBe('rws.v2.chat');
    expect(seen).toEqual([['chat']]);
    expect((await connect(s.port, ['rws.v2', 'rws.v1'])).ws.protocol).toBe(PROTOCOL_LANES);
    // A v1 client is answered as before.
    expect((await connect(s.port, ['rws.v1.chat', 'rws.v1', 'chat'])).ws.protocol).toBe('rws.v1.chat');
    const bare = await setup();
    expect((await connect(bare.port, ['rws.v2.chat', 'rws.v2', 'rws.v1.chat', 'rws.v1', 'chat'])).ws.protocol).toBe('rws.v2.chat');
  });

  it('with lanes: false picks rws.v1 for a client offering both, and never shows the app a v2 name', async () => {
    const seen: string[][] = [];
    const s = await setup({ lanes: false }, (p) => (seen.push([...p]), p.has('chat') ? 'chat' : false));
    const c = await connect(s.port, ['rws.v2.chat', 'rws.v2', 'rws.v1.chat', 'rws.v1', 'chat']);
    expect(c.ws.protocol).toBe('rws.v1.chat');
    // The session is a plain v1 one: an unprefixed hello is welcomed.
    c.ws.send('\x01{}');
    await c.until('welcome', () => c.frames.some((f) => f.frame[0] === 2));
    const v2only = await connect(s.port, ['rws.v2.chat', 'rws.v2', 'chat']);
    expect(v2only.ws.protocol).toBe('chat');
    expect(seen).toEqual([['chat'], ['chat']]);
    expect(() => attach(s.wss, { maxLanes: 0 })).toThrow(/maxLanes/);
    expect(() => attach(s.wss, { lanes: 'yes' as unknown as boolean })).toThrow(/lanes/);
  });
});

describe('rws.v2 lanes: sessions', () => {
  it('11: runs two lanes as two sessions (numbering, acks, welcomes); a malformed frame closes its lane only', async () => {
    const s = await setup({ ackEvery: 1000 });
    const unwrapped: string[] = [];
    s.wss.on('connection', (ws) => ws.on('message', (d: Buffer) => unwrapped.push(d.toString())));
    const c = await connect(s.port);
    const a = c.lane('a');
    const b = c.lane('b1z');
    const wa = await a.hello();
    const wb = await b.hello();
    expect(wa.s).not.toBe(wb.s);
    expect([wa.r, wb.r]).toEqual([0, 0]);
    for (let i = 1; i <= 3; i++) a.send(i, `a${i}`);
    for (let i = 1; i <= 2; i++) b.send(i, `b${i}`);
    await a.acked(3);
    await b.acked(2);
    expect(ofSession(s.got, idOf(wa))).toEqual(['1:a1', '2:a2', '3:a3']);
    expect(ofSession(s.got, idOf(wb))).toEqual(['1:b1', '2:b2']);
    expect([...unwrapped].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    // Each lane's acks are its own: b never hears of 3.
    expect(b.acks()).not.toContain(3);
    // The server numbers each session from 1.
    await s.rel.send(idOf(wa), 'to a');
    await s.rel.send(idOf(wb), 'to b');
    await a.sock.until('data a', () => a.data().length === 1);
    await b.sock.until('data b', () => b.data().length === 1);
    expect([a.data(), b.data()]).toEqual([['1:to a'], ['1:to b']]);
    // Session.socket is the shared ws; sessionOf gives one of its lanes' sessions.
    const server = s.sockets[0]!;
    expect(s.rel.sessionOf(server)?.id).toMatch(new RegExp(`^(${idOf(wa)}|${idOf(wb)})$`));
    a.raw('\x03zzzz');
    expect(await a.closed()).toEqual({ code: CloseCode.Malformed, reason: 'rws: bad data header' });
    b.send(3, 'b3');
    await b.acked(3);
    expect(ofSession(s.got, idOf(wb))).toEqual(['1:b1', '2:b2', '3:b3']);
    expect(c.closed).toBeUndefined();
    expect(b.closes()).toEqual([]);
    expect(s.rel.sessionOf(server)?.id).toBe(idOf(wb));
  });

  it('12: a second hello closes its lane (4492); a new lane is welcome; a frame for a closed lane id is a new lane without a hello (4492)', async () => {
    const s = await setup();
    const c = await connect(s.port);
    const a = c.lane('a');
    await a.hello();
    a.raw('\x01{}');
    expect(await a.closed()).toEqual({ code: CloseCode.NoHello, reason: 'rws: second hello' });
    const n = c.lane('n');
    const wn = await n.hello();
    expect(wn.x).toBeUndefined();
    n.send(1, 'n1');
    await n.acked(1);
    // The old lane is forgotten: its stale data frame starts a new lane, which needed a hello.
    a.send(1, 'stale');
    expect(await a.closed(2)).toEqual({ code: CloseCode.NoHello, reason: 'rws: expected hello' });
    expect(ofSession(s.got, idOf(wn))).toEqual(['1:n1']);
    expect(s.got).toHaveLength(1);
    expect(c.closed).toBeUndefined();
  });

  it('13: a session resumed on another connection closes the old one whole (4493); on another lane of the same connection the old lane detaches silently', async () => {
    const s = await setup();
    const x = await connect(s.port);
    const xa = x.lane('a');
    const xb = x.lane('b');
    const wa = await xa.hello();
    const wb = await xb.hello();
    xa.send(1, 'from x');
    await xa.acked(1);

    // A frozen leader: another connection resumes one of its lanes' sessions.
    const y = await connect(s.port);
    const yq = y.lane('q');
    const resumed = await yq.hello({ s: wa.s, e: wa.e, r: 0 });
    expect(resumed.x).toBeUndefined();
    expect(resumed.r).toBe(1);
    expect(await x.closeCode()).toBe(CloseCode.TakenOver);
    // Every lane of the old connection detached: b's session resumes elsewhere without closing anything.
    const yb = y.lane('b');
    expect((await yb.hello({ s: wb.s, e: wb.e, r: 0 })).x).toBeUndefined();

    // A follower that reloaded: the same connection, a new lane, the same session.
    const yr = y.lane('r');
    const again = await yr.hello({ s: wa.s, e: wa.e, r: 0 });
    expect(again.x).toBeUndefined();
    await y.roundTrip();
    expect(y.closed).toBeUndefined();
    expect([yq.closes(), yb.closes(), yr.closes()]).toEqual([[], [], []]);
    yr.send(2, 'from r');
    await yr.acked(2);
    await s.rel.send(idOf(wa), 'to a');
    await yr.sock.until('data on r', () => yr.data().includes('1:to a'));
    expect(yq.data()).toEqual([]);
    expect(ofSession(s.got, idOf(wa))).toEqual(['1:from x', '2:from r']);
    // The detached lane is forgotten: a frame for it is a new lane.
    yq.send(3, 'stale');
    expect((await yq.closed()).code).toBe(CloseCode.NoHello);

    // A v1 connection resuming a lane's session closes the lanes' connection as a whole, too.
    const v1 = await connect(s.port, ['rws.v1']);
    v1.ws.send('\x01' + JSON.stringify({ s: wb.s, e: wb.e, r: 0 }));
    expect(await y.closeCode()).toBe(CloseCode.TakenOver);
    expect(v1.closed).toBeUndefined();
  });

  it('a resume that takes over a live lane or connection goes on from what the old one delivered, after its handler in flight: nothing twice', async () => {
    // Nothing is stored by an ack in this test (large ackDelayMs and ackEvery): only the old
    // connection knows how far it delivered when the resume reads the session.
    let release!: () => void;
    let held!: Promise<void>;
    const s = await setup({ ackDelayMs: 60_000, ackEvery: 1000, onMessage: (data) => (data.toString() === 'hold' ? held : undefined) });
    for (const where of ['lane', 'connection'] as const) {
      held = new Promise<void>((r) => (release = r));
      const c = await connect(s.port);
      const a = c.lane(`${where}a`);
      const w = await a.hello();
      const id = idOf(w);
      a.send(1, 'one');
      a.send(2, 'two');
      a.send(3, 'hold');
      await c.roundTrip();
      // The handler of 3 is still running when the session resumes elsewhere.
      const other = where === 'lane' ? c : await connect(s.port);
      const b = other.lane(`${where}b`);
      const welcome = b.hello({ s: w.s, e: w.e, r: 0 });
      await other.roundTrip();
      release();
      expect((await welcome).r).toBe(3);
      // The client re-sends all it has not seen acknowledged, then goes on.
      for (const [n, text] of [[1, 'one'], [2, 'two'], [3, 'hold'], [4, 'four']] as const) b.send(n, text);
      await s.rel.send(id, 'barrier');
      await other.until('the barrier', () => b.data().some((d) => d.endsWith(':barrier')));
      b.ack(1);
      await other.roundTrip();
      expect(ofSession(s.got, id)).toEqual(['1:one', '2:two', '3:hold', '4:four']);
      if (where === 'connection') expect(await c.closeCode()).toBe(CloseCode.TakenOver);
    }
  });

  it('14: a forged token in one lane gets a reset and nothing of the other lanes\' sessions', async () => {
    const s = await setup();
    const c = await connect(s.port);
    const a = c.lane('a');
    const wa = await a.hello();
    await s.rel.send(idOf(wa), 'secret-a');
    await a.sock.until('secret', () => a.data().length === 1);
    const forged = [wa.s.slice(0, 17) + 'A'.repeat(22), 'garbage', `${'x'.repeat(16)}.${'y'.repeat(22)}`];
    for (const [i, token] of forged.entries()) {
      const m = c.lane(`m${i}`);
      const wm = await m.hello({ s: token, e: wa.e, r: 0 });
      expect(wm.x).toBe('unknown');
      expect(idOf(wm)).not.toBe(idOf(wa));
      m.raw('\x01{"b":1}');
      m.send(1, 'mine');
      await m.acked(1);
      expect(ofSession(s.got, idOf(wm))).toEqual(['1:mine']);
    }
    await s.rel.send(idOf(wa), 'more-a');
    await a.sock.until('more', () => a.data().length === 2);
    expect(a.data()).toEqual(['1:secret-a', '2:more-a']);
    const leaked = c.frames.filter((f) => !f.frame.subarray(0, a.head.length).equals(a.head) && /secret-a|more-a/.test(f.frame.toString()));
    expect(leaked).toEqual([]);
    expect(ofSession(s.got, idOf(wa))).toEqual([]);
  });

  it('15: past maxLanes the least recently active lane is closed (4493); a lane the client leaves detaches and resumes later elsewhere', async () => {
    const s = await setup({ maxLanes: 3 });
    const c = await connect(s.port);
    const [a, b, l] = [c.lane('a'), c.lane('b'), c.lane('l')];
    await a.hello();
    await b.hello();
    const wl = await l.hello();
    a.send(1, 'a1');
    await a.acked(1);
    // b is now the least recently active lane: a fourth lane evicts it.
    const d = c.lane('d');
    await d.hello();
    expect(await b.closed()).toEqual({ code: CloseCode.TakenOver, reason: 'rws: too many lanes' });
    for (const lane of [a, l, d]) expect(lane.closes()).toEqual([]);
    a.send(2, 'a2');
    await a.acked(2);

    // The tab behind lane l leaves; the server sends it something meanwhile.
    l.leave();
    await c.roundTrip();
    await s.rel.send(idOf(wl), 'while away');
    const other = await connect(s.port);
    const back = other.lane('z');
    expect((await back.hello({ s: wl.s, e: wl.e, r: 0 })).x).toBeUndefined();
    await back.sock.until('re-delivered', () => back.data().length === 1);
    expect(back.data()).toEqual(['1:while away']);
    expect(l.data()).toEqual([]);
    // Detached, not live: the resume elsewhere closed nothing.
    await c.roundTrip();
    expect(c.closed).toBeUndefined();
    d.send(1, 'd1');
    await d.acked(1);
    // Leaving an unknown lane is ignored.
    c.lane('nope').leave();
    await c.roundTrip();
    expect(c.closed).toBeUndefined();
  });

  it('16: rel.send and publish reach only their lane; binary frames stay binary both ways', async () => {
    const s = await setup();
    const c = await connect(s.port);
    const [a, b] = [c.lane('a'), c.lane('b')];
    const wa = await a.hello();
    const wb = await b.hello();
    await s.rel.subscribe(idOf(wa), 'room');
    await a.sock.until('topic info', () => a.texts(8).length === 1);
    await s.rel.publish('room', 'hello room');
    await s.rel.send(idOf(wb), new Uint8Array([0, 1, 255]));
    await s.rel.send(idOf(wa), 'text for a');
    await a.sock.until('topic + data', () => a.texts(7).length === 1 && a.data().length === 1);
    expect(a.texts(7)).toEqual(['1,room:hello room']);
    expect(a.data()).toEqual(['1:text for a']);
    await b.sock.until('binary', () => b.frames().some((f) => f.binary));
    const bin = b.frames().filter((f) => f.binary);
    expect(bin.map((f) => f.frame.toString('hex'))).toEqual([Buffer.concat([Buffer.from('\x031:', 'latin1'), Buffer.from([0, 1, 255])]).toString('hex')]);
    // Every lane frame of a text message is a text frame.
    expect(a.frames().every((f) => !f.binary)).toBe(true);
    // Client → server: a binary data frame in a lane reaches onMessage as binary.
    b.raw(Buffer.concat([Buffer.from('\x031:', 'latin1'), Buffer.from([9, 8])]));
    await b.acked(1);
    expect(ofSession(s.got, idOf(wb))).toEqual(['1:hex:0908']);
    await s.rel.publish('room', 'second');
    await a.sock.until('second', () => a.texts(7).length === 2);
    expect(b.texts(7).concat(b.texts(8))).toEqual([]);
    expect(b.data()).toEqual([]);
  });
});

/** Resolves once the engine forgot the session (its TTL ran out with no connection touching it). */
function expired(rel: ReliableServer, id: string): Promise<void> {
  return within<void>(`expiry of ${id}`, (done) => {
    const t = setInterval(() => {
      void rel.engine.getSession(id).then((r) => {
        if (r !== null) return;
        clearInterval(t);
        done();
      });
    }, 20);
    cleanups.push(async () => clearInterval(t));
  });
}

describe('rws.v2 lanes: the connection', () => {
  it('starts the TTL of a lane the client left, and of every lane of a closed connection; the others stay', async () => {
    const s = await setup({ sessionTtlMs: 200, engine: memoryEngine({ sweepIntervalMs: 50 }) });
    cleanups.push(() => s.rel.engine.close());
    const c = await connect(s.port);
    const [a, b] = [c.lane('a'), c.lane('b')];
    const wa = await a.hello();
    const wb = await b.hello();
    const other = await connect(s.port);
    const [x, y] = [other.lane('x'), other.lane('y')];
    const wx = await x.hello();
    const wy = await y.hello();
    a.leave();
    await expired(s.rel, idOf(wa));
    other.ws.close();
    await expired(s.rel, idOf(wx));
    await expired(s.rel, idOf(wy));
    // b's lane stayed: its connection keeps touching it.
    expect(await s.rel.engine.getSession(idOf(wb))).not.toBeNull();
    b.send(1, 'b1');
    await b.acked(1);
  });

  const broken: Array<[string, string | Buffer]> = [
    ['a frame without a lane', '\x01{}'],
    ['an upper-case lane', '\x0eA:\x01{}'],
    ['an empty lane', '\x0e:\x01{}'],
    ['a 12-char lane', '\x0e123456789abc:\x01{}'],
    ['a lane header without a colon', '\x0eabc'],
    ['a binary lane leave', Buffer.from('\x0fa', 'latin1')],
    ['a leave with a bad lane', '\x0fa,b'],
  ];
  for (const [name, frame] of broken) {
    it(`closes the whole connection with 4490 on ${name}`, async () => {
      const s = await setup();
      const c = await connect(s.port);
      await c.lane('a').hello();
      c.ws.send(frame);
      expect(await c.closeCode()).toBe(CloseCode.Malformed);
      expect(c.closed!.reason).toMatch(/^rws: /);
    });
  }

  it('closes a connection that opens no lane within helloTimeoutMs (4492)', async () => {
    const s = await setup({ helloTimeoutMs: 50 });
    const c = await connect(s.port);
    expect(await c.closeCode()).toBe(CloseCode.NoHello);
  });

  it('refuses authenticate per lane (lane-level 1008) and takes each lane\'s own owner', async () => {
    const s = await setup({ authenticate: (data) => (data.toString() === 'bad' ? false : data.toString()) });
    const c = await connect(s.port);
    const [a, b] = [c.lane('a'), c.lane('b')];
    a.raw('alice');
    const wa = await a.hello();
    b.raw('bad');
    b.raw('\x01{}');
    expect(await b.closed()).toEqual({ code: CloseCode.Unauthenticated, reason: 'rws: not authenticated' });
    // Another owner's lane cannot resume alice's session.
    const m = c.lane('m');
    m.raw('mallory');
    expect((await m.hello({ s: wa.s, e: wa.e })).x).toBe('unknown');
    a.send(1, 'still');
    await a.acked(1);
    expect(c.closed).toBeUndefined();
  });

  it('closes the whole connection with 4495 when the engine fails in one lane; every lane detaches', async () => {
    const engine = memoryEngine();
    let failing = false;
    const flaky: Engine = { ...engine, ack: (id, seq) => (failing ? Promise.reject(new Error('storage down')) : engine.ack(id, seq)) };
    cleanups.push(() => engine.close());
    const s = await setup({ engine: flaky });
    const c = await connect(s.port);
    const [a, b] = [c.lane('a'), c.lane('b')];
    const wa = await a.hello();
    const wb = await b.hello();
    await s.rel.send(idOf(wa), 'x');
    await a.sock.until('data', () => a.data().length === 1);
    failing = true;
    a.ack(1);
    expect(await c.closeCode()).toBe(CloseCode.EngineFailed);
    expect(s.events).toEqual(['error:storage down']);
    failing = false;
    // Both sessions were let go: they resume on a new connection, and that closes nothing.
    const other = await connect(s.port);
    expect((await other.lane('a').hello({ s: wa.s, e: wa.e, r: 0 })).x).toBeUndefined();
    expect((await other.lane('b').hello({ s: wb.s, e: wb.e, r: 0 })).x).toBeUndefined();
    await other.roundTrip();
    expect(other.closed).toBeUndefined();
  });

  it('closes every lane with 1001 on rel.close()', async () => {
    const s = await setup();
    const c = await connect(s.port);
    await c.lane('a').hello();
    const empty = await connect(s.port);
    await s.rel.close();
    expect(await c.closeCode()).toBe(CloseCode.ServerClosing);
    expect(await empty.closeCode()).toBe(CloseCode.ServerClosing);
  });
});
