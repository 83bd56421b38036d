// reliable() and tabs() on one client, in Chromium: several pages of one origin share one
// connection to the server companion, each page keeps its own session in a lane of it
// (`tabs({ lanes: lanes() })`), and the faults are real (a closed page, a renderer crash, a
// page stopped in the debugger). The server records every application message with its
// session and number, so a message delivered twice or lost shows.
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { attach, type ReliableServer, type Session } from '../../src/server/index.js';
import { launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../support/chromium.js';
import { allOpen, crashPage, leaderOf, openPages, stopPage, until as wait, type Tab as TabOf, type TabSnapshot } from '../support/tab-pages.js';

/** A longer default bound than the plain tabs tests: sessions resume after a handover. */
const until = (what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => wait(what, cond, ms);
import { ensureBuilt, REPO_ROOT } from './harness.js';

// One tab: a core client with reliable() and tabs() with lanes, from the built bundles.
const PAGE = String.raw`<!doctype html>
<meta charset="utf-8">
<title>tabs + reliable</title>
<link rel="icon" href="data:,">
<script type="importmap">{"imports":{"mitt":"/node_modules/mitt/dist/mitt.mjs"}}</script>
<script type="module">
import { ResilientWebSocket } from '/dist/core.mjs';
import { tabs } from '/dist/tabs.mjs';
import { reliable, lanes } from '/dist/reliable.mjs';
const q = new URLSearchParams(location.search);
const tab = tabs({ name: 'tabs-reliable', version: q.get('version') || '1', stealAfter: Number(q.get('steal') || 1000), lanes: lanes() });
// ?plain=1: a tab without reliable() (a misconfigured one), with a small retry budget.
const plain = q.get('plain') === '1';
const rel = reliable();
const ws = new ResilientWebSocket(q.get('ws'), ['chat'], tab.options({ plugins: plain ? [] : [rel], reconnect: plain ? { minDelay: 50, maxDelay: 100, maxRetries: 2 } : { minDelay: 200, maxDelay: 1000 } }));
const log = { received: [], resets: [], results: [], giveups: [] };
ws.on('giveup', (g) => log.giveups.push(g.reason));
// The plain tab writes on every open: a frame the server refuses as the lane's first.
if (plain) ws.on('open', () => ws.send('not a hello'));
ws.on('message', ({ data }) => log.received.push(String(data)));
ws.on('reset', (r) => log.resets.push(r.reason));
let seq = 0;
let timer;
const reliably = (data) => rel.sendReliable(data).then(() => 'ok', (e) => e.code);
window.rt = {
  id: tab.id,
  log,
  snapshot: () => {
    const s = ws.getSnapshot();
    return { state: s.state, leader: s.leader, shared: s.shared, protocol: ws.protocol, unacked: rel.unacked };
  },
  reliably,
  send: (data) => ws.send(data),
  close: () => ws.close(),
  // A numbered sendReliable() every 'ms', each one's outcome kept in order.
  start(ms) {
    timer = setInterval(() => {
      const n = seq++;
      log.results[n] = 'pending';
      reliably(tab.id + ':' + n).then((r) => (log.results[n] = r));
    }, ms);
  },
  stop() {
    clearInterval(timer);
    return seq;
  },
  // 'n' numbered sendReliable() calls at once, then a reload before the server can ack them.
  burstAndReload(n) {
    for (let i = 0; i < n; i++) rel.sendReliable('burst:' + i);
    const unacked = rel.unacked;
    location.reload();
    return unacked;
  },
};
</script>`;

interface Conn {
  socket: WebSocket;
  openedAt: number;
  close?: number;
}
interface Got {
  session: string;
  seq: number | undefined;
  data: string;
  conn: number;
}

let browser: LaunchedBrowser;
let web: StaticServer;
let context: BrowserContext | undefined;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  ensureBuilt();
  web = await serveStatic(REPO_ROOT, { '/tabs-reliable.html': PAGE });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});
afterEach(async () => {
  await context?.close().catch(() => undefined);
  context = undefined;
  while (cleanups.length) await cleanups.pop()!();
});

