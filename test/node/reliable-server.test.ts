// The server companion on a real `ws` server, driven by a small hand-written rws.v1 client, so
// these tests pin the wire format and the server's answers to bad input without the plug-in.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { attach, CloseCode, memoryEngine, type AttachOptions, type ReliableServer } from '../../src/server/index.js';

const WAIT_MS = 3000;

function within<T>(what: string, start: (done: (v: T) => void, fail: (e: Error) => void) => void, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    start(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

interface Welcome {
  s: string;
  e: string;
  r: number;
  x?: string;
}

/** A raw rws.v1 client: records every frame, parses the text ones the tests look at. */
class RawClient {
  readonly frames: Array<{ data: Buffer; binary: boolean }> = [];
  closed: { code: number; reason: string } | undefined;
  #waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, binary: boolean) => {
      this.frames.push({ data, binary });
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
  }

  static async open(port: number, protocols: string[] = ['rws.v1']): Promise<RawClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, protocols);
    const c = new RawClient(ws);
    await within<void>('open', (done, fail) => {
      ws.once('open', () => done());
      ws.once('error', fail);
    });
    return c;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  until(what: string, check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return within<void>(what, (done) => {
      const w = (): void => {
        if (check()) {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          done();
        }
      };
      this.#waiters.push(w);
    });
  }

  texts(kind: number): string[] {
    return this.frames.filter((f) => !f.binary && f.data[0] === kind).map((f) => f.data.toString('utf8', 1));
  }

  /** Payloads of numbered text data frames, as `seq:payload`. */
  data(): string[] {
    return this.frames
      .filter((f) => !f.binary && (f.data[0] === 3 || f.data[0] === 4))
      .map((f) => {
        const s = f.data.toString('utf8', 1);
        const colon = s.indexOf(':');
        return `${parseInt(s.slice(0, colon).split(',')[0]!, 36)}:${s.slice(colon + 1)}`;
      });
  }

  acks(): number[] {
    const out: number[] = [];
    for (const f of this.frames) {
      if (f.binary) continue;
      const s = f.data.toString('utf8', 1);
      if (f.data[0] === 5) out.push(parseInt(s, 36));
      if (f.data[0] === 4) out.push(parseInt(s.slice(s.indexOf(',') + 1, s.indexOf(':')), 36));
    }
    return out;
  }

  async hello(h: object = {}): Promise<Welcome> {
    this.ws.send('\x01' + JSON.stringify(h));
    await this.until('welcome', () => this.texts(2).length > 0);
    return JSON.parse(this.texts(2)[0]!) as Welcome;
  }

  send(seq: number, payload: string, ack?: number): void {
    this.ws.send(ack === undefined ? `\x03${seq.toString(36)}:${payload}` : `\x04${seq.toString(36)},${ack.toString(36)}:${payload}`);
  }

  ack(n: number): void {
    this.ws.send(`\x05${n.toString(36)}`);
  }

  closeCode(): Promise<number> {
    return this.until('close', () => this.closed !== undefined).then(() => this.closed!.code);
  }

  end(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ws.close();
    return this.until('close', () => this.closed !== undefined);
  }
}

