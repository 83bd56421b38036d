import type { IncomingData, WireData } from './codec.js';
import type { ErrorCode, ResilientWebSocketError } from './errors.js';
import type { CloseInfo } from './options.js';
import type { Plugin, PluginHost } from './plugin.js';
import type { TabLanes } from './tabs.js';

/**
 * Options of {@link reliable}.
 *
 * @example
 * ```ts
 * reliable({ storageKey: 'chat.session', ackDelayMs: 50, maxBytes: 4 << 20 });
 * ```
 */
export interface ReliableOptions {
  /**
   * The `sessionStorage` key the session is saved under on `pagehide` and when the page is
   * hidden, so a reload resumes it; `false` saves nothing.
   * @default 'rws.session'
   */
  storageKey?: string | false;
  /**
   * An inbound message is acknowledged within this many ms (coalesced; at once after 64).
   * @default 20
   */
  ackDelayMs?: number;
  /**
   * Unacknowledged bytes (UTF-16 units for text) above which `sendReliable()` rejects with
   * `QUEUE_FULL`. `send()` never drops a numbered message: pace it with `await ws.writable()`.
   * @default 33554432 (32 MiB)
   */
  maxBytes?: number;
}

/** The plug-in, with the calls the application makes. */
export interface Reliable extends Plugin {
  /**
   * Sends `data` like `ws.send()`, and resolves once the server acknowledged it. Rejects with
   * `SESSION_RESET` when the session was reset before that, `QUEUE_FULL` over `maxBytes`,
   * `PROTOCOL_MISMATCH` when the server does not speak `rws.v1`, `CLOSED` when the client dropped
   * it, or the `send()` error (`INVALID_DATA`).
   *
   * @example
   * ```ts
   * await rel.sendReliable(JSON.stringify({ text: 'hi' }));
   * showTick();
   * ```
   */
  sendReliable(data: unknown): Promise<void>;
  /**
   * Messages numbered and not acknowledged yet.
   *
   * @example
   * ```ts
   * window.onbeforeunload = () => (rel.unacked ? 'Messages are still being sent' : undefined);
   * ```
   */
  readonly unacked: number;
}

/**
 * The subprotocol the plug-in offers next to the application's (`rws.v1.<app>` for each app
 * protocol, then `rws.v1`).
 *
 * @example
 * ```ts
 * ws.protocol; // 'chat', while the native socket negotiated 'rws.v1.chat'
 * ```
 */
export const PROTOCOL = 'rws.v1';

/** The length of a frame the plug-in made: a string, a `Uint8Array` or a `Blob`. */
const size = (w: WireData): number => (w as string).length ?? (w as Blob).size;

/** A Latin-1 string as bytes: an ASCII header, or a binary frame saved as a string. */
const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** `head` (ASCII) in front of `w`: text stays text, bytes stay bytes. */
function wrap(head: string, w: WireData): WireData {
  if (typeof w == 'string') return head + w;
  if (w instanceof Blob) return new Blob([head, w]);
  // An ArrayBuffer has no `buffer`, and then no offset: the whole buffer.
  const v = w as Uint8Array;
  const u = new Uint8Array(head.length + v.byteLength);
  u.set(latin1(head));
  u.set(new Uint8Array(v.buffer ?? v, v.byteOffset, v.byteLength), head.length);
  return u;
}

/**
 * A `ResilientWebSocketError` without the class: the brand and the `code` are what
 * `isResilientWebSocketError()` and `instanceof` read, and the class would double the bundle.
 */
const oops = (code: ErrorCode, m: string): ResilientWebSocketError =>
  Object.assign(Error(m), { name: 'ResilientWebSocketError', code, [Symbol.for('resilient-ws.error')]: true });

/**
 * End-to-end delivery (SPEC §12) against the server companion `resilient-ws/server`: every
 * message is numbered, kept until the server acknowledges it, re-sent after a reconnect and
 * delivered once, in order, in both directions, also across a page reload. It speaks only when
 * the server picks `rws.v1`; otherwise the wire stays plain WebSocket. A session the server
 * cannot resume ends in a `reset` event.
 *
 * @example
 * ```ts
 * import { ResilientWebSocket } from 'resilient-ws';
 * import { reliable } from 'resilient-ws/reliable';
 *
 * const rel = reliable();
 * const ws = new ResilientWebSocket(url, ['chat'], { plugins: [rel] });
 * ws.on('reset', ({ topic }) => resync(topic));
 * await rel.sendReliable(JSON.stringify({ text: 'hi' })); // the server has it
 * ```
 */
