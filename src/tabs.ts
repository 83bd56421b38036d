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
   * route: (data) => (typeof data == 'string' ? JSON.parse(data).tab : undefined)
   * ```
   */
  route?: (data: IncomingData) => string | undefined;
  /**
   * Each tab's frames in a lane of their own on the one connection: `lanes()` from
   * `resilient-ws/reliable`, so that every tab keeps its own `reliable()` session (numbering,
   * acks, resume position) across changes of leader. Frames in a lane reach only their tab.
   */
  lanes?: TabLanes;
}

/**
 * Multiplexing of the tabs' frames on the one connection (`lanes()` in `resilient-ws/reliable`
 * makes one); this entry knows nothing of the wire format.
 */
export interface TabLanes {
  /** The subprotocols the leader offers, from those a tab's client asked for. */
  offer(protocols?: string[]): string[];
  /** From the protocol the server picked: what the leader's tab sees, what the others see, and `1` when lanes are on. */
  accept(protocol: string): [own: string, others: string, on?: 1];
  /** A link's frame in its lane; `undefined`: the link's lane ends. */
  out(lane: string, frame: WireData | undefined): WireData;
  /** An inbound frame and its lane, or the lane's end (a close); `undefined`: in no lane. */
  in(data: IncomingData): [frame: IncomingData | undefined, lane: string, close?: CloseInfo] | undefined;
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

// The kinds of message between tabs. Every message is an array, [kind, epoch, ...]: arrays
// clone and minify smaller than objects. The epoch is the leadership's fencing number.
/** `[H, e]`: a follower's hello or ping; the leader answers with `L`. */
const H = 0;
/**
 * `[S, e, link, n, frame, at, k]`: frame `n` of a follower's link, to write on the leader's
 * socket `k` (the one the link opened on); `at` is `Date.now()`. No frame: the link closed (its
 * lane ends).
 */
const S = 1;
/** `[A, e, link, n]`: the leader wrote that link's frames up to `n`. */
const A = 2;
/** `[L, e, open]`: the leader, and `[protocol, extensions, k]` while its socket `k` is open (else null). */
const L = 3;
/** `[C, e, close, k]`: the leader's socket `k` closed (or was given up). */
const C = 4;
/**
 * `[M, e, frame, to, close]`: an inbound frame, for the tab or the link `to` (undefined: every
 * tab); with `close`, the server ended that link's lane.
 */
const M = 5;

// `k` numbers the leader's native sockets: a leader's `reconnect()` drops one socket and opens
// the next at once, and the old one's messages must not be taken for the new one's.
type Open = [protocol: string, extensions: string, k: number];
type Send = [k: typeof S, e: number, link: string, n: number, frame: WireData | undefined, at: number, sock: number];
type Ack = [k: typeof A, e: number, link: string, n: number];
type Inbound = [k: typeof M, e: number, frame: IncomingData | undefined, to: string | undefined, close?: CloseInfo];
type Msg =
  | [k: typeof H, e: number]
  | Send
  | Ack
  | [k: typeof L, e: number, open: Open | null]
  | [k: typeof C, e: number, close: CloseInfo, sock: number]
  | Inbound;

type Handler<E> = ((ev: E) => unknown) | null;

/** What the core sees as its socket, and what the plug-in drives. */
interface Link extends WebSocketLike {
  readyState: number;
  protocol: string;
  extensions: string;
  onopen: Handler<void>;
  onmessage: Handler<{ data: unknown }>;
  onerror: Handler<void>;
  onclose: Handler<CloseInfo>;
  readonly id: string;
  /** The leader's socket this link is on (opened, or, in the leader, opening). */
  k?: number;
  lead(): void;
  up(open: Open): void;
  end(close: CloseInfo): void;
  send(data?: WireData, lane?: string): void;
  ack(upTo: number): void;
  drop(): void;
}

// The reason tells the plug-in's close hook that a leadership change ended the link (retry now).
const CHANGED = 'tab leader changed';
const LEADER_CHANGED: CloseInfo = { code: 1001, reason: CHANGED, wasClean: false };
const noop = (): void => undefined;
/** Ten base-36 digits: a tab's id, and a link's id and lane (at most 11 digits on the wire). */
const rnd = (): string => Math.random().toString(36).slice(2, 12);
const G = globalThis as typeof globalThis & { WebSocket?: WebSocketConstructor };

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
  // A copy: `tabs()` without options fails the check below, not the destructuring.
  const o: Partial<TabsOptions> = { ...options };
  const { name, version, stealAfter = 5000, route, lanes } = o;
  // The core's INVALID_OPTION shape (a TypeError with `code` and the library's brand), without
  // importing the core's error module into this entry.
  const bad = (what: string): never => {
    throw Object.assign(new TypeError(`tabs(): ${what}`), { code: 'INVALID_OPTION', [Symbol.for('resilient-ws.error')]: true });
  };
  if (!(typeof name == 'string' && name && typeof version == 'string' && stealAfter >= 100 && stealAfter < 2 ** 31 && typeof (route ?? noop) == 'function' && (!lanes || lanes.in)))
    bad(`name, version: strings; stealAfter: >= 100; route: a function; lanes: lanes(); got ${JSON.stringify(o)}`);

  const key = `resilient-ws ${JSON.stringify([name, version])}`;
  // Random enough to tell the tabs of one browser apart (crypto.randomUUID is missing on insecure origins).
  const id = rnd();
  const locks = G.navigator?.locks;
  const shared = !!(G.BroadcastChannel && locks?.request);
  let host: PluginHost;
  let Real: WebSocketConstructor | undefined;
  // Open while this tab takes part (joined); a closed channel must not be posted to.
  let bc: BroadcastChannel | undefined;
  let stored: boolean | undefined;
  let leader = !shared;
  /** The highest epoch seen; this tab's own while it leads. */
  let epoch = 0;
  /** The leader's socket is open, with this protocol and these extensions. */
  let open: Open | null | undefined;
  /** Leading, but not sure it still holds the lock (after a freeze or a stall): nothing is written. */
  let fenced: boolean | undefined;
  /** Bumped by every fencing: an answer to an older question about the lock counts for nothing. */
  let checks = 0;
  /** The fencing a question about the lock is out for (none at first: `undefined` is no number). */
  let asking: number | undefined;
  /** When the last question that found this tab still leading was asked. */
  let okAt = 0;
  /** Frames (own and followers') held while fenced, in arrival order. */
  let stash: Send[] = [];
  // Both set by `ping(heard = asked = 0)` (a hello) before anything reads them.
  let heard: number;
  let asked: number;
  let link: Link | undefined;
  /** The number of this tab's last native socket. */
  let sock = 0;
  // Aborted when the lock request it belongs to is superseded (a new request, or leaving): its
  // signal says whether an answer still counts.
  let lockAc: AbortController | undefined;
  let pageAc: AbortController | undefined;
  let release: (() => void) | undefined;
  let me: Promise<string | void>;
  let tick: ReturnType<typeof setInterval> | undefined;
  /** The last frame number written from each link: frames are written in order, once (set on leading). */
  let written: Record<string, number>;
  /** Posts `[kind, epoch, ...rest]` to the other tabs and returns it. */
  const post = <T extends Msg>(...m: unknown[]): T => (m.splice(1, 0, epoch), bc?.postMessage(m), m as T);
  /** The client id of the lock's holder, as the lock manager sees it now. */
  const holder = (): Promise<string | void> => locks!.query().then((q) => q.held?.find((l) => l.name == key)?.clientId, noop);

  /**
   * A socket for the core (it calls `new` on this): the native socket in the leader, a proxy
   * over the channel in a follower; the core cannot tell them apart. `bufferedAmount` counts
   * what no native socket has taken yet, so the core's `resend: 'unsent'` puts exactly those
   * messages back in its queue when a link dies.
   */
  function Link(url: string, protocols?: string | string[]): Link {
    let real: WebSocketLike | undefined;
    /** Frames numbered on this link (sent to the leader, or held while fenced). */
    let n = 0;
    /** The byte counts of the frames not written yet: frames `n - length + 1` to `n`. */
    const pending: number[] = [];
    let bytes = 0;
    let gone: (c: CloseInfo) => void = noop;
    /** The lanes, while the leader's socket has them on. */
    let mux: TabLanes | undefined | 0 | void;
    const l = {
      readyState: 0,
      // Unique among the links of every tab (the leader numbers frames per link), and its lane.
      id: rnd(),
      get bufferedAmount(): number {
        return (real?.bufferedAmount ?? 0) + bytes;
      },

      lead(): void {
        // drop() no-ops these handlers: events of a socket given up never reach the link.
        const s = (real = new Real!(url, lanes?.offer(protocols as string[]) ?? protocols));
        const k = (l.k = ++sock);
        s.binaryType = 'arraybuffer';
        s.onopen = () => {
          const [mine = s.protocol, theirs = mine, on] = lanes?.accept(s.protocol) ?? [];
          mux = on && lanes;
          post(L, (open = [theirs, s.extensions, k]));
          l.up([mine, s.extensions, k]);
        };
        // In a lane, for its link; else for `route`'s tab. A throwing `route` is the app's bug:
        // it surfaces, and the frame goes nowhere.
        s.onmessage = ({ data }: MessageEvent<IncomingData>) => {
          const [d, to = route?.(d), c] = (mux && mux.in(data)) || [data];
          deliver(post(M, d, to, c), l);
        };
        s.onerror = () => l.onerror?.();
        s.onclose = ({ code, reason, wasClean }: CloseEvent) => {
          const c = { code, reason, wasClean };
          gone(c);
          l.end(c);
        };
        /**
         * Once per socket, while it is still the current one: when it closes, or as soon as the
         * core gives it up (its close event can come after the next socket opened). The
         * followers' links end on `C` and send again what was not written; this link's frames
         * go back to the core's queue: nothing held while fenced is written now.
         */
        gone = (c) => {
          gone = noop;
          if (open?.[2] == k) open = null;
          stash = [];
          post(C, c, k);
        };
      },

      up(o: Open): void {
        if (!l.readyState) {
          l.readyState = 1;
          [l.protocol, l.extensions, l.k] = o;
          l.onopen?.();
        }
      },

      end(c: CloseInfo): void {
        if (l.readyState != 3) {
          l.readyState = 3;
          // The server ended the leader's own lane: its socket goes too (the followers follow).
          real?.close();
          if (link == l) link = undefined;
          l.onclose?.(c);
        }
      },

      send(d?: WireData, lane = l.id): void {
        // No frame: a link's close, which is only written as the end of its lane.
        if (real && !fenced) {
          if (mux || d != undefined) real.send((mux ? mux.out(lane, d) : d) as never);
        } else {
          // What the browser counts in `bufferedAmount`, as the core counts it: UTF-8 bytes (a
          // Blob encodes strings as the socket does), a Blob's size, a buffer's or a view's length.
          const size = new Blob([(d ?? '') as BlobPart]).size;
          pending.push(size);
          bytes += size;
          const m: Send = [S, epoch, l.id, ++n, d, Date.now(), l.k!];
          // A fenced leader holds its own frames with the followers' until it knows it still leads.
          if (real) take(m);
          else bc?.postMessage(m);
        }
      },

      /** The frames up to `upTo` were written by the leader: no longer ours to re-send. */
      ack(upTo: number): void {
        while (pending.length && n - pending.length < upTo) bytes -= pending.shift()!;
      },

      /** Stepping down: the native socket goes unwritten; the held frames go back to the core. */
      drop(): void {
        // Forgotten before the link ends: what the core does on the close is a follower's.
        if (real) {
          real.onopen = real.onmessage = real.onclose = real.onerror = noop;
          real.close();
          real = undefined;
        }
        l.end(LEADER_CHANGED);
      },

      close(code?: number, reason?: string): void {
        const c = { code: code ?? 1005, reason: reason ?? '', wasClean: true };
        if (real) {
          gone(c);
          return real.close(code, reason);
        }
        // No frame, after the frames sent before: its lane ends.
        l.send();
        // Like the native close(): the state changes now, the close event comes a moment later.
        l.readyState = 2;
        queueMicrotask(() => l.end(c));
      },
    } as Link;
    link = l;
    if (leader) l.lead();
    else if (open) queueMicrotask(() => !leader && open && l.up(open));
    return l;
  }

  /** An inbound frame, or the end of a lane, if it is for this tab or for its link `l`. */
  const deliver = ([, , d, to, c]: Inbound, l = link): void => {
    // The core delivers only while open.
    if (l && (!to || to == id || to == l.id)) void (c ? l.end(c) : l.onmessage?.({ data: l.binaryType == 'blob' && d instanceof ArrayBuffer ? new Blob([d]) : d }));
  };

  /** Granted the lock: lead with a higher epoch than any seen. */
  const lead = (): void => {
    leader = true;
    fenced = false;
    open = null;
    written = {};
    // Who holds the lock now is this tab: a later check compares the holder with it.
    me = holder();
    ++epoch;
    post(L, open);
    if (link?.readyState == 0) link.lead();
    else if (link?.readyState == 1) link.end(LEADER_CHANGED);
    else host.wake();
    host.changed();
  };

  const stepDown = (): void => {
    leader = fenced = false;
    open = null;
    stash = [];
    release?.();
    link?.drop();
    if (bc) {
      ping((heard = asked = 0));
      request();
    }
    host.changed();
  };

  /**
   * Asks the lock manager, now that this tab runs, whether it still holds the lock: resumes
   * writing if so, steps down if not. A fencing after the question voids the answer.
   */
  const check = (): void => {
    if (fenced && asking != checks) {
      const c = (asking = checks);
      const t = Date.now();
      void Promise.all([me, holder()]).then(([mine, now]) => {
        if (c == checks && leader) {
          if (mine && mine == now) {
            fenced = false;
            okAt = t;
            // Emptied in place: a frame that fences again while these are taken is stashed anew.
            stash.splice(0).forEach(take);
          } else stepDown();
        }
      });
    }
  };

  /** A frame for the socket, in the leader: written once, in order, and acknowledged. */
  const take = (m: Send): void => {
    // A frame that waited this long (since it was sent, or since the last check, whichever is
    // later) means this tab was stalled and may have been replaced.
    if ((fenced ||= Date.now() - Math.max(m[5], okAt) > stealAfter / 2 && !!++checks)) {
      stash.push(m);
      return check();
    }
    const [, e, from, i, d, , k] = m;
    // Only frames sent for the open socket: one sent for a socket given up stays unacknowledged,
    // and its link, ended by that socket's `C`, sends it again.
    if (e == epoch && link?.readyState == 1 && open?.[2] == k && i == (written[from] ?? 0) + 1) {
      written[from] = i;
      link.send(d, from);
      post(A, from, i);
      if (from == link.id) link.ack(i);
    }
  };

  const receive = ({ data: m }: MessageEvent<Msg>): void => {
    const [kind, e, p, q] = m as [number, number, never, never];
    if (e > epoch) {
      // A newer leadership exists: a leader steps down, a follower's link to the old one ends.
      epoch = e;
      if (leader) stepDown();
      open = null;
      if (link?.readyState == 1) link.end(LEADER_CHANGED);
    }
    if (leader) {
      if (kind == S) take(m as Send);
      // A fenced leader does not claim to be alive before it knows it still leads.
      else if (kind == H) {
        if (fenced) check();
        else post(L, open);
      }
    } else if (e == epoch && kind > S) {
      heard = Date.now();
      if (kind == L) {
        if ((open = p)) {
          if (link) link.up(open);
          else host.wake();
        }
      } else if (kind == C) {
        // Fenced by the socket's number: only what was on that socket ends.
        if (open?.[2] == q) open = null;
        if (link?.k == q) link.end(p);
      } else if (kind == M) deliver(m as Inbound);
      else if (p == link?.id) link.ack(q);
    }
  };

  /** Queues for the lock (or steals it); `done` runs when it is granted or refused. */
  const request = (steal?: boolean, done = noop): void => {
    lockAc?.abort();
    const signal = (lockAc = new AbortController()).signal;
    locks!
      .request(key, steal ? { steal } : { signal }, () => {
        if (signal.aborted) return;
        lead();
        done();
        // Held until this tab steps down or leaves.
        return new Promise<void>((r) => (release = r));
      })
      .catch(() => {
        done();
        // Stolen from this tab, or refused: follow, and queue again.
        if (signal.aborted) return;
        if (leader) stepDown();
        else if (bc) request();
      });
  };

  // Only a timer says when to ask; the lock says who leads. `ping(heard = asked = 0)`: asks who
  // leads (and whether its socket is open) now; unanswered, it leads to a steal.
  const ping = (_hello?: unknown): void => {
    if (leader) return;
    const t = Date.now();
    const a = asked;
    // Asked and not answered since: a steal once that is overdue; else a ping when one is due.
    if (a > heard) {
      if (t - a > stealAfter) {
        asked = 0;
        // One stealer at a time (held until the steal is decided); none if the leader spoke meanwhile.
        void locks!.request(`${key} steal`, { ifAvailable: true }, (l) => l && !leader && heard < a && new Promise<void>((r) => request(true, r)));
      }
    } else if (t - heard > stealAfter / 4) {
      asked = t;
      post(H);
    }
  };

  const page: Record<string, (ev: Event) => void> = {
    freeze: () => {
      if (leader) fenced = !!++checks;
    },
    resume: check,
    // Into the back/forward cache: out of the lock queue and the channel, and off the link (a
    // leader's socket closes unwritten); what was not written goes back to the core's queue, and
    // the client waits (held) until the page is restored and a leader is found again.
    pagehide: (ev) => {
      if ((ev as PageTransitionEvent).persisted) {
        stored = true;
        leave();
        link?.drop();
      }
    },
    // These listeners live from a join to the close: a tab not stored has joined, and join()
    // does nothing then.
    pageshow: () => {
      stored = false;
      join();
    },
  };

  const join = (): void => {
    if (bc || stored || !shared) return;
    pageAc?.abort();
    const signal = (pageAc = new AbortController()).signal;
    for (const type in page) (type[0] == 'p' ? G : G.document)?.addEventListener(type, page[type]!, { signal });
    bc = new BroadcastChannel(key);
    bc.onmessage = receive;
    ping((heard = asked = 0));
    tick = setInterval(ping, stealAfter / 4);
    request();
  };

  const leave = (): void => {
    if (!bc) return;
    leader = false;
    open = null;
    lockAc?.abort();
    release?.();
    clearInterval(tick);
    bc.close();
    bc = undefined;
  };

  const plugin: Plugin = {
    init: (h) => void (host = h),
    state: (to) => (to != 'closed' ? join() : (leave(), pageAc?.abort(), (stored = false))),
    hold: () => !leader && !open,
    // A link ended by a change of leader is retried at once, and so is a follower's whose leader
    // lost its socket: it waits for the leader (held) instead of spending its own retries. A
    // follower's link the server ended while the leader's socket stays open (its lane closed:
    // refused, malformed) takes the backoff and the budget, as its own socket would.
    close: (c) => (c.reason == CHANGED || !(leader || open) ? { retry: 'now' } : undefined),
    snapshot: () => ({ leader, shared }),
  };

  return {
    id,
    shared,
    options(o) {
      if (Real) bad('options() called twice');
      Real = o?.WebSocket ?? G.WebSocket!;
      return { ...o, WebSocket: shared ? (Link as unknown as WebSocketConstructor) : Real, plugins: [...(o?.plugins ?? []), plugin] } as never;
    },
  };
}