interface Setup {
  wss: WebSocketServer;
  rel: ReliableServer;
  port: number;
  got: string[];
  events: string[];
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(options: AttachOptions = {}, wssOptions: { maxPayload?: number } = {}): Promise<Setup> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...wssOptions });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got: string[] = [];
  const events: string[] = [];
  const rel = attach(wss, {
    ackDelayMs: 5,
    onError: (e) => events.push(`error:${e.message}`),
    ...options,
    onMessage: (data, ctx) => {
      got.push(`${ctx.seq}:${data.toString()}`);
      return options.onMessage?.(data, ctx);
    },
  });
  const s: Setup = { wss, rel, port: (wss.address() as AddressInfo).port, got, events };
  cleanups.push(async () => {
    await rel.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return s;
}

const clients: RawClient[] = [];
async function client(port: number, protocols?: string[]): Promise<RawClient> {
  const c = await RawClient.open(port, protocols);
  clients.push(c);
  cleanups.push(async () => {
    c.ws.terminate();
  });
  return c;
}

describe('server companion: handshake', () => {
  it('picks rws.v1.<app> (the app protocol from handleProtocols), gives a 128-bit+ token and an epoch', async () => {
    const s = await setup();
    const c = await client(s.port, ['chat', 'rws.v1.chat', 'rws.v1']);
    expect(c.ws.protocol).toBe('rws.v1.chat');
    expect((await client(s.port, ['rws.v1'])).ws.protocol).toBe('rws.v1');
    const w = await c.hello();
    expect(w.r).toBe(0);
    expect(w.x).toBeUndefined();
    // 12 bytes of id + 16 bytes of secret, base64url.
    expect(w.s).toMatch(/^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}$/);
    const other = await client(s.port);
    expect((await other.hello()).s).not.toBe(w.s);
  });

  it('leaves plain connections alone', async () => {
    const s = await setup();
    s.wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo ${d.toString()}`)));
    const c = await client(s.port, []);
    expect(c.ws.protocol).toBe('');
    c.ws.send('\x03 not an envelope here');
    await c.until('echo', () => c.frames.length === 1);
    expect(c.frames[0]!.data.toString()).toBe('echo \x03 not an envelope here');
    expect(s.got).toEqual([]);
  });
});

describe('server companion: delivery', () => {
  it('delivers numbered messages once, in order, unwrapped to the socket listeners too, and acks cumulatively', async () => {
    const s = await setup({ ackEvery: 1000 });
    const seen: string[] = [];
    s.wss.on('connection', (ws) => ws.on('message', (d, binary) => seen.push(`${binary}:${d.toString()}`)));
    const c = await client(s.port);
    await c.hello();
    for (let i = 1; i <= 5; i++) c.send(i, `m${i}`);
    c.send(3, 'dup');
    c.ws.send('\x06unnumbered');
    await c.until('ack 5', () => c.acks().includes(5));
    expect(s.got).toEqual(['1:m1', '2:m2', '3:m3', '4:m4', '5:m5', 'undefined:unnumbered']);
    expect(seen).toEqual(['false:m1', 'false:m2', 'false:m3', 'false:m4', 'false:m5', 'false:unnumbered']);
    // Coalesced: far fewer acks than messages.
    expect(c.acks().length).toBeLessThanOrEqual(2);
  });

  it('re-sends unacknowledged messages after a resume, from the client\'s position, with the same numbers', async () => {
    const s = await setup();
    const a = await client(s.port);
    const w = await a.hello();
    const id = w.s.split('.')[0]!;
    for (let i = 1; i <= 4; i++) await s.rel.send(id, `out${i}`);
    await a.until('4 data', () => a.data().length === 4);
    a.ack(2);
    a.send(1, 'in1');
    await a.until('ack', () => a.acks().includes(1));
    await a.end();
    await s.rel.send(id, 'out5');
    const b = await client(s.port);
    const w2 = await b.hello({ s: w.s, e: w.e, r: 2 });
    expect(w2.x).toBeUndefined();
    expect(w2.r).toBe(1);
    await b.until('3 data', () => b.data().length === 3);
    expect(b.data()).toEqual(['3:out3', '4:out4', '5:out5']);
  });

  it('holds the next message and the ack while onMessage\'s promise is pending', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const s = await setup({ ackEvery: 1, onMessage: (_d, ctx) => (ctx.seq === 1 ? gate : undefined) });
    const c = await client(s.port);
    await c.hello();
    c.send(1, 'a');
    c.send(2, 'b');
    // Two ping round trips: the server read both frames and ran what they started.
    for (let i = 0; i < 2; i++) await within<void>('pong', (done) => (c.ws.once('pong', () => done()), c.ws.ping()));
    expect(s.got).toEqual(['1:a']);
    expect(c.acks()).toEqual([]);
    release();
    await c.until('ack 2', () => c.acks().includes(2));
    expect(s.got).toEqual(['1:a', '2:b']);
  });
});

describe('server companion: sessions that cannot resume', () => {
  it('answers a forged token with reset and a new session, and hands out nothing of the real one', async () => {
    const s = await setup();
    const a = await client(s.port);
    const w = await a.hello();
    const id = w.s.split('.')[0]!;
    await s.rel.send(id, 'secret-data');
    await a.until('data', () => a.data().length === 1);
    await a.end();
    const forgedSecret = w.s.slice(0, 17) + 'A'.repeat(22);
    for (const token of [forgedSecret, 'garbage', `${'x'.repeat(16)}.${'y'.repeat(22)}`]) {
      const m = await client(s.port);
      const wm = await m.hello({ s: token, e: w.e, r: 0 });
      expect(wm.x).toBe('unknown');
      expect(wm.s).not.toBe(w.s);
      expect(wm.s.split('.')[0]).not.toBe(id);
      m.ws.send('\x01{}');
      await m.closeCode();
      expect(m.frames.some((f) => f.data.toString().includes('secret-data'))).toBe(false);
    }
    // The real session is intact.
    const b = await client(s.port);
    const wb = await b.hello({ s: w.s, e: w.e, r: 0 });
    expect(wb.x).toBeUndefined();
    await b.until('replay', () => b.data().length === 1);
    expect(b.data()).toEqual(['1:secret-data']);
  });

  it('resets a session presented by another owner', async () => {
    const s = await setup({ owner: (req) => req.headers['x-user'] as string | undefined });
    const open = async (user: string): Promise<RawClient> => {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}`, ['rws.v1'], { headers: { 'x-user': user } });
      const c = new RawClient(ws);
      cleanups.push(async () => ws.terminate());
      await within<void>('open', (done) => ws.once('open', () => done()));
      return c;
    };
    const w = await (await open('alice')).hello();
    expect((await (await open('mallory')).hello({ s: w.s, e: w.e })).x).toBe('unknown');
    expect((await (await open('alice')).hello({ s: w.s, e: w.e })).x).toBeUndefined();
  });

  it('resets after a restart (new memory engine: new epoch) and after the TTL', async () => {
    const s = await setup({ sessionTtlMs: 200, engine: memoryEngine({ sweepIntervalMs: 50 }) });
    const a = await client(s.port);
    const w = await a.hello();
    await a.end();
    const s2 = await setup();
    expect((await (await client(s2.port)).hello({ s: w.s, e: w.e })).x).toBe('epoch');
    await s.rel.engine.epoch();
    const id = w.s.split('.')[0]!;
    await within<void>('expiry', (done) => {
      const t = setInterval(() => {
        void s.rel.engine.getSession(id).then((r) => {
          if (r === null) {
            clearInterval(t);
            done();
          }
        });
      }, 20);
    });
    expect((await (await client(s.port)).hello({ s: w.s, e: w.e })).x).toBe('unknown');
  });

  it('resets when the client claims more than was sent', async () => {
    const s = await setup();
    const a = await client(s.port);
    const w = await a.hello();
    await a.end();
    expect((await (await client(s.port)).hello({ s: w.s, e: w.e, r: 5 })).x).toBe('mismatch');
  });

  it('closes the older connection when a session is resumed elsewhere (4493)', async () => {
    const s = await setup();
    const a = await client(s.port);
    const w = await a.hello();
    const b = await client(s.port);
    expect((await b.hello({ s: w.s, e: w.e })).x).toBeUndefined();
    expect(await a.closeCode()).toBe(CloseCode.TakenOver);
  });

  it('evicts a session whose unacknowledged bytes pass maxBufferBytes (4494, BUFFER_FULL)', async () => {
    const s = await setup({ maxBufferBytes: 10 });
    const a = await client(s.port);
    const w = await a.hello();
    const id = w.s.split('.')[0]!;
    await s.rel.send(id, '12345');
    await expect(s.rel.send(id, '1234567')).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    expect(await a.closeCode()).toBe(CloseCode.Evicted);
    await expect(s.rel.send(id, 'x')).rejects.toMatchObject({ code: 'UNKNOWN_SESSION' });
  });
});