export function reliable(options: ReliableOptions = {}): Reliable {
  const { storageKey: key = 'rws.session', ackDelayMs = 20, maxBytes = 32 << 20 } = options;
  let host: PluginHost;
  /** Unknown (falsy), 1 rws.v1, 2 a plain server. */
  let mode: number | undefined;
  let live: boolean | undefined;
  let token: string | undefined;
  let epoch!: string;
  let received = 0;
  let ackSent = 0;
  let next = 1;
  /** The frames numbered and not acknowledged, `held` bytes in all: `out[0]` is `next - out.length`. */
  let out: WireData[] = [];
  let held = 0;
  /**
   * The `resolve` of each `sendReliable()` promise at the index of its frame in `out` (holes for
   * plain `send()`s), so one splice settles what an ack covers. A reset resolves them with a
   * rejected promise, which rejects them: one function per message, not two.
   */
  let waiting: Array<((v?: Promise<never>) => void) | undefined> = [];
  let topics: Record<string, [string, number]> = {};
  // `void`: clearTimeout() returns it, and resets the timer in the same expression.
  let timer: ReturnType<typeof setTimeout> | void;
  /** `sendReliable()` before the first open waits to learn whether the server speaks rws.v1. */
  let learnt!: () => void;
  const known = new Promise<void>((r) => (learnt = r));

  /** Sends the cumulative ack now; also stops the timer, which is all it does when not live. */
  const ack = (): void => {
    timer = clearTimeout(timer as ReturnType<typeof setTimeout>);
    if (live && received > ackSent) host.control('\x05' + (ackSent = received).toString(36));
  };
  /**
   * On `pagehide` and on every `visibilitychange` (it bubbles to the window): hidden is the one
   * that matters, and saving again when the page shows costs one write and changes nothing.
   */
  const save = (keep?: unknown): void => {
    try {
      // A binary frame as a Latin-1 string, a char per byte. A Blob cannot be read synchronously
      // (it has no reduce): with one unacknowledged, nothing is saved.
      // First forget the last entry: a write that fails below must not leave an older one to
      // resume from, with numbers the server already has.
      if (key) sessionStorage.removeItem(key);
      const u = out.map((f) => (typeof f == 'string' ? f : [(f as Uint8Array).reduce((s, c) => s + String.fromCharCode(c), '')]));
      if (key && token && keep !== 0) sessionStorage.setItem(key, JSON.stringify({ s: token, e: epoch, r: received, t: topics, n: next, b: held, u }));
    } catch {
      // Storage full or forbidden: the session is just not resumable after a reload.
    }
  };

  return {
    ownsResend: true,
    binaryType: 'arraybuffer',
    init(h) {
      host = h;
      try {
        const d = JSON.parse((key && sessionStorage.getItem(key)) || '') as { s: string; e: string; r: number; n: number; t: typeof topics; b: number; u: Array<string | [string]> };
        sessionStorage.removeItem(key as string);
        ({ s: token, e: epoch, r: received, t: topics, n: next, b: held } = d);
        out = d.u.map((f) => (typeof f == 'string' ? f : latin1(f[0])));
        mode = 1;
      } catch {
        // No storage (Node, a sandboxed frame), no entry (also with `storageKey: false`), or a corrupt one: start fresh.
      }
    },
    state(to) {
      if (to != 'open') {
        live = false;
        ack();
      }
      // Adding a listener twice, or removing one never added, does nothing: no flag needed.
      const closed = to == 'closed';
      const m = closed ? 'removeEventListener' : 'addEventListener';
      globalThis.window?.[m]('pagehide', save);
      globalThis.window?.[m]('visibilitychange', save);
      // Closed for good: nothing to resume after a reload (`save(0)` only forgets; listeners pass an Event).
      if (closed) save(0);
    },
    attempt(plan) {
      plan.protocols.push(...plan.protocols.map((p) => PROTOCOL + '.' + p), PROTOCOL);
    },
    open(protocol) {
      learnt();
      // `rws.v1`, or `rws.v1.<app>`.
      // Not ours: plain, also with a saved session (kept for a later connection that is ours).
      if (!(live = !(protocol + '.').indexOf(PROTOCOL + '.'))) return void (mode = 2);
      mode = 1;
      ackSent = received;
      host.control('\x01' + JSON.stringify(token ? { s: token, e: epoch, r: received, t: topics } : {}));
      // Pipelined: the server drops what it already has, and all of it after a reset.
      for (const f of out) host.control(f);
      return protocol.slice(7);
    },
    send(w, volatile) {
      // Numbers go only to frames that will be sent: after close() (closing, closed), send() drops the message.
      if (mode != 1 || host.state[1] == 'l') return w;
      if (volatile) return wrap('\x06', w);
      const f = wrap(`\x03${(next++).toString(36)}:`, w);
      out.push(f);
      held += size(f);
      return f;
    },
    receive(raw: IncomingData): IncomingData | null | void {
      if (!live) return;
      // One parser for both frame kinds: the header is ASCII, so a binary frame's first bytes read
      // as Latin-1 keep their offsets (256 of them: a topic name has at most 200).
      const s = typeof raw == 'string' ? raw : String.fromCharCode(...new Uint8Array((raw as ArrayBuffer).slice(0, 256)));
      const k = s.charCodeAt(0);
      // Not an envelope (an app's frame the server sent past the companion), or empty (NaN).
      if (!(k < 9 && k)) return;
      // `slice` is the same call on a string and an ArrayBuffer.
      if (k == 6) return raw.slice(1);
      // parseInt stops at the `,` or the `:` of a header.
      const n = parseInt(s.slice(1), 36);
      if (k == 2 || k == 5 || k == 8) {
        // Control frames (text): an ack is `{ r }` in short.
        const v = (k == 5 ? { r: n } : JSON.parse(s.slice(1))) as { s: string; e: string; r: number; x?: string; t?: string; o: number };
        let lost = 0;
        if (k == 8) topics[v.t!] = [v.e, v.o];
        else if (k == 2 && ((token = v.s), (epoch = v.e), v.x)) {
          lost = out.length;
          const e = oops('SESSION_RESET', 'reset: ' + v.x);
          for (const w of waiting) w?.(Promise.reject(e));
          out = [];
          waiting = [];
          held = received = ackSent = 0;
          topics = {};
          // Everything numbered below `next` is from the old session; the server drops it.
          host.control(`\x01{"b":${next}}`);
        } else {
          // One splice per (coalesced) ack: a shift() per message is quadratic on a long backlog.
          const c = v.r - next + out.length + 1;
          for (const f of out.splice(0, c)) held -= size(f);
          for (const w of waiting.splice(0, c)) w?.();
        }
        // A welcome has no topic: `topic` is undefined for a session reset.
        if (v.x) host.emit('reset', { reason: v.x, topic: v.t, lost });
        return null;
      }
      // `seq:` or `offset,topic:` then the payload. A number already delivered, or none (NaN: a
      // malformed header), is dropped.
      const i = s.indexOf(':');
      const body = raw.slice(i + 1);
      if (k == 7) {
        const t = s.slice(s.indexOf(',') + 1, i);
        const p = topics[t];
        if (!(n > (p ? p[1] : -1))) return null;
        topics[t] = [p ? p[0] : epoch, n];
        return body;
      }
      if (!(n > received)) return null;
      if (n > received + 1) {
        host.lost({ code: 4491, reason: 'rws: sequence gap', wasClean: false });
        return null;
      }
      received = n;
      if (n - ackSent >= 64) ack();
      else timer ??= setTimeout(ack, ackDelayMs);
      return body;
    },
    async sendReliable(data) {
      if (!mode) await known;
      if (mode! > 1) throw oops('PROTOCOL_MISMATCH', 'no rws.v1');
      if (held > maxBytes) throw oops('QUEUE_FULL', 'over maxBytes');
      const n = next;
      host.send(data);
      // Not numbered: dropped (after close()), or the core refused it.
      if (n == next) throw oops('CLOSED', 'dropped');
      return new Promise<void>((r) => (waiting[out.length - 1] = r));
    },
    get unacked() {
      return out.length;
    },
  };
}

