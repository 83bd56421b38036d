// The re-entrancy contract (SPEC §2, /tmp rule "one FIFO, announcements of a superseded move are
// skipped, reports are delivered"), proved by a table: every state the client can be in × every
// event that can be delivered there × every listener channel (typed `on()`, DOM `on*` handlers,
// `addEventListener`, `subscribe`) × every call a listener may make. Each case runs its scenario
// twice: once with a listener that only marks the spot (the baseline: which events of the move
// were still pending), once with the call, and checks the documented outcome against it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientWebSocket, type Options, type Snapshot, type State, type UrlProvider, type WebSocketConstructor } from '../../src/index.js';
import { FakeSocket } from '../support/fake-socket.js';
import { installFakePage, type FakePage } from '../support/fake-page.js';

const URL = 'ws://example.test/socket';
const RETRY = 1000;
const CONNECT_TIMEOUT = 4000;
/** The page plug-in's listeners: online, offline, pageshow, pagehide on window; visibilitychange, resume on document. */
const PAGE_LISTENERS = 6;

// ---- sockets: every write is recorded with whether the socket was still the client's ----------

/** The client replaces a socket's handlers with one shared no-op when it lets go of it. */
const detached = (s: FakeSocket): boolean => s.onopen !== null && s.onopen === s.onclose;
/** A socket the client holds and has not asked to close. */
const isLive = (s: FakeSocket): boolean => s.readyState < 2 && !detached(s);
const lives = (): FakeSocket[] => FakeSocket.instances.filter(isLive);

interface Write {
  socket: FakeSocket;
  data: unknown;
  live: boolean;
}
let writes: Write[] = [];

class TrackedSocket extends FakeSocket {
  override send(data: unknown): void {
    writes.push({ socket: this, data, live: this.readyState === 1 && !detached(this) });
    super.send(data);
  }
}
const TrackedWebSocket = TrackedSocket as unknown as WebSocketConstructor;

// ---- the event log -----------------------------------------------------------------------------

const TYPED = ['statechange', 'connecting', 'open', 'ready', 'message', 'close', 'reconnecting', 'giveup', 'error', 'drop', 'drain', 'warning'] as const;
const DOM = ['open', 'message', 'close', 'error'] as const;
type Typed = (typeof TYPED)[number];
type DomType = (typeof DOM)[number];
/** An event as the table names it: a typed event, `dom:<type>`, or `store` (a subscribe call). */
type EventKey = Typed | `dom:${DomType}` | 'store';

/** Announcements are skipped when their move was superseded; everything else is a report. */
const ANNOUNCEMENTS = new Set(['connecting', 'open', 'ready', 'reconnecting', 'drain', 'message', 'dom:open', 'dom:message']);
const kindOf = (entry: string): string => entry.split(':').slice(0, entry.startsWith('dom:') ? 2 : 1).join(':');
const isAnnouncement = (entry: string): boolean => ANNOUNCEMENTS.has(kindOf(entry));

type Payload = Record<string, unknown>;

/** One log line per event: its kind and the fields that identify it (not `willReconnect`, which is read at delivery). */
function describeTyped(type: Typed, p: Payload): string {
  switch (type) {
    case 'statechange':
      return `statechange:${String(p.from)}>${String(p.to)}`;
    case 'connecting':
      return `connecting:${String(p.attempt)}`;
    case 'message':
      return `message:${String(p.data)}`;
    case 'close':
      return `close:${String(p.code)}`;
    case 'reconnecting':
      return `reconnecting:${String(p.delay)}`;
    case 'giveup':
      return `giveup:${String(p.reason)}`;
    case 'error':
      return `error:${String((p.error as { code: string }).code)}`;
    case 'drop':
      return `drop:${String(p.reason)}:${String(p.data)}`;
    case 'warning':
      return `warning:${String(p.code)}`;
    default:
      return type;
  }
}