describe('server companion: bad input', () => {
  const cases: Array<[string, (c: RawClient) => void, number, boolean]> = [
    ['data before the hello', (c) => c.send(1, 'x'), CloseCode.NoHello, false],
    ['a plain frame before the hello (no authenticate option)', (c) => c.ws.send('{"type":"auth"}'), CloseCode.NoHello, false],
    ['a hello that is not JSON', (c) => c.ws.send('\x01{nope'), CloseCode.Malformed, false],
    ['a hello with a bad number', (c) => c.ws.send('\x01{"r":-1}'), CloseCode.Malformed, false],
    ['a hello with bad topics', (c) => c.ws.send('\x01{"t":{"a:b":["e",1]}}'), CloseCode.Malformed, false],
    ['a second hello', (c) => c.ws.send('\x01{}'), CloseCode.NoHello, true],
    ['a data header without a colon', (c) => c.ws.send('\x03zzzz'), CloseCode.Malformed, true],
    ['a non-base36 sequence number', (c) => c.ws.send('\x03A:x'), CloseCode.Malformed, true],
    ['a sequence number beyond 2^53', (c) => c.ws.send('\x03zzzzzzzzzzz:x'), CloseCode.Malformed, true],
    ['sequence number 0', (c) => c.ws.send('\x030:x'), CloseCode.Malformed, true],
    ['a gap', (c) => c.send(2, 'x'), CloseCode.OutOfRange, true],
    ['an ack of what was never sent', (c) => c.ack(1), CloseCode.OutOfRange, true],
    ['a binary hello', (c) => c.ws.send(Buffer.from([1, 2])), CloseCode.Malformed, true],
    ['a binary data frame without a header', (c) => c.ws.send(Buffer.from([3, 0x80])), CloseCode.Malformed, true],
  ];
  for (const [name, act, code, afterHello] of cases) {
    it(`closes with ${code} on ${name}, and the server lives on`, async () => {
      const s = await setup();
      const bystander = await client(s.port);
      const wb = await bystander.hello();
      const c = await client(s.port);
      if (afterHello) await c.hello();
      act(c);
      expect(await c.closeCode()).toBe(code);
      expect(c.closed!.reason).toMatch(/^rws: /);
      expect(c.closed!.reason).not.toContain(wb.s);
      bystander.send(1, 'still here');
      await bystander.until('ack', () => bystander.acks().includes(1));
      expect(s.got).toEqual(['1:still here']);
    });
  }

  it('closes when no hello comes within helloTimeoutMs', async () => {
    const s = await setup({ helloTimeoutMs: 50 });
    const c = await client(s.port);
    expect(await c.closeCode()).toBe(CloseCode.NoHello);
  });

  it('leaves oversized frames to ws (1009)', async () => {
    const s = await setup({}, { maxPayload: 1024 });
    const c = await client(s.port);
    await c.hello();
    c.send(1, 'x'.repeat(2000));
    expect(await c.closeCode()).toBe(1009);
  });
});