/**
 * Lanes for `resilient-ws/tabs` (pass it as `tabs({ lanes: lanes() })`): the leader tab offers
 * `rws.v2`, and each tab's `reliable()` session travels in its own lane of the one connection
 * (`\x0e<lane>:` in front of each of its frames), so each tab keeps its own numbering, acks and
 * resume position across a change of leader. Against a companion without lanes (it picks
 * `rws.v1`), only the leader's tab speaks `rws.v1`; the others see the app's protocol and stay
 * plain (`sendReliable()` rejects with `PROTOCOL_MISMATCH`).
 *
 * @example
 * ```ts
 * import { reliable, lanes } from 'resilient-ws/reliable';
 * import { tabs } from 'resilient-ws/tabs';
 *
 * const tab = tabs({ name: 'chat', version: '1.4.0', lanes: lanes() });
 * const rel = reliable();
 * const ws = new ResilientWebSocket(url, ['chat'], tab.options({ plugins: [rel] }));
 * ```
 */
export function lanes(): TabLanes {
  return {
    // `rws.v1` → `rws.v2`, `rws.v1.<app>` → `rws.v2.<app>`, in front: only when this tab speaks rws.v1.
    offer: (p = []) => [...p.filter((n) => !(n + '.').indexOf(PROTOCOL + '.')).map((n) => 'rws.v2' + n.slice(6)), ...p],
    accept(p) {
      const app = p.slice(7);
      return !(p + '.').indexOf('rws.v2.') ? [PROTOCOL + p.slice(6), PROTOCOL + p.slice(6), 1] : !(p + '.').indexOf(PROTOCOL + '.') ? [p, app] : [p, p];
    },
    out: (lane, w) => (w === undefined ? '\x0f' + lane : wrap(`\x0e${lane}:`, w)),
    in(raw) {
      const s = typeof raw == 'string' ? raw : String.fromCharCode(...new Uint8Array((raw as ArrayBuffer).slice(0, 16)));
      const i = s.indexOf(':');
      if (s[0] == '\x0e') return [raw.slice(i + 1), s.slice(1, i)];
      if (s[0] == '\x0f') {
        const [lane, code, ...reason] = s.slice(1).split(',');
        return [undefined, lane!, { code: +code!, reason: reason.join(','), wasClean: true } as CloseInfo];
      }
    },
  };
}