function describeDom(ev: Event): string {
  const e = ev as Event & { code?: number; data?: unknown };
  if (ev.type === 'close') return `dom:close:${String(e.code)}`;
  if (ev.type === 'message') return `dom:message:${String(e.data)}`;
  return `dom:${ev.type}`;
}

// ---- one run of a scenario ----------------------------------------------------------------------

type Client = ResilientWebSocket<string, string>;
type Listener = (payload: unknown) => void;

// Listeners never run nested inside another listener: every listener of the test goes through
// `guard`, which notes a call that starts while another one runs.
let depth = 0;
let nested: string[] = [];
/** Set while `subscribe()` makes its at-once call from inside a listener: nested by contract. */
let atOnce = false;
const guard =
  (name: string, f: Listener): Listener =>
  (payload) => {
    if (depth > 0 && !atOnce) nested.push(name);
    depth++;
    try {
      f(payload);
    } finally {
      depth--;
    }
  };

/** A way to listen to one event; `add` is how a second listener of the same event is added. */
interface Channel {
  label: string;
  key: EventKey;
  attach(ws: Client, h: Listener): () => void;
  add(ws: Client, h: Listener): () => void;
}

const onTyped = (ws: Client, type: Typed, h: Listener): (() => void) => (ws.on as (t: string, f: Listener) => () => void)(type, h);
const onDom = (ws: Client, type: DomType, h: Listener): (() => void) => {
  const l = (ev: Event): void => h(ev);
  ws.addEventListener(type, l);
  return () => ws.removeEventListener(type, l);
};

function channelsFor(key: EventKey): Channel[] {
  if (key === 'store') {
    const sub = (ws: Client, h: Listener): (() => void) => ws.subscribe(h);
    return [{ label: 'subscribe()', key, attach: sub, add: sub }];
  }
  if (key.startsWith('dom:')) {
    const type = key.slice(4) as DomType;
    const dom = (ws: Client, h: Listener): (() => void) => onDom(ws, type, h);
    return [
      {
        label: `on${type} =`,
        key,
        attach(ws, h) {
          const slots = ws as unknown as Record<string, unknown>;
          slots[`on${type}`] = (ev: Event) => h(ev);
          return () => void (slots[`on${type}`] = null);
        },
        add: dom,
      },
      { label: `addEventListener('${type}')`, key, attach: dom, add: dom },
    ];
  }
  const typed = (ws: Client, h: Listener): (() => void) => onTyped(ws, key as Typed, h);
  return [{ label: `on('${key}')`, key, attach: typed, add: typed }];
}

interface Ctx {
  ws: Client;
  page: FakePage;
  /** `ws.send` that remembers the order in which the test sent. */
  send(data: string, options?: { volatile?: boolean; ttl?: number }): void;
}

interface Scenario {
  name: string;
  /** The state the client is in when the scenario's events are delivered. */
  state: State;
  /** The events delivered during `fire`, each in `state`. */
  events: EventKey[];
  options?: Options<string, string>;
  url?: () => UrlProvider;
  /** The scenario's connections wait for this message before they are ready. */
  gate?: boolean;
  /** Brings the client to the scenario's start; none: the start is the constructor's (nothing awaited). */
  setup?(ctx: Ctx): Promise<unknown>;
  fire(ctx: Ctx): unknown;
}

/** Whether this platform's EventTarget skips listeners added during a dispatch, as the DOM standard says. */
const SPEC_DISPATCH = ((): boolean => {
  const t = new EventTarget();
  let late = false;
  t.addEventListener('x', () => t.addEventListener('x', () => (late = true)));
  t.addEventListener('x', () => undefined);
  t.dispatchEvent(new Event('x'));
  return !late;
})();

const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);
const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

async function opened(): Promise<void> {
  await settle();
  FakeSocket.last.open();
}
async function dropped(ctx: Ctx): Promise<void> {
  await opened();
  FakeSocket.last.serverClose(1006);
  expect(ctx.ws.state).toBe('reconnecting');
}

