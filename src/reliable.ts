import type { IncomingData, WireData } from './codec.js';
import type { ErrorCode, ResilientWebSocketError } from './errors.js';
import type { Plugin, PluginHost } from './plugin.js';

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

/** `head` (ASCII) in front of `w`: text stays text, bytes stay bytes. */
function wrap(head: string, w: WireData): WireData {
  if (typeof w == 'string') return head + w;
  if (w instanceof Blob) return new Blob([head, w]);
  // An ArrayBuffer has no `buffer`, and then no offset: the whole buffer.
  const v = w as Uint8Array;
  const u = new Uint8Array(head.length + v.byteLength);
  u.set(new Uint8Array(v.buffer ?? v, v.byteOffset, v.byteLength), head.length);
  for (let i = 0; i < head.length; i++) u[i] = head.charCodeAt(i);
  return u;
}

/**
 * A `ResilientWebSocketError` without the class: the brand and the `code` are what
 * `isResilientWebSocketError()` and `instanceof` read, and the class would double the bundle.
 */
const oops = (code: ErrorCode, m: string): ResilientWebSocketError =>
  Object.assign(new Error(m), { name: 'ResilientWebSocketError', code, [Symbol.for('resilient-ws.error')]: true });

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
  /** 0 unknown, 1 rws.v1, 2 a plain server. */
  let mode = 0;
  let live = false;
  let token = '';
  let epoch = '';
  let received = 0;
  let ackSent = 0;
  let next = 1;
  /** The frames numbered and not acknowledged, `out[0]` numbered `first`. */
  let out: WireData[] = [];
  let first = 1;
  let bytes = 0;
  /** The promises of `sendReliable()`, by number, in order. */
  const waiting = new Map<number, [() => void, (e: Error) => void]>();
  let topics: Record<string, [string, number]> = {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hooked = false;
  /** `sendReliable()` before the first open waits to learn whether the server speaks rws.v1. */
  let learnt!: () => void;
  const known = new Promise<void>((r) => (learnt = r));

  const ack = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (live && received > ackSent) host.control('\x05' + (ackSent = received).toString(36));
  };
  const acked = (n: number): void => {
    // One splice per (coalesced) ack: a shift() per message is quadratic on a long backlog.
    for (const f of out.splice(0, n - first + 1)) bytes -= size(f);
    first = Math.max(first, n + 1);
    for (const [s, r] of waiting) {
      if (s > n) break;
      waiting.delete(s);
      r[0]();
    }
  };
  const save = (): void => {
    try {
      // A Blob cannot be read synchronously (it has no reduce): with one unacknowledged, nothing is saved.
      const u = out.map((f) => (typeof f == 'string' ? f : [btoa((f as Uint8Array).reduce((s, c) => s + String.fromCharCode(c), ''))]));
      if (key && token) sessionStorage.setItem(key, JSON.stringify({ s: token, e: epoch, r: received, n: next, t: topics, u }));
    } catch {
      // Storage full or forbidden: the session is just not resumable after a reload.
    }
  };
  const onHide = (): void => void (document.visibilityState == 'hidden' && save());

  const plugin: Reliable = {
    ownsResend: true,
    binaryType: 'arraybuffer',
    init(h) {
      host = h;
      try {
        const d = JSON.parse((key && sessionStorage.getItem(key)) || '') as { s: string; e: string; r: number; n: number; t: typeof topics; u: Array<string | [string]> };
        sessionStorage.removeItem(key as string);
        ({ s: token, e: epoch, r: received, n: next, t: topics } = d);
        out = d.u.map((f) => (typeof f == 'string' ? f : Uint8Array.from(atob(f[0]), (c) => c.charCodeAt(0))));
        first = next - out.length;
        bytes = out.reduce((n, f) => n + size(f), 0);
        mode = 1;
      } catch {
        // No storage (Node, a sandboxed frame), no entry (also with `storageKey: false`), or a corrupt one: start fresh.
      }
    },
    state(to) {
      if (to != 'open') {
        live = false;
        clearTimeout(timer);
        timer = undefined;
      }
      if (typeof window != 'undefined' && hooked != (hooked = to != 'closed')) {
        const m = hooked ? 'addEventListener' : 'removeEventListener';
        window[m]('pagehide', save);
        document[m]('visibilitychange', onHide);
      }
    },
    attempt(plan) {
      plan.protocols.push(...plan.protocols.map((p) => `${PROTOCOL}.${p}`), PROTOCOL);
    },
    open(protocol) {
      live = protocol == PROTOCOL || protocol.startsWith(PROTOCOL + '.');
      if (live) {
        mode = 1;
        ackSent = received;
        host.control('\x01' + JSON.stringify(token ? { s: token, e: epoch, r: received, t: topics } : {}));
        // Pipelined: the server drops what it already has, and all of it after a reset.
        for (const f of out) host.control(f);
      } else if (!token) mode = 2;
      learnt();
      if (live) return protocol.slice(7);
    },
    send(w, volatile) {
      // Numbers go only to frames that will be sent: after close(), send() drops the message.
      if (mode != 1 || /^clos/.test(host.state)) return w;
      if (volatile) return wrap('\x06', w);
      const f = wrap(`\x03${(next++).toString(36)}:`, w);
      out.push(f);
      bytes += size(f);
      return f;
    },
    receive(raw: IncomingData): IncomingData | null | void {
      if (!live) return;
      const u = typeof raw == 'string' ? 0 : new Uint8Array(raw as ArrayBuffer);
      const s = raw as string;
      const k = u ? u[0]! : s.charCodeAt(0);
      if (!(k > 0 && k < 9)) return;
      if (k == 6) return s.slice(1);
      if (k == 5) {
        acked(parseInt(s.slice(1), 36));
        return null;
      }
      if (k == 2 || k == 8) {
        const v = JSON.parse(s.slice(1)) as { s: string; e: string; r: number; x?: string; t: string; o: number };
        if (k == 8) topics[v.t] = [v.e, v.o];
        else if (v.x) {
          const lost = out.length;
          const e = oops('SESSION_RESET', `session reset (${v.x})`);
          for (const [, r] of waiting) r[1](e);
          waiting.clear();
          out = [];
          first = next;
          bytes = received = ackSent = 0;
          topics = {};
          // Everything numbered below `next` is from the old session; the server drops it.
          host.control(`\x01{"b":${next}}`);
          host.emit('reset', { reason: v.x, topic: undefined, lost });
        } else acked(v.r);
        if (k == 2) [token, epoch] = [v.s, v.e];
        else if (v.x) host.emit('reset', { reason: v.x, topic: v.t, lost: 0 });
        return null;
      }
      // `seq:` or `offset,topic:` then the payload, the same for text and binary frames.
      const i = u ? u.indexOf(58) : s.indexOf(':');
      const [a, t] = (u ? String.fromCharCode(...u.subarray(1, i)) : s.slice(1, i)).split(',');
      const n = parseInt(a!, 36);
      if (!(n >= 0)) return;
      const body = s.slice(i + 1);
      if (k == 7) {
        const p = topics[t!];
        if (p && n <= p[1]) return null;
        topics[t!] = [p ? p[0] : epoch, n];
        return body;
      }
      if (n <= received) return null;
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
      if (mode > 1) throw oops('PROTOCOL_MISMATCH', 'no rws.v1 server');
      if (bytes > maxBytes) throw oops('QUEUE_FULL', `over ${maxBytes} bytes unacknowledged`);
      const n = next;
      host.send(data);
      // Not numbered: dropped (after close()), or the core refused it.
      if (n == next) throw oops('CLOSED', 'message dropped');
      return new Promise<void>((resolve, reject) => waiting.set(n, [resolve, reject]));
    },
    get unacked() {
      return out.length;
    },
  };
  return plugin;
}