describe('server companion: topics', () => {
  it('fans out, and replays what a client missed once on resume; beyond the history, says trimmed', async () => {
    const s = await setup({ engine: memoryEngine({ topicMaxEntries: 3 }) });
    const a = await client(s.port);
    const w = await a.hello();
    const id = w.s.split('.')[0]!;
    await s.rel.subscribe(id, 'room/1');
    await a.until('topic info', () => a.texts(8).length === 1);
    expect(JSON.parse(a.texts(8)[0]!)).toEqual({ t: 'room/1', e: w.e, o: 0 });
    await s.rel.publish('room/1', 'p1');
    await s.rel.publish('room/2', 'elsewhere');
    await a.until('p1', () => a.texts(7).length === 1);
    expect(a.texts(7)).toEqual(['1,room/1:p1']);
    await a.end();
    await s.rel.publish('room/1', 'p2');
    await s.rel.publish('room/1', 'p3');
    const b = await client(s.port);
    await b.hello({ s: w.s, e: w.e, t: { 'room/1': [w.e, 1] } });
    await b.until('p2 p3', () => b.texts(7).length === 2);
    expect(b.texts(7)).toEqual(['2,room/1:p2', '3,room/1:p3']);
    await b.end();
    for (const p of ['p4', 'p5', 'p6', 'p7']) await s.rel.publish('room/1', p);
    const c = await client(s.port);
    await c.hello({ s: w.s, e: w.e, t: { 'room/1': [w.e, 3] } });
    await c.until('trimmed + 3', () => c.texts(7).length === 3);
    expect(JSON.parse(c.texts(8)[0]!)).toMatchObject({ t: 'room/1', o: 4, x: 'trimmed' });
    expect(c.texts(7)).toEqual(['5,room/1:p5', '6,room/1:p6', '7,room/1:p7']);
  });

  it('refuses bad topic names', async () => {
    const s = await setup();
    await expect(s.rel.publish('a:b', 'x')).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
  });
});