const SCENARIOS: Scenario[] = [
  // connecting
  { name: 'the first attempt starts', state: 'connecting', events: ['connecting'], fire: settle },
  {
    name: 'the retry timer fires',
    state: 'connecting',
    events: ['statechange', 'connecting', 'store'],
    setup: dropped,
    fire: () => vi.advanceTimersByTime(RETRY),
  },
  {
    name: 'reconnect() while open',
    state: 'connecting',
    events: ['statechange', 'close', 'dom:close', 'connecting', 'store'],
    setup: opened,
    fire: ({ ws }) => ws.reconnect(),
  },
  {
    name: 'reconnect() after close()',
    state: 'connecting',
    events: ['statechange', 'connecting', 'store'],
    async setup(ctx) {
      await opened();
      ctx.ws.close();
      FakeSocket.last.serverClose(1005, '', true);
      expect(ctx.ws.state).toBe('closed');
    },
    fire: ({ ws }) => ws.reconnect(),
  },
  {
    name: 'the auth plug-in warns about a token over ws://',
    state: 'connecting',
    events: ['warning'],
    options: { auth: { token: () => 'secret' } },
    fire: settle,
  },
  {
    name: 'a volatile send() while connecting',
    state: 'connecting',
    events: ['drop'],
    setup: settle,
    fire: ({ send }) => send('v', { volatile: true }),
  },
  {
    name: 'queued messages expire while connecting',
    state: 'connecting',
    events: ['drop', 'drain'],
    async setup({ send }) {
      await settle();
      send('e1', { ttl: 500 });
      send('e2', { ttl: 500 });
    },
    fire: () => vi.advanceTimersByTime(500),
  },
  {
    name: 'a queued send() changes the store',
    state: 'connecting',
    events: ['store'],
    setup: settle,
    async fire({ send }) {
      send('q1');
      await settle();
    },
  },
  // open
  {
    name: 'the socket opens with queued messages',
    state: 'open',
    events: ['statechange', 'open', 'dom:open', 'ready', 'drain', 'store'],
    async setup({ send }) {
      await settle();
      send('q1');
      send('q2');
    },
    fire: () => FakeSocket.last.open(),
  },
  {
    name: 'an expired message is dropped by the flush on open',
    state: 'open',
    events: ['drop'],
    async setup({ send }) {
      await settle();
      send('old', { ttl: 100 });
      send('q1');
      send('q2');
      // A throttled tab: the clock moved on, the expiry timer has not run yet.
      skew += 1000;
    },
    fire: () => FakeSocket.last.open(),
  },
  {
    name: 'a message arrives',
    state: 'open',
    events: ['message', 'dom:message'],
    setup: opened,
    fire: () => FakeSocket.last.receive('hello'),
  },
  {
    name: 'a message passes the ready gate',
    state: 'open',
    events: ['ready', 'drain', 'message', 'dom:message'],
    options: { ready: (d) => d === 'welcome' },
    gate: true,
    async setup(ctx) {
      await opened();
      ctx.send('q1');
    },
    fire: () => FakeSocket.last.receive('welcome'),
  },
  {
    name: 'a message fails to decode',
    state: 'open',
    events: ['error'],
    options: {
      codec: {
        encode: (d: string) => d,
        decode: (d) => {
          if (d === 'bad') throw new Error('bad frame');
          return String(d);
        },
      },
    },
    setup: opened,
    fire: () => FakeSocket.last.receive('bad'),
  },
  {
    name: 'a volatile send() while the socket is backed up',
    state: 'open',
    events: ['drop'],
    async setup() {
      await opened();
      FakeSocket.last.bufferedAmount = 64 * 1024 * 1024;
    },
    fire: ({ send }) => send('v', { volatile: true }),
  },
  // reconnecting
  {
    name: 'the connection drops',
    state: 'reconnecting',
    events: ['statechange', 'dom:error', 'close', 'dom:close', 'reconnecting', 'store'],
    setup: opened,
    fire: () => FakeSocket.last.serverClose(1006),
  },
  {
    name: 'the connect timeout fires',
    state: 'reconnecting',
    events: ['statechange', 'error', 'close', 'dom:close', 'reconnecting', 'store'],
    setup: settle,
    fire: () => vi.advanceTimersByTime(CONNECT_TIMEOUT),
  },
  {
    name: 'the network goes offline while a retry waits',
    state: 'reconnecting',
    events: ['reconnecting'],
    setup: dropped,
    fire: ({ page }) => page.offline(),
  },
  {
    name: 'a volatile send() while waiting to retry',
    state: 'reconnecting',
    events: ['drop'],
    setup: dropped,
    fire: ({ send }) => send('v', { volatile: true }),
  },
  {
    name: 'queued messages expire while waiting to retry',
    state: 'reconnecting',
    events: ['drop', 'drain'],
    async setup(ctx) {
      await dropped(ctx);
      ctx.send('e1', { ttl: 500 });
    },
    fire: () => vi.advanceTimersByTime(500),
  },
  // closing
  {
    name: 'close() while open with queued messages',
    state: 'closing',
    events: ['statechange', 'drop', 'store'],
    options: { ready: (d) => d === 'welcome' },
    gate: true,
    async setup(ctx) {
      await opened();
      ctx.send('q1');
      ctx.send('q2');
    },
    fire: ({ ws }) => ws.close(),
  },
  {
    name: 'close() during the handshake',
    state: 'closing',
    events: ['statechange', 'drop', 'store'],
    async setup({ send }) {
      await settle();
      send('q1');
    },
    fire: ({ ws }) => ws.close(4000, 'bye'),
  },
  // closed
  {
    name: 'the server answers the close',
    state: 'closed',
    events: ['statechange', 'close', 'dom:close', 'store'],
    async setup(ctx) {
      await opened();
      ctx.ws.close();
    },
    fire: () => FakeSocket.last.serverClose(1005, '', true),
  },
  {
    name: 'a close() before the socket existed ends a task later',
    state: 'closed',
    events: ['statechange', 'dom:error', 'close', 'dom:close', 'store'],
    url: () => {
      let asked = 0;
      return () => (asked++ === 0 ? new Promise<string>(() => undefined) : URL);
    },
    async setup({ ws }) {
      await settle();
      ws.close();
      expect(ws.state).toBe('closing');
    },
    fire: () => vi.advanceTimersByTime(0),
  },
  {
    name: 'the retries run out',
    state: 'closed',
    events: ['statechange', 'dom:error', 'close', 'dom:close', 'error', 'giveup', 'store'],
    options: { reconnect: { maxRetries: 0, minDelay: RETRY, jitter: 'none', connectTimeout: CONNECT_TIMEOUT } },
    setup: opened,
    fire: () => FakeSocket.last.serverClose(1006),
  },
  {
    name: 'send() after close()',
    state: 'closed',
    events: ['drop'],
    async setup(ctx) {
      await opened();
      ctx.ws.close();
      FakeSocket.last.serverClose(1005, '', true);
    },
    fire: ({ send }) => send('late'),
  },
];