/** A `ws` server with the companion; it records connections (with their close codes), sessions and messages. */
async function server({ lanes = true, topic }: { lanes?: boolean; topic?: string } = {}) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const conns: Conn[] = [];
  const sessions: Session[] = [];
  const got: Got[] = [];
  wss.on('connection', (socket) => {
    const c: Conn = { socket, openedAt: Date.now() };
    conns.push(c);
    socket.on('close', (code) => (c.close = code));
  });
  const rel: ReliableServer = attach(wss, {
    lanes,
    onError: () => undefined,
    onSession: (s) => {
      sessions.push(s);
      if (topic) void s.subscribe(topic);
    },
    onMessage: (data, { session, seq }) => {
      got.push({ session: session.id, seq, data: data.toString(), conn: conns.findIndex((c) => c.socket === session.socket) });
    },
  });
  cleanups.push(async () => {
    await rel.close();
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  });
  return {
    rel,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    conns,
    live: () => conns.filter((c) => c.close === undefined),
    sessions,
    got,
    /** The session a tab's messages came in on (each tab says hello with its id first). */
    sessionOf: (id: string) => got.find((g) => g.data === `hello ${id}`)?.session,
    /** What the server delivered of a tab's numbered stream, in order. */
    stream: (id: string) => got.filter((g) => g.data.startsWith(`${id}:`)),
  };
}
type Srv = Awaited<ReturnType<typeof server>>;

type Tab = TabOf<TabSnapshot & { protocol: string; unacked: number }>;

async function openTabs(s: Srv, count: number, query: Record<string, string> = {}, ctx?: BrowserContext): Promise<Tab[]> {
  context ??= await browser.browser.newContext();
  const qs = new URLSearchParams({ ws: s.url, ...query }).toString();
  return openPages(ctx ?? context, `${web.origin}/tabs-reliable.html?${qs}`, 'rt', count);
}

/** Every tab says hello reliably (so the server knows its session) and gets 'ok'. */
async function hello(tabs: Tab[]): Promise<void> {
  for (const t of tabs) expect(await t.call('reliably', `hello ${t.id}`)).toBe('ok');
}

/**
 * Stops `tab`'s numbered stream, waits until every call settled, and checks that each one
 * resolved and that the server delivered each message once, in order, with contiguous numbers
 * in one session.
 */
async function checkStream(s: Srv, tab: Tab): Promise<number> {
  const sent = await tab.call<number>('stop');
  expect(sent).toBeGreaterThan(10);
  await until(`every sendReliable() of ${tab.id} settled`, async () => (await tab.call<{ results: string[] }>('log')).results.every((r) => r !== 'pending'));
  const { results } = await tab.call<{ results: string[] }>('log');
  expect(results).toEqual(Array.from({ length: sent }, () => 'ok'));
  const got = s.stream(tab.id);
  expect(got.map((g) => g.data)).toEqual(Array.from({ length: sent }, (_, i) => `${tab.id}:${i}`));
  const session = s.sessionOf(tab.id);
  expect(new Set(got.map((g) => g.session))).toEqual(new Set([session]));
  // The session's numbers: hello first, then the stream, no gaps, no repeats.
  const seqs = s.got.filter((g) => g.session === session).map((g) => g.seq);
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  return got.length;
}