describe('server companion: authentication by a first message', () => {
  it('hands the plain frame before the hello to authenticate, holds the hello for its verdict, and takes the owner it names', async () => {
    const seen: string[] = [];
    let admit!: () => void;
    const held = new Promise<void>((r) => (admit = r));
    const s = await setup({
      authenticate: async (data, { socket, binary }) => {
        const { user, wait } = JSON.parse(data.toString()) as { user: string; wait?: boolean };
        seen.push(`${user}:${binary}:${socket.protocol}`);
        if (wait) await held;
        return user === 'nobody' ? false : user;
      },
      onSession: (session, { resumed }) => seen.push(`session:${resumed}`),
    });
    const a = await client(s.port);
    a.ws.send(JSON.stringify({ user: 'alice', wait: true }));
    a.ws.send('\x01{}');
    a.send(1, 'first');
    await expect.poll(() => seen).toEqual(['alice:false:rws.v1']);
    // The verdict is pending: the hello and the data behind it wait, unread.
    expect(a.texts(2)).toEqual([]);
    admit();
    await a.until('welcome', () => a.texts(2).length === 1);
    await a.until('ack', () => a.acks().includes(1));
    expect(s.got).toEqual(['1:first']);
    const w = JSON.parse(a.texts(2)[0]!) as Welcome;
    await a.end();

    // The owner came from authenticate: another user presenting alice's token gets a new session.
    const m = await client(s.port);
    m.ws.send(JSON.stringify({ user: 'mallory' }));
    expect((await m.hello({ s: w.s, e: w.e, r: 0 })).x).toBe('unknown');
    const b = await client(s.port);
    b.ws.send(JSON.stringify({ user: 'alice' }));
    expect((await b.hello({ s: w.s, e: w.e, r: 0 })).x).toBeUndefined();
    expect(seen.filter((x) => x.startsWith('session:'))).toEqual(['session:false', 'session:false', 'session:true']);
  });

  it('refuses with 1008 on a false verdict, a throw, or a hello first; the app\'s own close code wins; a second plain frame is 4492', async () => {
    const s = await setup({
      authenticate: (data, { socket }) => {
        const t = data.toString();
        if (t === 'throw') throw new Error('check failed');
        if (t === 'mine') socket.close(4001, 'invalid token');
        return t === 'ok';
      },
    });
    for (const [first, code] of [['no', 1008], ['throw', 1008], ['mine', 4001]] as const) {
      const c = await client(s.port);
      c.ws.send(first);
      c.ws.send('\x01{}');
      expect(await c.closeCode()).toBe(code);
      expect(c.texts(2)).toEqual([]);
    }
    const early = await client(s.port);
    early.ws.send('\x01{}');
    expect(await early.closeCode()).toBe(CloseCode.Unauthenticated);
    expect(early.closed!.reason).toBe('rws: not authenticated');
    const twice = await client(s.port);
    twice.ws.send('ok');
    twice.ws.send('ok');
    expect(await twice.closeCode()).toBe(CloseCode.NoHello);
    expect(s.events).toEqual(['error:check failed']);

    // Accepted connections work as without the option.
    const fine = await client(s.port);
    fine.ws.send('ok');
    await fine.hello();
    fine.send(1, 'x');
    await fine.until('ack', () => fine.acks().includes(1));
    expect(s.got).toEqual(['1:x']);
  });
});