const CALLS = ['close()', 'reconnect()', 'send(x)', 'flush()', 'adding a listener', 'removing a listener'] as const;
type Call = (typeof CALLS)[number] | 'nothing';

let page: FakePage;
let errors: unknown[];
/** Added to the fake `performance.now()`: time that passed without timers running. */
let skew = 0;

beforeEach(() => {
  vi.useFakeTimers();
  skew = 0;
  const real = performance.now.bind(performance);
  vi.spyOn(performance, 'now').mockImplementation(() => real() + skew);
  FakeSocket.reset();
  writes = [];
  page = installFakePage();
  errors = [];
  nested = [];
  depth = 0;
  // A listener that throws, or a write into a socket that was let go, ends up here.
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
});

afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

interface Run {
  ctx: Ctx;
  log: string[];
  /** Log lines between the call and the end of the synchronous run that delivered the event. */
  slice: string[];
  /** Every log line after the call, up to now. */
  after(): string[];
  closesAfter: Array<{ willReconnect: boolean }>;
  sent: string[];
  drops: string[];
  stateAtCall: State | undefined;
  stateAfterCall: State | undefined;
  result: unknown;
  thrown: unknown;
  current: unknown;
  added: unknown[];
  addedAtOnce: number;
  victim: { before: unknown[]; after: unknown[] };
  heads: Snapshot[][];
  instancesAtCall: number;
}

