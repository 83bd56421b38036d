import type { IncomingData, WireData } from './codec.js';
import type { CloseInfo, WebSocketConstructor, WebSocketLike } from './options.js';
import type { Plugin, PluginHost } from './plugin.js';

/** Options of {@link tabs}. */
export interface TabsOptions {
  /** The application's name: tabs share a connection only within one name (lock and channel). */
  name: string;
  /** The application's version: tabs of two versions (before and after a deploy) never share. */
  version: string;
  /**
   * A follower replaces a leader that has not answered its ping for this many ms (a frozen or
   * hung page) by stealing the lock; the old leader steps down without writing when it runs
   * again. At least 100. @default 5000
   */
  stealAfter?: number;
  /**
   * Runs in the leader for every inbound frame (before decoding): return the `id` of the tab
   * the frame is for, or `undefined` to deliver it to every tab (the default).
   * @example
   * ```ts
   * route: (data) => (typeof data === 'string' ? JSON.parse(data).tab : undefined)
   * ```
   */
  route?: (data: IncomingData) => string | undefined;
}

/** What {@link tabs} returns: this tab's id and the options that make a client share. */
export interface Tabs {
  /** This tab's id (random), for addressing replies to one tab with `route`. */
  readonly id: string;
  /** `false` where Web Locks or `BroadcastChannel` are missing: the tab uses its own socket. */
  readonly shared: boolean;
  /**
   * Adds the sharing to a client's options: `WebSocket` (the link to the leader, or the
   * native socket in the leader) and a plug-in appended to `plugins`. Call it once, for one client.
   * @example
   * ```ts
   * const ws = new ResilientWebSocket('/ws', [], tab.options({ reconnect: { maxDelay: 10_000 } }));
   * ```
   */
  options<O extends { WebSocket?: WebSocketConstructor; plugins?: readonly Plugin[] }>(options?: O): O & { WebSocket: WebSocketConstructor; plugins: readonly Plugin[] };
}

/**
 * One message between tabs. `e` is the leadership epoch (the fencing number) on every one.
 * Kinds: `H` hello/ping (follower), `S` a frame to send (follower), `L` the leader and its open
 * socket, `C` its socket closed, `M` an inbound frame, `A` frames written up to `n`.
 */
interface Msg {
  k: 'H' | 'S' | 'L' | 'C' | 'M' | 'A';
  e: number;
  o?: [string, string] | null;
  c?: CloseInfo;
  d?: WireData | IncomingData;
  t?: string | undefined;
  l?: string;
  n?: number;
  at?: number;
}

type Handler<E> = ((ev: E) => unknown) | null;

const LEADER_CHANGED: CloseInfo = { code: 1001, reason: 'tab leader changed', wasClean: false };
const noop = (): void => undefined;

// The core's INVALID_OPTION shape (a TypeError with `code` and the library's brand), without
// importing the core's error module into this entry.
const bad = (what: string): never => {
  throw Object.assign(new TypeError(`tabs(): ${what}`), { code: 'INVALID_OPTION', [Symbol.for('resilient-ws.error')]: true });
};

// What the browser counts in `bufferedAmount`: UTF-8 bytes (a Blob encodes strings as the
// socket does, lone surrogates as U+FFFD), a Blob's size, a buffer's length; as the core counts.
const bytes = (d: WireData): number =>
  typeof d === 'string' ? new Blob([d]).size : ((d as Blob).size ?? (d as ArrayBufferLike).byteLength);

/**
 * One WebSocket for all tabs of an app: the tab holding a Web Lock (named by `name` and
 * `version`) is the leader and owns the only native socket and its state machine; the others
 * reach it over a `BroadcastChannel` through the same `ResilientWebSocket` API. A follower's
 * `send()` goes through its own queue to the leader, which writes it and acknowledges; what the
 * leader had not written when it died is sent by the next leader, once. Inbound frames reach
 * every tab (or the one `route` names). The snapshot gains `leader` and `shared`. Where Web
 * Locks or `BroadcastChannel` are missing, every tab keeps its own socket (`shared: false`).
 *
 * @example
 * ```ts
 * import { ResilientWebSocket } from 'resilient-ws';
 * import { tabs } from 'resilient-ws/tabs';
 *
 * const tab = tabs({ name: 'chat', version: '1.4.0' });
 * const ws = new ResilientWebSocket('/ws', [], tab.options());
 * ws.subscribe(({ state, leader }) => render(state, leader ? 'leader' : 'follower'));
 * ```
 */
