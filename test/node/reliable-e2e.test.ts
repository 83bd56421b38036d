// End-to-end delivery: the client plug-in on the `ws` package's WebSocket, the server companion
// on a real `ws` server, and a TCP proxy between them that cuts, stalls and resets on command.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { ResilientWebSocket, heartbeat } from '../../src/index.js';
import type { ClientEvents } from '../../src/events.js';
import { reliable, type Reliable } from '../../src/reliable.js';
import { attach, memoryEngine, type AttachOptions, type ReliableServer, type Session } from '../../src/server/index.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
});

/** Resolves when `check()` holds, re-checked every few ms; rejects after `ms` with `what`. */
function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() - started > ms) {
        clearInterval(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 5);
  });
}

interface Srv {
  wss: WebSocketServer;
  rel: ReliableServer;
  port: number;
  /** Messages received, per session id. */
  got: Map<string, string[]>;
  sessions: Session[];
  stop(): Promise<void>;
}

async function server(options: AttachOptions = {}): Promise<Srv> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const got = new Map<string, string[]>();
  const sessions: Session[] = [];
  const rel = attach(wss, {
    onError: () => undefined,
    ...options,
    onSession: (s, info) => {
      sessions.push(s);
      options.onSession?.(s, info);
    },
    onMessage: (data, ctx) => {
      const text = data.toString();
      // The heartbeat's ping comes unnumbered, past the plug-in: answer it plainly.
      if (ctx.seq === undefined && text === 'ping') return void ctx.session.socket?.send('pong');
      let list = got.get(ctx.session.id);
      if (!list) got.set(ctx.session.id, (list = []));
      list.push(text);
    },
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await rel.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  };
  cleanups.push(stop);
  return { wss, rel, port: (wss.address() as AddressInfo).port, got, sessions, stop };
}

async function proxy(port: number): Promise<TcpProxy> {
  const p = await TcpProxy.start(port);
  cleanups.push(() => p.close());
  return p;
}

type Reset = ClientEvents['reset'];

function client(port: number, rel: Reliable, extra: Record<string, unknown> = {}): { ws: ResilientWebSocket<string, string>; got: string[]; resets: Reset[] } {
  const ws = new ResilientWebSocket<string, string>(`ws://127.0.0.1:${port}`, [], {
    WebSocket: NodeWebSocket as never,
    plugins: [rel],
    reconnect: { minDelay: 5, maxDelay: 40 },
    ...extra,
  } as never);
  const got: string[] = [];
  const resets: Reset[] = [];
  ws.on('message', ({ data }) => got.push(String(data)));
  ws.on('reset', (r) => resets.push(r));
  cleanups.push(() => ws.close());
  return { ws, got, resets };
}