async function run(scenario: Scenario, channel: Channel, call: Call): Promise<Run> {
  const ws = new ResilientWebSocket<string, string>(scenario.url?.() ?? URL, undefined, {
    WebSocket: TrackedWebSocket,
    reconnect: { minDelay: RETRY, maxDelay: 30_000, factor: 2, jitter: 'none', connectTimeout: CONNECT_TIMEOUT },
    ...scenario.options,
  });
  const log: string[] = [];
  const sent: string[] = [];
  const drops: string[] = [];
  const closesAfter: Array<{ willReconnect: boolean }> = [];
  let callAt = -1;
  let tickAt = -1;
  const ctx: Ctx = {
    ws,
    page,
    send(data, options) {
      sent.push(data);
      ws.send(data, options);
    },
  };
  for (const type of TYPED) {
    onTyped(ws, type, guard(type, (p) => {
      const payload = p as Payload;
      log.push(describeTyped(type, payload));
      if (type === 'drop') drops.push(String(payload.data));
      if (type === 'close' && callAt >= 0) closesAfter.push({ willReconnect: payload.willReconnect as boolean });
    }));
  }
  for (const type of DOM) onDom(ws, type, guard(`dom:${type}`, (ev) => log.push(describeDom(ev as Event))));
  const head: Snapshot[] = [];
  ws.subscribe(guard('head subscriber', (s) => head.push(s as Snapshot)));

  if (scenario.setup) await scenario.setup(ctx);

  const r: Run = {
    ctx,
    log,
    slice: [],
    after: () => (callAt < 0 ? [] : log.slice(callAt + 1)),
    closesAfter,
    sent,
    drops,
    stateAtCall: undefined,
    stateAfterCall: undefined,
    result: undefined,
    thrown: undefined,
    current: undefined,
    added: [],
    addedAtOnce: 0,
    victim: { before: [], after: [] },
    heads: [head],
    instancesAtCall: 0,
  };
  let armed = false;
  let removed = false;
  const offVictims: Array<() => void> = [];
  channel.attach(ws, guard('caller', (payload) => {
    if (!armed || ws.state !== scenario.state) return;
    if (channel.key === 'store' && (payload as Snapshot).state !== scenario.state) return;
    armed = false;
    callAt = log.length;
    log.push('CALL');
    r.current = payload;
    r.stateAtCall = ws.state;
    r.instancesAtCall = FakeSocket.instances.length;
    // Microtasks run only once the synchronous run that delivers this event is over.
    queueMicrotask(() => {
      tickAt = log.length;
    });
    try {
      switch (call) {
        case 'close()':
          ws.close();
          break;
        case 'reconnect()':
          ws.reconnect();
          break;
        case 'send(x)':
          sent.push('x');
          r.result = ws.send('x');
          break;
        case 'flush()':
          r.result = ws.flush().then(
            () => 'resolved',
            (e: { code?: string }) => `rejected ${String(e.code)}`,
          );
          break;
        case 'adding a listener': {
          atOnce = channel.key === 'store';
          channel.add(ws, guard('added', (p) => r.added.push(p)));
          atOnce = false;
          r.addedAtOnce = r.added.length;
          break;
        }
        case 'removing a listener':
          for (const off of offVictims) off();
          removed = true;
          break;
        case 'nothing':
          break;
      }
    } catch (err) {
      r.thrown = err;
    }
    r.stateAfterCall = ws.state;
  }));
  // Registered after the caller: a later listener of the same event, and a later store subscriber.
  offVictims.push(channel.add(ws, guard('victim', (p) => (removed ? r.victim.after : r.victim.before).push(p))));
  const tail: Snapshot[] = [];
  ws.subscribe(guard('tail subscriber', (s) => tail.push(s as Snapshot)));
  r.heads.push(tail);

  log.push('FIRE');
  armed = true;
  await scenario.fire(ctx);
  await settle();
  armed = false;
  expect(callAt, `the scenario delivers ${channel.key} in ${scenario.state}`).toBeGreaterThanOrEqual(0);
  r.slice = log.slice(callAt + 1, tickAt < 0 ? undefined : tickAt);
  return r;
}