export function tabs(options: TabsOptions): Tabs {
  const { name, version, stealAfter = 5000, route } = options ?? bad('options are required');
  if (typeof name !== 'string' || !name || typeof version !== 'string') bad('name (non-empty) and version must be strings');
  if (!(stealAfter >= 100 && stealAfter < 2 ** 31)) bad('stealAfter must be at least 100 ms');
  if (route !== undefined && typeof route !== 'function') bad('route must be a function');

  const key = `resilient-ws ${JSON.stringify([name, version])}`;
  const id = globalThis.crypto?.randomUUID?.() ?? Math.random().toString(36).slice(2);
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks;
  const shared = typeof BroadcastChannel === 'function' && typeof locks?.request === 'function';
  let host: PluginHost;
  let Real: WebSocketConstructor;
  let bc: BroadcastChannel | undefined;
  let joined = false;
  let stored = false;
  let leader = !shared;
  /** The highest epoch seen; this tab's own while it leads. */
  let epoch = 0;
  /** The leader's socket is open, with this protocol and these extensions. */
  let open: [string, string] | null = null;
  /** Leading, but not sure it still holds the lock (after a freeze or a stall): nothing is written. */
  let fenced = false;
  let checks = 0;
  let verifying = false;
  let stash: Msg[] = [];
  let heard = 0;
  let asked = 0;
  let link: Link | undefined;
  let links = 0;
  let gen = 0;
  let handover = false;
  let abort: (() => void) | undefined;
  let release: (() => void) | undefined;
  let me: Promise<string | undefined> = Promise.resolve(undefined);
  let tick: ReturnType<typeof setInterval> | undefined;
  /** The next frame number expected from each follower link: frames are written in order, once. */
  const expect = new Map<string, number>();
  const post = (m: Msg): void => bc?.postMessage(m);
  const adopt = (l: Link): void => void (link = l);
  const now = Date.now;

  // The native socket in the leader, a proxy over the channel in a follower; the core cannot
  // tell them apart. `bufferedAmount` counts what no native socket has taken yet, so the core's
  // `resend: 'unsent'` puts exactly those messages back in its queue when a link dies.
  class Link implements WebSocketLike {
    readyState = 0;
    protocol = '';
    extensions = '';
    binaryType = 'blob';
    declare onopen: Handler<void>;
    declare onmessage: Handler<{ data: unknown }>;
    declare onerror: Handler<void>;
    declare onclose: Handler<CloseInfo>;
    readonly id = `${id}:${++links}`;
    #real: WebSocketLike | undefined;
    #e = 0;
    #n = 0;
    /** Follower: [frame number, bytes] of the frames the leader has not written yet. */
    #pending: Array<[number, number]> = [];
    /** Leader: frames held while fenced. */
    #held: WireData[] = [];
    #bytes = 0;

    constructor(
      readonly url: string,
      readonly protocols?: string | string[],
    ) {
      adopt(this);
      if (leader) this.lead();
      else if (open) queueMicrotask(() => !leader && open && this.up(open));
    }

    get bufferedAmount(): number {
      return (this.#real?.bufferedAmount ?? 0) + this.#bytes;
    }

    lead(): void {
      const s = (this.#real = new Real(this.url, this.protocols));
      const mine = (): boolean => this.#real === s;
      s.binaryType = 'arraybuffer';
      s.onopen = () => {
        if (!mine()) return;
        open = [s.protocol, s.extensions];
        post({ k: 'L', e: epoch, o: open });
        this.up(open);
      };
      s.onmessage = ({ data }: MessageEvent<IncomingData>) => {
        if (!mine()) return;
        // A throwing `route` is the app's bug: it surfaces, and the frame goes nowhere.
        const t = route?.(data);
        post({ k: 'M', e: epoch, d: data, t });
        if (!t || t === id) this.recv(data);
      };
      s.onerror = () => mine() && this.onerror?.();
      s.onclose = ({ code, reason, wasClean }: CloseEvent) => {
        if (!mine()) return;
        open = null;
        const c = { code, reason, wasClean };
        post({ k: 'C', e: epoch, c });
        this.end(c);
      };
    }

    up(o: [string, string]): void {
      if (this.readyState) return;
      this.#e = epoch;
      this.readyState = 1;
      [this.protocol, this.extensions] = o;
      this.onopen?.();
    }

    recv(d: unknown): void {
      if (this.readyState === 1) this.onmessage?.({ data: this.binaryType === 'blob' && d instanceof ArrayBuffer ? new Blob([d]) : d });
    }

    /** Ends the link for the core; `lead` marks a leadership change (retried at once). */
    end(c: CloseInfo, lead = false): void {
      if (this.readyState === 3) return;
      this.readyState = 3;
      if (link === this) link = undefined;
      handover = lead;
      this.onclose?.(c);
    }

    send(d: WireData): void {
      const s = this.#real;
      if (s && !fenced) return s.send(d as never);
      const b = bytes(d);
      this.#bytes += b;
      if (s) {
        this.#held.push(d);
        return check();
      }
      this.#pending.push([++this.#n, b]);
      post({ k: 'S', e: this.#e, l: this.id, n: this.#n, d, at: now() });
    }

    /** The frames up to `n` were written by the leader: no longer ours to re-send. */
    ack(n: number): void {
      const p = this.#pending;
      while (p.length && p[0]![0] <= n) this.#bytes -= p.shift()![1];
    }

    write(d: WireData): void {
      this.#real!.send(d as never);
    }

    /** Fencing passed: what was held goes out, in order. */
    flush(): void {
      if (this.#real?.readyState !== 1) return;
      for (const d of this.#held) this.write(d);
      this.#held = [];
      this.#bytes = 0;
    }

    /** Stepping down: the native socket goes unwritten; the held frames go back to the core. */
    drop(): void {
      const s = this.#real;
      this.#real = undefined;
      if (s) {
        s.onopen = s.onmessage = s.onclose = s.onerror = noop;
        s.close();
      }
      this.end(LEADER_CHANGED, true);
    }

    close(code?: number, reason?: string): void {
      const s = this.#real;
      if (s) return code === undefined ? s.close() : s.close(code, reason);
      // Like the native close(): the state changes now, the close event comes a moment later.
      this.readyState = 2;
      queueMicrotask(() => this.end({ code: code ?? 1005, reason: reason ?? '', wasClean: true }));
    }
  }

  /** Granted the lock: lead with a higher epoch than any seen, or stored by a leader before. */
  const lead = (): void => {
    leader = true;
    fenced = verifying = false;
    open = null;
    expect.clear();
    epoch++;
    // Who holds the lock now is this tab: a later check compares the holder with it.
    me = locks!.query().then((q) => q.held?.find((l) => l.name === key)?.clientId, () => undefined);
    post({ k: 'L', e: epoch, o: null });
    const l = link;
    if (l?.readyState === 0) l.lead();
    else if (l?.readyState === 1) l.end(LEADER_CHANGED, true);
    else host.wake();
    host.changed();
  };

  const stepDown = (): void => {
    leader = fenced = false;
    open = null;
    stash = [];
    release?.();
    link?.drop();
    if (joined) {
      hello();
      void request();
    }
    host.changed();
  };

  /**
   * Asks the lock manager, now that this tab runs, whether it still holds the lock: resumes
   * writing if so, steps down if not. A freeze after the question voids the answer.
   */
  const check = (): void => {
    if (!fenced || verifying) return;
    verifying = true;
    const c = checks;
    void Promise.all([me, locks!.query().catch(noop)]).then(([mine, q]) => {
      if (c !== checks || !leader) return;
      verifying = false;
      if (!mine || !q?.held?.some((l) => l.name === key && l.clientId === mine)) return stepDown();
      fenced = false;
      link?.flush();
      const s = stash;
      stash = [];
      s.forEach(take);
    });
  };
  const fence = (): void => {
    fenced = true;
    verifying = false;
    ++checks;
  };

  /** A follower's frame, in the leader: written once, in order, and acknowledged. */
  const take = (m: Msg): void => {
    // A frame that waited this long means this tab was stalled and may have been replaced.
    if (!fenced && now() - m.at! > stealAfter / 2) fence();
    if (fenced) {
      stash.push(m);
      return check();
    }
    const l = link;
    const want = expect.get(m.l!) ?? 1;
    if (m.e !== epoch || l?.readyState !== 1 || m.n !== want) return;
    expect.set(m.l!, want + 1);
    l.write(m.d as WireData);
    post({ k: 'A', e: epoch, l: m.l, n: m.n });
  };

  const receive = ({ data: m }: MessageEvent<Msg>): void => {
    if (m.e > epoch) {
      // A newer leadership exists: a leader steps down, a follower's link to the old one ends.
      epoch = m.e;
      if (leader) stepDown();
      open = null;
      if (link?.readyState === 1) link.end(LEADER_CHANGED, true);
    }
    if (m.k === 'S') return leader ? take(m) : undefined;
    // A fenced leader does not claim to be alive before it knows it still leads.
    if (m.k === 'H') return leader ? (fenced ? check() : post({ k: 'L', e: epoch, o: open })) : undefined;
    if (leader || m.e < epoch) return;
    heard = now();
    if (m.k === 'L') {
      open = m.o!;
      if (open && link) link.up(open);
      else if (open) host.wake();
    } else if (m.k === 'C') {
      open = null;
      link?.end(m.c!);
    } else if (m.k === 'M') {
      if (!m.t || m.t === id) link?.recv(m.d);
    } else if (m.l === link?.id) link!.ack(m.n!);
  };

  /** Queues for the lock (or steals it); resolves when granted or refused. */
  const request = (steal = false): Promise<void> =>
    new Promise((granted) => {
      const g = ++gen;
      abort?.();
      const ac = new AbortController();
      abort = () => ac.abort();
      locks!
        .request(key, steal ? { steal } : { signal: ac.signal }, async () => {
          if (g !== gen) return;
          lead();
          granted();
          await new Promise<void>((r) => (release = r));
        })
        .catch(() => {
          granted();
          // Stolen from this tab, or refused: follow, and queue again.
          if (g !== gen) return;
          if (leader) stepDown();
          else if (joined) void request();
        });
    });

  // Only a timer says when to ask; the lock says who leads.
  const ping = (): void => {
    if (leader) return;
    const t = now();
    const a = asked;
    if (a > heard && t - a > stealAfter) {
      asked = 0;
      void locks!.request(`${key} steal`, { ifAvailable: true }, async (l) => {
        // One stealer at a time; and none if the leader spoke meanwhile.
        if (l && !leader && heard < a) await request(true);
      });
    } else if (t - heard > stealAfter / 4 && asked <= heard) {
      asked = t;
      post({ k: 'H', e: epoch });
    }
  };

  /** Asks who leads (and whether its socket is open); unanswered, it leads to a steal. */
  const hello = (): void => {
    heard = now() - 1;
    asked = now();
    post({ k: 'H', e: epoch });
  };

  const join = (): void => {
    if (joined || stored || !shared) return;
    joined = true;
    bc = new BroadcastChannel(key);
    bc.onmessage = receive;
    hello();
    tick = setInterval(ping, stealAfter / 4);
    void request();
  };

  const leave = (): void => {
    if (!joined) return;
    joined = false;
    ++gen;
    abort?.();
    if (leader) {
      leader = false;
      release?.();
    }
    clearInterval(tick);
    bc?.close();
    bc = undefined;
  };

  const page: Record<string, (ev: Event) => void> = {
    freeze: () => leader && fence(),
    resume: check,
    pagehide: (ev) => {
      if ((ev as PageTransitionEvent).persisted) {
        stored = true;
        leave();
      }
    },
    pageshow: (ev) => {
      if ((ev as PageTransitionEvent).persisted && stored) {
        stored = false;
        join();
      }
    },
  };
  const listen = (on: boolean): void => {
    if (!shared) return;
    for (const [type, f] of Object.entries(page)) {
      const target: EventTarget | undefined = type[0] === 'p' ? globalThis : globalThis.document;
      if (on) target?.addEventListener(type, f);
      else target?.removeEventListener(type, f);
    }
  };

  const plugin: Plugin = {
    init: (h) => void (host = h),
    state(to) {
      if (to !== 'closed') {
        if (!joined && !stored) listen(true);
        join();
      } else {
        leave();
        listen(false);
        stored = false;
      }
    },
    hold: () => !leader && !open,
    close() {
      const h = handover;
      handover = false;
      // A follower waits for the leader (held) instead of spending its own retries.
      return h || !leader ? { retry: 'now' } : undefined;
    },
    snapshot: () => ({ leader, shared }),
  };

  let used = false;
  return {
    id,
    shared,
    options(o) {
      if (used) bad('options() was called twice: one tabs() per client');
      used = true;
      const own = o?.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket!;
      Real = own;
      return { ...o, WebSocket: shared ? (Link as unknown as WebSocketConstructor) : own, plugins: [...(o?.plugins ?? []), plugin] } as never;
    },
  };
}