describe('reliable() + tabs({ lanes }): one connection, a session per tab', () => {
  it('4 pages → 1 connection and 4 sessions; sendReliable() settles in each page; server sends reach only their page', async () => {
    const s = await server({ topic: 'news' });
    const tabs = await openTabs(s, 4);
    await until('all 4 tabs open', () => allOpen(tabs));
    await hello(tabs);
    expect(s.conns.length).toBe(1);
    expect((await leaderOf(tabs)).length).toBe(1);
    for (const t of tabs) expect(await t.snapshot()).toMatchObject({ shared: true, protocol: 'chat' });
    const ids = tabs.map((t) => s.sessionOf(t.id));
    expect(new Set(ids).size).toBe(4);
    for (const [i, t] of tabs.entries()) await s.rel.send(ids[i]!, `for ${t.id}`);
    await s.rel.publish('news', 'n1');
    await until('the replies and the topic in every tab', async () => (await Promise.all(tabs.map((t) => t.call<{ received: string[] }>('log')))).every((l) => l.received.length >= 2));
    await hello(tabs);
    for (const t of tabs) expect((await t.call<{ received: string[] }>('log')).received.sort()).toEqual([`for ${t.id}`, 'n1'].sort());
    expect(s.conns.length).toBe(1);
    expect(s.conns[0]!.close).toBeUndefined();
    // Each message once, numbered in its own session.
    for (const g of s.got) expect(g.seq).toBeGreaterThan(0);
    expect(s.got.length).toBe(8);
  });

  // From the fault to the new leader's connection at the server, then every stream checked.
  const handover = async (fault: (leader: Tab) => Promise<void>, label: string): Promise<void> => {
    const s = await server();
    const tabs = await openTabs(s, 4);
    await until('all 4 tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => s.got.length > 40);
    const at = Date.now();
    await fault(leader!);
    await until('a second connection', () => s.conns.length === 2, 5000);
    const took = s.conns[1]!.openedAt - at;
    await until('a new leader among the followers', async () => (await leaderOf(followers)).length === 1);
    await until('every follower open again', () => allOpen(followers));
    const after = s.got.length;
    await until('traffic on the new connection', () => s.got.length > after + 40);
    for (const f of followers) await checkStream(s, f);
    // The followers' sessions moved to the new connection; none was reset.
    for (const f of followers) expect((await f.call<{ resets: string[] }>('log')).resets).toEqual([]);
    expect(new Set(s.got.slice(after).map((g) => g.conn))).toEqual(new Set([1]));
    console.log(`tabs + reliable handover after ${label}: new connection ${took} ms after the fault`);
    expect(took).toBeLessThan(2000);
  };

  it('closing the leader page while followers sendReliable() every 20 ms: every message once, in order, each promise resolved', async () => {
    await handover((leader) => leader.page.close(), 'page close');
  });

  it('crashing the leader renderer: the same', async () => {
    await handover((leader) => crashPage(leader.page), 'renderer crash');
  });

  it('a stopped leader is replaced; the companion fences its connection (4493) and it follows when it runs again', async () => {
    const s = await server();
    const stealAfter = 1000;
    const tabs = await openTabs(s, 3, { steal: String(stealAfter) });
    await until('all 3 tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => s.got.length > 30);
    const stopped = await stopPage(leader!.page);
    await until('a second connection', () => s.conns.length === 2, 10_000);
    await until('every follower open again', () => allOpen(followers));
    // The first follower session that resumed on the new connection closed the old one.
    await until('the old connection fenced', () => s.conns[0]!.close !== undefined);
    expect(s.conns[0]!.close).toBe(4493);
    await stopped.resume();
    await until('the thawed tab follows', async () => {
      const st = await leader!.snapshot();
      return st.leader === false && st.state === 'open';
    });
    expect(await leader!.call('reliably', 'after thaw')).toBe('ok');
    expect(s.got.filter((g) => g.data === 'after thaw')).toHaveLength(1);
    for (const f of followers) await checkStream(s, f);
    expect(s.conns.length).toBe(2);
    // The thawed leader's session resumed too: its numbers go on without a repeat.
    const mine = s.got.filter((g) => g.session === s.sessionOf(leader!.id)).map((g) => g.seq);
    expect(mine).toEqual([1, 2]);
  });

  it('crashing the leader while the server reads nothing: what sat in the dead socket’s buffers arrives once after the handover', async () => {
    const s = await server();
    const tabs = await openTabs(s, 3);
    await until('all 3 tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => s.got.length > 20);
    // The server stops reading: the leader writes the followers' frames into the kernel buffers.
    const first = s.conns[0]!;
    (first.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = s.got.length;
    await until('messages the server has not read', async () => (await Promise.all(followers.map((f) => f.snapshot()))).every((x) => x.unacked > 5));
    expect(s.got.length).toBe(before);
    await crashPage(leader!.page);
    // The frames the leader wrote die unread with its socket.
    first.socket.terminate();
    await until('a second connection', () => s.conns.length === 2, 5000);
    await until('every follower open again', () => allOpen(followers));
    const after = s.got.length;
    await until('traffic on the new connection', () => s.got.length > after + 40);
    for (const f of followers) await checkStream(s, f);
  });

  it('a follower reloads with unacknowledged messages: its session resumes in a new lane of the same connection, each message once', async () => {
    const s = await server();
    const tabs = await openTabs(s, 2);
    await until('both tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const follower = tabs.find((t) => t !== leader)!;
    const session = s.sessionOf(follower.id)!;
    const N = 200;
    const loaded = follower.page.waitForEvent('load');
    const unacked = await follower.page.evaluate((n) => (window as any).rt.burstAndReload(n), N);
    expect(unacked).toBe(N);
    await loaded;
    await follower.page.waitForFunction(() => (window as any).rt !== undefined, undefined, { timeout: 10_000 });
    const burst = () => s.got.filter((g) => g.session === session && g.data.startsWith('burst:'));
    await until(`the ${N} burst messages`, () => burst().length >= N);
    // A barrier in the resumed session: a duplicate would have come before its ack.
    expect(await follower.call('reliably', 'barrier')).toBe('ok');
    expect(burst().map((g) => g.data)).toEqual(Array.from({ length: N }, (_, i) => `burst:${i}`));
    const seqs = s.got.filter((g) => g.session === session).map((g) => g.seq);
    expect(seqs).toEqual(Array.from({ length: N + 2 }, (_, i) => i + 1));
    expect(s.got.find((g) => g.data === 'barrier')!.session).toBe(session);
    // The same connection throughout: the old lane was let go, nothing was closed.
    expect(s.conns.length).toBe(1);
    expect(s.conns[0]!.close).toBeUndefined();
    expect((await follower.snapshot()).leader).toBe(false);
  });

  it('server → tabs across a handover: each page gets its own messages and the topic once, in order', async () => {
    const s = await server({ topic: 'news' });
    const tabs = await openTabs(s, 3);
    await until('all 3 tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    const N = 300;
    let i = 0;
    const push = async (): Promise<void> => {
      i++;
      for (const f of followers) await s.rel.send(s.sessionOf(f.id)!, `to ${f.id} ${i}`);
      await s.rel.publish('news', `news ${i}`);
    };
    while (i < N / 2) await push();
    await leader!.page.close();
    while (i < N) await push();
    await until('everything in both followers', async () => (await Promise.all(followers.map((f) => f.call<{ received: string[] }>('log')))).every((l) => l.received.length >= 2 * N));
    await hello(followers);
    for (const f of followers) {
      const { received } = await f.call<{ received: string[] }>('log');
      const seq = (p: string) => received.filter((r) => r.startsWith(p)).map((r) => Number(r.slice(p.length)));
      const all = Array.from({ length: N }, (_, k) => k + 1);
      expect(seq(`to ${f.id} `)).toEqual(all);
      expect(seq('news ')).toEqual(all);
      expect(received.length).toBe(2 * N);
    }
  });

  it('close() in a follower ends its lane only: its session lets go, the others carry on', async () => {
    const s = await server();
    const tabs = await openTabs(s, 3);
    await until('all 3 tabs open', () => allOpen(tabs));
    await hello(tabs);
    const [leader] = await leaderOf(tabs);
    const [gone, stay] = tabs.filter((t) => t !== leader) as [Tab, Tab];
    const session = s.sessions.find((x) => x.id === s.sessionOf(gone.id))!;
    expect(session.socket).toBe(s.conns[0]!.socket);
    await gone.call('close');
    await until('the session detached', () => session.socket === undefined);
    expect((await gone.snapshot()).state).toBe('closed');
    for (const t of [leader!, stay]) expect(await t.call('reliably', `after ${t.id}`)).toBe('ok');
    expect(s.conns.length).toBe(1);
    expect(s.conns[0]!.close).toBeUndefined();
    for (const t of [leader!, stay]) expect(s.sessions.find((x) => x.id === s.sessionOf(t.id))!.socket).toBe(s.conns[0]!.socket);
  });

  it('a follower whose lane the server refuses takes the backoff and the retry budget; the shared connection stays', async () => {
    const s = await server();
    const tabs = await openTabs(s, 2);
    await until('both tabs open', () => allOpen(tabs));
    await hello(tabs);
    // No reliable() in this tab: its first frame in its lane is no hello, and the server closes the lane (4492).
    const [bad] = await openTabs(s, 1, { plain: '1' });
    await until('the refused tab gives up', async () => (await bad!.call<{ giveups: string[] }>('log')).giveups.length > 0, 10_000);
    expect((await bad!.snapshot()).state).toBe('closed');
    expect(s.got.some((g) => g.data === 'not a hello')).toBe(false);
    for (const t of tabs) expect(await t.call('reliably', `still ${t.id}`)).toBe('ok');
    expect(s.conns.length).toBe(1);
    expect(s.conns[0]!.close).toBeUndefined();
  });

  it('a companion without lanes: the leader’s page speaks rws.v1, the others stay plain (PROTOCOL_MISMATCH), on one connection', async () => {
    const s = await server({ lanes: false });
    const tabs = await openTabs(s, 3);
    await until('all 3 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    expect(await leader!.call('reliably', `hello ${leader!.id}`)).toBe('ok');
    for (const f of followers) {
      expect(await f.call('reliably', 'numbered')).toBe('PROTOCOL_MISMATCH');
      expect(await f.call('send', `plain ${f.id}`)).toBe('sent');
    }
    await until('the plain messages', () => followers.every((f) => s.got.some((g) => g.data === `plain ${f.id}`)));
    expect(s.conns.length).toBe(1);
    expect(s.conns[0]!.close).toBeUndefined();
    expect(s.sessions.length).toBe(1);
    for (const f of followers) expect(s.got.find((g) => g.data === `plain ${f.id}`)!.seq).toBeUndefined();
  });

  it('without Web Locks each page keeps its own socket and session', async () => {
    const s = await server();
    context = await browser.browser.newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { value: undefined, configurable: true }));
    const tabs = await openTabs(s, 3);
    await until('all 3 tabs open', () => allOpen(tabs));
    await hello(tabs);
    expect(s.conns.length).toBe(3);
    for (const t of tabs) expect(await t.snapshot()).toMatchObject({ leader: true, shared: false, protocol: 'chat' });
    expect(new Set(tabs.map((t) => s.sessionOf(t.id))).size).toBe(3);
  });
});