/** Answers every close the client asked for, and lets 0 ms timers run, until nothing moves. */
async function finishClose(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    for (const s of FakeSocket.instances) {
      if (s.closedWith && s.readyState === 2 && !detached(s)) s.serverClose(s.closedWith.code ?? 1005, s.closedWith.reason ?? '', true);
    }
    // A 0 ms timer set while fake timers run is due 1 ms later.
    await advance(1);
  }
}

/** Drives the client to an open, ready, unblocked connection, unless it is closing or closed. */
async function driveOpen(r: Run, scenario: Scenario): Promise<void> {
  const { ws } = r.ctx;
  for (let i = 0; i < 10; i++) {
    await settle();
    const st = ws.state;
    if (st === 'open' || st === 'closing' || st === 'closed') break;
    const s = lives()[0];
    if (st === 'connecting' && s && s.readyState === 0) {
      s.open();
      if (scenario.gate) s.receive('welcome');
    } else if (st === 'reconnecting') {
      if (!page.navigator.onLine) page.online();
      const at = ws.getSnapshot().nextRetryAt;
      if (at !== null) await advance(Math.max(0, at - Date.now()));
    } else await advance(1);
  }
  for (const s of lives()) s.bufferedAmount = 0;
  await advance(100);
}

const held = (): number => page.window.held() + page.document.held();

async function tearDown(r: Run): Promise<void> {
  r.ctx.ws.close();
  await finishClose();
  vi.clearAllTimers();
  vi.unstubAllGlobals();
  FakeSocket.reset();
  writes = [];
  page = installFakePage();
  errors = [];
  nested = [];
}