/** A Map-backed sessionStorage, so the plug-in's persistence runs in Node. */
function fakeStorage(initial: Record<string, string> = {}): Map<string, string> {
  const m = new Map(Object.entries(initial));
  (globalThis as { sessionStorage?: unknown }).sessionStorage = {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
  return m;
}

const numbered = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('reliable: end to end', () => {
  it('delivers 10 000 messages each way once, in order, while the link is cut every few hundred ms', async () => {
    const N = 10_000;
    const s = await server();
    const p = await proxy(s.port);
    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel);
    await until('a session', () => s.sessions.length > 0);
    const id = s.sessions[0]!.id;
    // Faults every few hundred ms, and also every ~600 delivered messages, so a fast machine
    // still sees many faults mid-stream: a cut (FIN) twice, then a reset (RST).
    let cuts = 0;
    let mark = 0;
    const fault = (): void => {
      cuts++;
      if (cuts % 3 === 0) p.reset();
      else p.cut();
    };
    const chaos = setInterval(fault, 150 + Math.floor(Math.random() * 200));
    cleanups.push(() => clearInterval(chaos));
    const delivered = (): number => {
      const done = (s.got.get(id)?.length ?? 0) + c.got.length;
      if (done - mark >= 600) {
        mark = done;
        fault();
      }
      return done;
    };
    // Paced by progress, not by time: batch k goes out once most of batch k-2 arrived.
    const acks: Array<Promise<void>> = [];
    const B = 200;
    for (let k = 0; k < N / B; k++) {
      for (let i = k * B + 1; i <= (k + 1) * B; i++) {
        acks.push(rel.sendReliable(`c${i}`));
        void s.rel.send(id, `s${i}`);
      }
      await until(`batch ${k - 2}`, () => delivered() >= 2 * (k - 1) * B, 60_000);
    }
    await until('both streams', () => delivered() >= 2 * N, 90_000);
    clearInterval(chaos);
    await Promise.all(acks);
    expect(s.got.get(id)).toEqual(numbered('c', N));
    expect(c.got).toEqual(numbered('s', N));
    expect(s.got.size).toBe(1);
    expect(cuts).toBeGreaterThanOrEqual(20);
    expect(p.connections).toBeGreaterThan(10);
  }, 120_000);

  it('loses 0 bytes of a 16 MiB send when the server stalls until the heartbeat fires', async () => {
    const s = await server();
    const p = await proxy(s.port);
    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel, { heartbeat: heartbeat({ interval: 100, timeout: 300 }) });
    const closes: number[] = [];
    c.ws.on('close', ({ code }) => closes.push(code));
    await until('open', () => s.sessions.length > 0);
    const chunk = 'x'.repeat(64 * 1024 - 8);
    const messages = Array.from({ length: 256 }, (_, i) => `${String(i).padStart(7, '0')}:${chunk}`);
    p.stall();
    const acks = messages.map((m) => rel.sendReliable(m));
    await until('the heartbeat to declare the link dead', () => closes.length > 0);
    p.cut();
    p.resume();
    await Promise.all(acks);
    const got = s.got.get(s.sessions[0]!.id)!;
    expect(got.length).toBe(messages.length);
    expect(got).toEqual(messages);
    expect(got.reduce((n, m) => n + m.length, 0)).toBeGreaterThanOrEqual(16 * 1024 * 1024 - 256 * 8);
  }, 60_000);

  it('resets a forged session and hands it nothing of the real one', async () => {
    const s = await server();
    const store = fakeStorage();
    const page = fakePage();
    const a = reliable({ storageKey: 'a' });
    const ca = client(s.port, a, { page: false });
    await a.sendReliable('from-a');
    const real = s.sessions[0]!;
    await s.rel.send(real.id, 'for-a-only');
    await until('a got it', () => ca.got.includes('for-a-only'));
    // A's saved state, with the secret half of the token replaced.
    page.hide();
    const saved = JSON.parse(store.get('a') ?? 'null') as { s: string } | null;
    expect(saved).not.toBeNull();
    const forged = { ...saved!, s: saved!.s.slice(0, 17) + 'B'.repeat(22) };
    store.set('b', JSON.stringify(forged));
    const b = reliable({ storageKey: 'b' });
    const cb = client(s.port, b, { page: false });
    await until('b reset', () => cb.resets.length > 0);
    expect(cb.resets[0]).toMatchObject({ reason: 'unknown', topic: undefined });
    await b.sendReliable('from-b');
    expect(s.sessions.length).toBe(2);
    expect(s.sessions[1]!.id).not.toBe(real.id);
    expect(cb.got).toEqual([]);
    expect(s.got.get(real.id)).toEqual(['from-a']);
    expect(s.got.get(s.sessions[1]!.id)).toEqual(['from-b']);
  });

  it('a save that fails leaves no older entry to resume from, and close() forgets the session', async () => {
    const s = await server();
    const store = fakeStorage();
    const page = fakePage();
    const rel = reliable({ storageKey: 'k' });
    const c = client(s.port, rel, { page: false });
    await rel.sendReliable('one');
    page.hide();
    expect(store.has('k')).toBe(true);
    // The next save cannot be written (storage full): the stale entry must not survive it, or a
    // reload would resume with numbers the server already has and lose messages quietly.
    (globalThis as { sessionStorage: { setItem: unknown } }).sessionStorage.setItem = () => {
      throw new Error('QuotaExceededError');
    };
    await rel.sendReliable('two');
    page.hide();
    expect(store.has('k')).toBe(false);
    // A working storage again, then a close for good: nothing is left to resume.
    const again = fakeStorage();
    page.hide();
    expect(again.has('k')).toBe(true);
    c.ws.close();
    await until('closed', () => c.ws.state === 'closed');
    expect(again.has('k')).toBe(false);
  });

  it('after a server restart (memory engine): reset, typed rejections, nothing replayed into the new session', async () => {
    const s1 = await server();
    const p = await proxy(s1.port);
    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel);
    await rel.sendReliable('before');
    p.stall();
    const pending = ['lost1', 'lost2', 'lost3'].map((m) => rel.sendReliable(m));
    const settled = pending.map((x) => x.then(() => 'resolved', (e: { code?: string }) => e.code));
    await s1.stop();
    const s2 = await server();
    p.target = s2.port;
    p.cut();
    p.resume();
    expect(await Promise.all(settled)).toEqual(['SESSION_RESET', 'SESSION_RESET', 'SESSION_RESET']);
    expect(c.resets).toEqual([{ reason: 'epoch', topic: undefined, lost: 3 }]);
    await rel.sendReliable('after');
    expect([...s2.got.values()]).toEqual([['after']]);
    expect(c.ws.state).toBe('open');
  });

  it('after the session TTL: reset and typed rejections', async () => {
    const s = await server({ sessionTtlMs: 150, engine: memoryEngine({ sweepIntervalMs: 20 }) });
    const p = await proxy(s.port);
    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel);
    await rel.sendReliable('one');
    const id = s.sessions[0]!.id;
    p.refuse = true;
    p.cut();
    const late = rel.sendReliable('late').catch((e: { code?: string }) => e.code);
    let expired = false;
    await until('expiry', () => {
      void s.rel.engine.getSession(id).then((r) => (expired = r === null));
      return expired;
    });
    p.refuse = false;
    expect(await late).toBe('SESSION_RESET');
    expect(c.resets[0]).toMatchObject({ reason: 'unknown', lost: 1 });
  });

  it('replays a topic after an outage, once', async () => {
    const s = await server({ onSession: (session) => void session.subscribe('news') });
    const p = await proxy(s.port);
    const rel = reliable({ storageKey: false });
    const c = client(p.port, rel);
    await until('subscribed', () => s.sessions.length > 0);
    await rel.sendReliable('hi');
    await s.rel.publish('news', 'n1');
    await until('n1', () => c.got.includes('n1'));
    p.refuse = true;
    p.cut();
    await s.rel.publish('news', 'n2');
    await s.rel.publish('news', 'n3');
    p.refuse = false;
    await until('n2 n3', () => c.got.length >= 3);
    await rel.sendReliable('barrier');
    expect(c.got).toEqual(['n1', 'n2', 'n3']);
  });
});

/** A minimal window and document, so the plug-in's pagehide listener runs in Node. */
function fakePage(): { hide(): void } {
  const g = globalThis as { window?: unknown; document?: unknown };
  const win = new EventTarget();
  g.window = win;
  g.document = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  cleanups.push(() => {
    delete g.window;
    delete g.document;
  });
  return { hide: () => void win.dispatchEvent(new Event('pagehide')) };
}
