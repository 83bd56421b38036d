// resilient-ws/tabs in Chromium: several pages of one origin in one browser context share one
// connection to a real `ws` server that records every connection and every frame it read.
// Faults are real: a closed page, a renderer crash and a frozen page (DevTools protocol).
import { type BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { ensureBuilt, REPO_ROOT } from './harness.js';
import { launchChromium, serveStatic, type LaunchedBrowser, type StaticServer } from '../support/chromium.js';
import { allOpen, crashPage, hangPage, leaderOf, openPages, until, type Tab as TabOf, type TabSnapshot } from '../support/tab-pages.js';

interface Conn {
  n: number;
  socket: WebSocket;
  openedAt: number;
  closedAt?: number;
  frames: Array<{ at: number; data: string }>;
  /** With `holdCloses`: sends the held reply to the client's close frame (its close event). */
  release?: () => void;
}

/**
 * A `ws` server on 127.0.0.1, port 0, that keeps every connection and what each one wrote;
 * `refuse(true)` answers new handshakes with 503 (the server is away) until `refuse(false)`.
 * With `holdCloses`, each connection greets with `welcome <n>` and holds its reply to the
 * client's close frame until `release()`, so the client's close event comes when a test says.
 */
async function recordingServer({ holdCloses = false } = {}) {
  let refusing = false;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => cb(!refusing, 503) });
  await new Promise<void>((ok) => wss.once('listening', () => ok()));
  const conns: Conn[] = [];
  wss.on('connection', (socket) => {
    const c: Conn = { n: conns.length, socket, openedAt: Date.now(), frames: [] };
    conns.push(c);
    if (holdCloses) {
      socket.send(`welcome ${c.n}`);
      const reply = socket.close.bind(socket);
      // `ws` answers a close frame by calling close() on the socket: that answer waits.
      socket.close = (...a: Parameters<WebSocket['close']>) => void (c.release = () => reply(...a));
    }
    socket.on('message', (data) => c.frames.push({ at: Date.now(), data: String(data) }));
    socket.on('close', () => (c.closedAt = Date.now()));
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/`,
    conns,
    live: () => conns.filter((c) => c.closedAt === undefined),
    frames: () => conns.flatMap((c) => c.frames.map((f) => ({ ...f, conn: c.n }))),
    push: (data: string) => conns.forEach((c) => c.closedAt === undefined && c.socket.send(data)),
    refuse: (on: boolean) => void (refusing = on),
    /** Drops every live connection (no closing handshake). */
    kill: () => conns.forEach((c) => c.socket.terminate()),
    close: () =>
      new Promise<void>((ok) => {
        for (const c of conns) c.socket.terminate();
        wss.close(() => ok());
      }),
  };
}
type Server = Awaited<ReturnType<typeof recordingServer>>;

let browser: LaunchedBrowser;
let web: StaticServer;
let server: Server;
let context: BrowserContext | undefined;

beforeAll(async () => {
  ensureBuilt();
  web = await serveStatic(REPO_ROOT);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await web?.close();
});
afterEach(async () => {
  await context?.close().catch(() => undefined);
  context = undefined;
  await server?.close();
});

type Tab = TabOf<TabSnapshot & { queued: number }>;

async function openTabs(count: number, query: Record<string, string> = {}, ctx?: BrowserContext): Promise<Tab[]> {
  context ??= await browser.browser.newContext();
  const qs = new URLSearchParams({ ws: server.url, ...query }).toString();
  return openPages(ctx ?? context, `${web.origin}/test/browser/tabs/page.html?${qs}`, 'tabsTest', count);
}

/**
 * What the server read from `tab`'s numbered sequence, in order; every accepted send is there
 * exactly once and in order (the sequence stopped, the queue drained). `repeats`: how many
 * frames may come a second time right after their first copy, for a leader that died between
 * writing a frame and telling its tab (the one at-least-once instant without end-to-end
 * delivery); nothing may be lost or reordered.
 */
async function checkSequence(tab: Tab, repeats = 0): Promise<number> {
  const sends = await tab.call<Array<{ n: number; result: string }>>('stop');
  const accepted = sends.filter((s) => s.result !== 'dropped').map((s) => s.n);
  expect(accepted.length).toBeGreaterThan(10);
  const read = () =>
    server
      .frames()
      .filter((f) => f.data.startsWith(`${tab.id}:`))
      .sort((a, b) => a.at - b.at)
      .map((f) => Number(f.data.slice(tab.id.length + 1)));
  await until(`all ${accepted.length} messages of ${tab.id}`, () => read().length >= accepted.length);
  const all = read();
  const got = all.filter((n, i) => n !== all[i - 1]);
  // Per connection the server reads in order; across a handover the new connection comes later.
  expect(got).toEqual(accepted);
  expect(all.length - got.length).toBeLessThanOrEqual(repeats);
  if (all.length > got.length) console.log(`tabs: ${all.length - got.length} frame(s) of ${tab.id} written twice across the fault`);
  return got.length;
}

describe('resilient-ws/tabs: one connection for the tabs of an app', () => {
  it('4 pages → 1 server connection; a message from each page arrives once; a push reaches all 4', async () => {
    server = await recordingServer();
    const tabs = await openTabs(4);
    await until('all 4 tabs open', () => allOpen(tabs));
    expect(server.conns.length).toBe(1);
    expect((await leaderOf(tabs)).length).toBe(1);
    for (const t of tabs) expect((await t.snapshot()).shared).toBe(true);
    for (const t of tabs) expect(await t.call('send', `hello from ${t.id}`)).toBe('sent');
    await until('4 hellos', () => server.frames().length >= 4);
    const hellos = server.frames().map((f) => f.data).sort();
    expect(hellos).toEqual(tabs.map((t) => `hello from ${t.id}`).sort());
    server.push('push-1');
    await until('the push in every tab', async () => (await Promise.all(tabs.map((t) => t.call<{ received: string[] }>('log')))).every((l) => l.received.includes('push-1')));
    for (const t of tabs) expect((await t.call<{ received: string[] }>('log')).received).toEqual(['push-1']);
    expect(server.conns.length).toBe(1);
    expect(server.frames().length).toBe(4);
  });

  // The handover figure: from the fault to the new leader's connection at the server.
  const handover = async (fault: (leader: Tab) => Promise<void>, label: string, repeats = 0): Promise<number> => {
    server = await recordingServer();
    const tabs = await openTabs(4);
    await until('all 4 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => server.frames().length > 30);
    const at = Date.now();
    await fault(leader!);
    await until('a second connection', () => server.conns.length === 2, 5000);
    const took = server.conns[1]!.openedAt - at;
    await until('a new leader among the followers', async () => (await leaderOf(followers)).length === 1);
    await until('every follower open again', () => allOpen(followers));
    // Keep sending a moment on the new connection, then check every sender's sequence.
    const after = server.frames().length;
    await until('traffic on the new connection', () => server.frames().length > after + 30);
    for (const f of followers) await checkSequence(f, repeats);
    console.log(`tabs handover after ${label}: new connection ${took} ms after the fault`);
    expect(took).toBeLessThan(2000);
    return took;
  };

  it('closing the leader page: another page leads within about a second; every message once, in order', async () => {
    await handover((leader) => leader.page.close(), 'page close');
  });

  // A renderer that dies can take a frame's acknowledgement with it after the frame reached the
  // socket: each sender may see one frame twice (README, "Limits"); with reliable() and lanes
  // the same crash is exactly-once (tabs-reliable.test.ts).
  it('crashing the leader renderer: the same, except that a frame written in the instant of the crash may come twice', async () => {
    await handover((leader) => crashPage(leader.page), 'renderer crash', 1);
  });

  it('freezing the leader: replaced within the bound; thawed, it writes nothing and follows', async () => {
    server = await recordingServer();
    const stealAfter = 1000;
    const tabs = await openTabs(3, { steal: String(stealAfter) });
    await until('all 3 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => server.frames().length > 30);
    const cdp = await leader!.page.context().newCDPSession(leader!.page);
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    // Headless Chromium 156 accepts the freeze and freezes nothing (timers and the channel run
    // on, the page stays visible): the main thread is also hung, between two tasks as a frozen
    // page stops, which is the harder case (no freeze event warns the leader). A debugger stop
    // would land anywhere, also between a frame's write and its acknowledgement: that frame is
    // then written again by the next leader, which is the documented limit without end-to-end
    // delivery (with it, tabs-reliable.test.ts stops the leader in the debugger).
    const hung = await hangPage(leader!.page);
    const frozenAt = Date.now();
    await until('a second connection', () => server.conns.length === 2, 10_000);
    const took = server.conns[1]!.openedAt - frozenAt;
    // What the leader wrote before the pause took hold (frames in flight at `frozenAt`).
    const wroteBeforeSteal = server.conns[0]!.frames.length;
    console.log(`tabs handover after a freeze (stealAfter ${stealAfter} ms): new connection ${took} ms after the freeze`);
    // The documented bound: a ping unanswered for stealAfter, asked at most stealAfter/4 after
    // the leader last spoke, checked every stealAfter/4: 1.5 × stealAfter, plus a connect.
    expect(took).toBeLessThan(1.5 * stealAfter + 1000);
    await until('a new leader among the followers', async () => (await leaderOf(followers)).length === 1);
    await until('every follower open again', () => allOpen(followers));
    const before = server.frames().length;
    await until('traffic on the new connection', () => server.frames().length > before + 20);

    await hung.release();
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    await until('the thawed tab follows', async () => {
      const s = await leader!.snapshot();
      return s.leader === false && s.state === 'open';
    });
    await until('the old connection closed', () => server.conns[0]!.closedAt !== undefined);
    // Frozen and thawed, the old leader wrote nothing on its connection.
    expect(server.conns[0]!.frames.slice(wroteBeforeSteal)).toEqual([]);
    // Its own sends now go through the new leader.
    expect(await leader!.call('send', 'after thaw')).toBe('sent');
    await until('the thawed tab’s message', () => server.conns[1]!.frames.some((f) => f.data === 'after thaw'));
    for (const f of followers) await checkSequence(f);
    // Never two connections writing: everything on the first precedes everything on the second.
    const last0 = Math.max(...server.conns[0]!.frames.map((f) => f.at));
    const first1 = Math.min(...server.conns[1]!.frames.map((f) => f.at));
    expect(last0).toBeLessThanOrEqual(first1);
    expect(server.conns.length).toBe(2);
  });

  it('the leader reconnect()s while followers send: they follow the new socket; every message once, in order', async () => {
    server = await recordingServer({ holdCloses: true });
    const tabs = await openTabs(4);
    await until('all 4 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => server.frames().length > 30);
    // The old socket's close event comes after its closing handshake, here (held by the
    // server) after the next socket opened: it must not tell the followers that the new
    // socket closed.
    const rounds = 5;
    for (let i = 1; i <= rounds; i++) {
      await leader!.call('reconnect');
      await until(`connection ${i + 1}`, () => server.conns.length === i + 1);
      await until(`the leader open on connection ${i + 1}`, async () => (await leader!.call<{ received: string[] }>('log')).received.includes(`welcome ${i}`));
      await until(`the close of connection ${i} held`, () => server.conns[i - 1]!.release !== undefined);
      server.conns[i - 1]!.release!();
      const conn = server.conns[i]!;
      await until(`every follower writing on connection ${i + 1}`, () => followers.every((f) => conn.frames.some((x) => x.data.startsWith(`${f.id}:`))));
    }
    await until('one live connection', () => server.live().length === 1);
    expect(server.live()[0]).toBe(server.conns[rounds]);
    expect(server.conns.length).toBe(rounds + 1);
    for (const f of followers) expect(await f.snapshot()).toMatchObject({ state: 'open', leader: false });
    expect(await leader!.snapshot()).toMatchObject({ state: 'open', leader: true });
    for (const f of followers) await checkSequence(f);
    // Nothing was written on a connection after the next one opened.
    for (let i = 1; i <= rounds; i++) {
      const next = server.conns[i]!;
      expect(server.conns[i - 1]!.frames.filter((f) => f.at > (next.frames[0]?.at ?? Infinity))).toEqual([]);
    }
  });

  it('a follower’s drops are its own: with the leader’s server away, overflow drops are reported in the sending tab; the rest arrive once, in order', async () => {
    server = await recordingServer();
    const max = 5;
    const tabs = await openTabs(2, { max: String(max) });
    await until('both tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const follower = tabs.find((t) => t !== leader)!;
    server.refuse(true);
    server.kill();
    await until('both tabs away', async () => (await Promise.all(tabs.map((t) => t.snapshot()))).every((s) => s.state !== 'open'));
    const sent = Array.from({ length: 12 }, (_, i) => `${follower.id}:${i}`);
    for (const m of sent) expect(await follower.call('send', m)).not.toBe('sent');
    expect((await follower.snapshot()).queued).toBe(max);
    // drop-oldest (the default): the first 7 go, each with its own event in the sending tab.
    const dropped = sent.slice(0, sent.length - max);
    await until('the drop events', async () => (await follower.call<{ drops: unknown[] }>('log')).drops.length >= dropped.length);
    expect((await follower.call<{ drops: unknown[] }>('log')).drops).toEqual(dropped.map((data) => ({ data, reason: 'overflow' })));
    server.refuse(false);
    await until('both tabs open again', () => allOpen(tabs), 15_000);
    const read = () => server.frames().filter((f) => f.data.startsWith(`${follower.id}:`));
    await until('the kept messages', () => read().length >= max);
    await until('the follower’s queue empty', async () => (await follower.snapshot()).queued === 0);
    expect(read().map((f) => f.data)).toEqual(sent.slice(-max));
    // All on the one connection the leader opened after the server came back.
    expect(new Set(read().map((f) => f.conn))).toEqual(new Set([server.conns.length - 1]));
    expect(server.live().length).toBe(1);
    // The leader reported nothing: the drops were not its own.
    expect((await leader!.call<{ drops: unknown[] }>('log')).drops).toEqual([]);
  });

  // The back/forward cache, by its events: a page entering it gets `pagehide` with `persisted`,
  // and `pageshow` when restored (headless Chromium does not keep pages that hold Web Locks).
  const bfcache = (t: Tab, type: 'pagehide' | 'pageshow') => t.page.evaluate((ty) => void dispatchEvent(new PageTransitionEvent(ty, { persisted: true })), type);

  it('a follower entering the back/forward cache leaves (no lock request, no link) and rejoins when restored; its messages arrive once, in order', async () => {
    server = await recordingServer();
    const tabs = await openTabs(3);
    await until('all 3 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const [away, other] = tabs.filter((t) => t !== leader) as [Tab, Tab];
    await away.call('start', 20);
    await until('the follower sending', () => server.frames().length > 10);
    await bfcache(away, 'pagehide');
    await until('the cached tab off the connection', async () => (await away.snapshot()).state !== 'open');
    // It is in no lock queue: when the leader goes, the other follower leads.
    await leader!.page.close();
    await until('the other follower leads', async () => (await other.snapshot()).leader === true);
    await until('the new connection', () => server.conns.length === 2);
    expect((await away.snapshot()).leader).toBe(false);
    await bfcache(away, 'pageshow');
    await until('the restored tab open again', async () => (await away.snapshot()).state === 'open');
    expect(await away.snapshot()).toMatchObject({ leader: false, shared: true });
    await checkSequence(away);
    expect(server.live().length).toBe(1);
  });

  it('a leader entering the back/forward cache closes its socket and hands over; restored, it follows', async () => {
    server = await recordingServer();
    const tabs = await openTabs(3);
    await until('all 3 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const followers = tabs.filter((t) => t !== leader);
    for (const f of followers) await f.call('start', 20);
    await until('followers sending', () => server.frames().length > 20);
    await bfcache(leader!, 'pagehide');
    await until('the cached leader’s socket closed', () => server.conns[0]!.closedAt !== undefined);
    await until('a new leader among the followers', async () => (await leaderOf(followers)).length === 1);
    await until('every follower open again', () => allOpen(followers));
    expect(server.live().length).toBe(1);
    await bfcache(leader!, 'pageshow');
    await until('the restored tab follows', async () => {
      const st = await leader!.snapshot();
      return st.leader === false && st.state === 'open';
    });
    expect(await leader!.call('send', 'restored')).toBe('sent');
    await until('its message', () => server.live()[0]!.frames.some((f) => f.data === 'restored'));
    for (const f of followers) await checkSequence(f);
    expect(server.conns.length).toBe(2);
  });

  it('close() in a follower closes its handle only; the socket closes when the last tab leaves', async () => {
    server = await recordingServer();
    const tabs = await openTabs(3);
    await until('all 3 tabs open', () => allOpen(tabs));
    const [leader] = await leaderOf(tabs);
    const [gone, stay] = tabs.filter((t) => t !== leader) as [Tab, Tab];
    await gone.call('close');
    await until('the follower closed', async () => (await gone.snapshot()).state === 'closed');
    expect(await stay.call('send', 'still here')).toBe('sent');
    await until('its message', () => server.frames().some((f) => f.data === 'still here'));
    expect(server.live().length).toBe(1);
    // The leader's close() hands over: the remaining follower leads on a new connection.
    await leader!.call('close');
    await until('the last tab leads', async () => (await stay.snapshot()).leader === true);
    await until('the old connection closed, the new one open', () => server.conns.length === 2 && server.conns[0]!.closedAt !== undefined);
    await until('the last tab open', async () => (await stay.snapshot()).state === 'open');
    await stay.call('close');
    await until('no connection left', () => server.live().length === 0);
    expect(server.conns.length).toBe(2);
  });

  it('two app versions do not share', async () => {
    server = await recordingServer();
    const tabs = [...(await openTabs(2, { version: '1.0.0' })), ...(await openTabs(2, { version: '1.1.0' }))];
    await until('all 4 tabs open', () => allOpen(tabs));
    expect(server.conns.length).toBe(2);
    expect((await leaderOf(tabs.slice(0, 2))).length).toBe(1);
    expect((await leaderOf(tabs.slice(2))).length).toBe(1);
    server.push('push-1');
    await until('the push in every tab', async () => (await Promise.all(tabs.map((t) => t.call<{ received: string[] }>('log')))).every((l) => l.received.length > 0));
    // Once each: a version's tabs do not hear the other version's leader.
    for (const t of tabs) expect((await t.call<{ received: string[] }>('log')).received).toEqual(['push-1']);
  });

  it('without Web Locks every page falls back to its own socket, and says so', async () => {
    server = await recordingServer();
    context = await browser.browser.newContext();
    await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'locks', { value: undefined, configurable: true }));
    const tabs = await openTabs(3);
    await until('all 3 tabs open', () => allOpen(tabs));
    expect(server.conns.length).toBe(3);
    for (const t of tabs) expect(await t.snapshot()).toMatchObject({ leader: true, shared: false });
    for (const t of tabs) expect(await t.call('send', `own ${t.id}`)).toBe('sent');
    await until('3 messages', () => server.frames().length === 3);
    expect(new Set(server.frames().map((f) => f.conn)).size).toBe(3);
  });
});