/** What the table checks after `call`, given the baseline's pending events. */
async function check(scenario: Scenario, channel: Channel, call: Call, base: string[]): Promise<void> {
  const r = await run(scenario, channel, call);
  const { ws } = r.ctx;
  expect(r.thrown).toBeUndefined();
  const reports = base.filter((e) => !isAnnouncement(e));

  switch (call) {
    case 'close()': {
      expect(r.stateAfterCall === 'closing' || r.stateAfterCall === 'closed').toBe(true);
      // The events of the move still pending: reports delivered, announcements skipped.
      expect(r.after().slice(0, reports.length)).toEqual(reports);
      await finishClose();
      expect(ws.state).toBe('closed');
      expect(vi.getTimerCount()).toBe(0);
      expect(held()).toBe(0);
      await advance(300_000);
      expect(ws.state).toBe('closed');
      expect(FakeSocket.instances.length).toBe(r.instancesAtCall);
      expect(r.closesAfter.filter((c) => c.willReconnect)).toEqual([]);
      expect(r.after().filter(isAnnouncement)).toEqual([]);
      break;
    }
    case 'reconnect()': {
      expect(r.stateAfterCall).toBe('connecting');
      expect(r.after().slice(0, reports.length)).toEqual(reports);
      await settle();
      expect(lives()).toHaveLength(1);
      expect(held()).toBe(PAGE_LISTENERS);
      const s = lives()[0]!;
      if (s.readyState === 0) s.open();
      expect(ws.state).toBe('open');
      const n = FakeSocket.instances.length;
      await advance(120_000);
      expect(ws.state).toBe('open');
      expect(lives()).toEqual([s]);
      expect(FakeSocket.instances.length).toBe(n);
      expect(held()).toBe(PAGE_LISTENERS);
      break;
    }
    case 'send(x)': {
      const closed = r.stateAtCall === 'closing' || r.stateAtCall === 'closed';
      if (closed) {
        expect(r.result).toBe('dropped');
        expect(r.after()).toContain('drop:closed:x');
      } else expect(['sent', 'queued']).toContain(r.result);
      expect(r.slice.filter((e) => !e.endsWith(':x'))).toEqual(base);
      await driveOpen(r, scenario);
      expect(writes.filter((w) => !w.live)).toEqual([]);
      const order = writes.map((w) => w.data).filter((d): d is string => typeof d === 'string' && r.sent.includes(d));
      // In the order sent, none twice, and (once open) every message that was not dropped.
      expect(order).toEqual(r.sent.filter((d) => order.includes(d)));
      if (ws.state === 'open') expect(order).toEqual(r.sent.filter((d) => !r.drops.includes(d)));
      break;
    }
    case 'flush()': {
      expect(r.slice).toEqual(base);
      const outcome = r.result as Promise<string>;
      let settled: string | undefined;
      void outcome.then((v) => (settled = v));
      const closed = r.stateAtCall === 'closing' || r.stateAtCall === 'closed';
      if (!closed) await driveOpen(r, scenario);
      await settle();
      expect(settled).toBe(ws.state === 'open' ? 'resolved' : 'rejected CLOSED');
      if (closed) expect(settled).toBe('rejected CLOSED');
      break;
    }
    case 'adding a listener': {
      expect(r.slice).toEqual(base);
      if (channel.key === 'store') {
        // The store contract calls a new subscriber at once; the notification being delivered is not repeated.
        expect(r.addedAtOnce).toBe(1);
        r.added.forEach((s, i) => i > 0 && expect(s).not.toBe(r.added[i - 1]));
      } else {
        expect(r.addedAtOnce).toBe(0);
        const later = r.slice.filter((e) => kindOf(e) === channel.key).length;
        if (channel.key.startsWith('dom:') && !SPEC_DISPATCH) {
          // Node's own EventTarget (not the client) runs a listener added during a dispatch when a
          // later listener exists; browsers follow the DOM standard, which this checks there.
          expect(r.added.filter((p) => p !== r.current)).toHaveLength(later);
        } else {
          expect(r.added).not.toContain(r.current);
          expect(r.added).toHaveLength(later);
        }
      }
      break;
    }
    case 'removing a listener': {
      expect(r.slice).toEqual(base);
      // Never called after the event in whose delivery it was removed; a DOM listener not even for it.
      const stray = channel.key.startsWith('dom:') ? r.victim.after : r.victim.after.filter((p) => p !== r.current);
      expect(stray).toEqual([]);
      break;
    }
    case 'nothing':
      break;
  }
  expect(errors).toEqual([]);
  expect(nested).toEqual([]);
  // Every store subscriber ends with the current snapshot and never gets the same one twice in a row.
  await settle();
  for (const seen of r.heads) {
    expect(seen.at(-1)).toBe(ws.getSnapshot());
    seen.forEach((s, i) => i > 0 && expect(s).not.toBe(seen[i - 1]));
  }
}

describe('re-entrancy: every state × event × listener × call', () => {
  for (const scenario of SCENARIOS) {
    describe(`in ${scenario.state}, when ${scenario.name}`, () => {
      for (const key of scenario.events) {
        for (const channel of channelsFor(key)) {
          for (const call of CALLS) {
            it(`${channel.label} → ${call}`, async () => {
              const baseline = await run(scenario, channel, 'nothing');
              const base = baseline.slice;
              expect(errors).toEqual([]);
              await tearDown(baseline);
              await check(scenario, channel, call, base);
            });
          }
        }
      }
    });
  }
});
