import type { IncomingData, WireData } from './codec.js';
import { fail } from './errors.js';
import type { Plugin, PluginHost } from './plugin.js';

/** Options of {@link reliable}. */
export interface ReliableOptions {
  /**
   * The `sessionStorage` key the session is saved under on `pagehide` and when the page is
   * hidden, so a reload resumes it; `false` saves nothing. Default `'rws.session'`.
   */
  storageKey?: string | false;
  /** An inbound message is acknowledged within this many ms (coalesced). Default 20. */
  ackDelayMs?: number;
  /** Unacknowledged bytes before `sendReliable()` rejects with `QUEUE_FULL`. Default 32 MiB. */
  maxBytes?: number;
  /** The server could not resume the session (`reason`), or a topic's history ran out (`topic`). */
  onReset?: (info: ResetInfo) => void;
}

/** What {@link ReliableOptions.onReset} gets. */
export interface ResetInfo {
  /** `'unknown'` (expired, evicted, forged), `'epoch'` (server storage is new), `'mismatch'`, `'trimmed'`. */
  readonly reason: string;
  /** The topic whose history was lost; absent for a session reset. */
  readonly topic?: string;
  /** Unacknowledged messages rejected (session reset only). */
  readonly lost: number;
}

/** The plug-in, with the calls the application makes. */
export interface Reliable extends Plugin {
  /**
   * Sends `data` like `ws.send()`, and resolves once the server acknowledged it; rejects with
   * `SESSION_RESET` when the session was reset before that, `QUEUE_FULL` over `maxBytes`,
   * `PROTOCOL_MISMATCH` when the server does not speak `rws.v1`, `CLOSED` when the client dropped it.
   */
  sendReliable(data: unknown): Promise<void>;
  /** Messages sent and not acknowledged yet. */
  readonly unacked: number;
}

/** The subprotocol the plug-in offers next to the application's. */
export const PROTOCOL = 'rws.v1';

interface Out {
  s: number;
  w: WireData;
  b: number;
  r?: [() => void, (e: Error) => void] | undefined;
}
type Saved = { s: string; e: string; r: number; n: number; t: Record<string, [string, number]>; u: Array<string | [number, string]> };

const size = (w: WireData): number =>
  typeof w === 'string' ? w.length : 'size' in w && typeof w.size === 'number' ? w.size : (w as ArrayBufferLike).byteLength;

/** An envelope header in front of `w`: text stays text (base-36 digits), bytes stay bytes (varints). */
function wrap(kind: number, seq: number, w: WireData): WireData {
  if (typeof w === 'string') return String.fromCharCode(kind) + (kind === 6 ? '' : seq.toString(36) + ':') + w;
  const h = [kind];
  for (let n = seq; kind !== 6; n = Math.floor(n / 128)) {
    if (n < 128) {
      h.push(n);
      break;
    }
    h.push((n % 128) | 128);
  }
  const head = new Uint8Array(h);
  if (typeof Blob !== 'undefined' && w instanceof Blob) return new Blob([head, w]);
  const body = ArrayBuffer.isView(w) ? new Uint8Array(w.buffer, w.byteOffset, w.byteLength) : new Uint8Array(w as ArrayBufferLike);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

const b64 = (u: Uint8Array): string => btoa(String.fromCharCode(...u));

/**
 * End-to-end delivery (SPEC §12) against the server companion `resilient-ws/server`: every
 * message is numbered, kept until the server acknowledges it, re-sent after a reconnect and
 * delivered once, in order, in both directions, also across a page reload. It speaks only when
 * the server picks `rws.v1`; otherwise the wire stays plain WebSocket.
 *
 * @example
 * ```ts
 * import { ResilientWebSocket } from 'resilient-ws';
 * import { reliable } from 'resilient-ws/reliable';
 *
 * const rel = reliable({ onReset: () => resync() });
 * const ws = new ResilientWebSocket(url, [], { plugins: [rel], binaryType: 'arraybuffer' });
 * await rel.sendReliable(JSON.stringify({ text: 'hi' })); // the server has it
 * ```
 */
export function reliable(options: ReliableOptions = {}): Reliable {
  const key = options.storageKey ?? 'rws.session';
  const ackDelay = options.ackDelayMs ?? 20;
  const maxBytes = options.maxBytes ?? 32 << 20;
  let host: PluginHost;
  /** 0 unknown, 1 rws.v1 seen, 2 plain server. */
  let mode = 0;
  let live = false;
  let token: string | undefined;
  let epoch = '';
  let received = 0;
  let ackSent = 0;
  let next = 1;
  let bytes = 0;
  let out: Out[] = [];
  let topics: Record<string, [string, number]> = {};
  let taking: Out['r'];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let early: Array<() => void> = [];
  let hooked = false;

  const ack = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (live && received > ackSent) host.control('\x05' + (ackSent = received).toString(36));
  };
  const acked = (n: number): void => {
    // One splice per (coalesced) ack: shift() per message is quadratic on a long backlog.
    let k = 0;
    for (; out[k] && out[k]!.s <= n; k++) {
      bytes -= out[k]!.b;
      out[k]!.r?.[0]();
    }
    if (k) out.splice(0, k);
  };
  const save = (): void => {
    if (key === false || !token) return;
    try {
      // A Blob cannot be read synchronously: with one unacknowledged, the session is not saved.
      if (out.some((o) => typeof o.w !== 'string' && !(o.w instanceof Uint8Array))) return;
      const u = out.map((o) => (typeof o.w === 'string' ? o.w : [o.s, b64(o.w as Uint8Array)]));
      sessionStorage.setItem(key, JSON.stringify({ s: token, e: epoch, r: received, n: next, t: topics, u }));
    } catch {
      // Storage full or forbidden: the session is just not resumable after a reload.
    }
  };
  const onHide = (): void => {
    if (document.visibilityState !== 'visible') save();
  };
  const listen = (on: boolean): void => {
    if (typeof window === 'undefined' || hooked === on) return;
    hooked = on;
    const m = on ? 'addEventListener' : 'removeEventListener';
    window[m]('pagehide', save);
    document[m]('visibilitychange', onHide);
  };
  const restore = (): void => {
    try {
      const v = key === false ? null : sessionStorage.getItem(key);
      if (!v) return;
      sessionStorage.removeItem(key as string);
      const d = JSON.parse(v) as Saved;
      ({ s: token, e: epoch, r: received, n: next, t: topics } = d);
      ackSent = received;
      mode = 1;
      let s = next - d.u.length;
      for (const u of d.u) {
        const w: WireData = typeof u === 'string' ? u : Uint8Array.from(atob(u[1]), (c) => c.charCodeAt(0));
        out.push({ s: s++, w, b: size(w) });
        bytes += size(w);
      }
    } catch {
      // No storage (Node, a sandboxed frame) or a corrupt entry: start fresh.
    }
  };

  const welcome = (w: { s: string; e: string; r: number; x?: string }): void => {
    if (w.x) {
      const lost = out.length;
      const err = fail('SESSION_RESET', `the server could not resume the session (${w.x}); ${lost} unacknowledged message(s) rejected`);
      for (const o of out) o.r?.[1](err);
      out = [];
      bytes = 0;
      received = ackSent = 0;
      topics = {};
      // Everything numbered below `next` is from the old session; the server drops it.
      host.control('\x01' + JSON.stringify({ b: next }));
      host.emit('error', { error: err });
      options.onReset?.({ reason: w.x, lost });
    } else acked(w.r);
    token = w.s;
    epoch = w.e;
  };

  const varint = (u: Uint8Array, i: number): [number, number] => {
    let n = 0;
    for (let m = 1; ; m *= 128) {
      const b = u[i++] ?? 0;
      n += (b & 127) * m;
      if (b < 128) return [n, i];
    }
  };

  const plugin: Reliable = {
    init(h) {
      host = h;
      restore();
    },
    state(to) {
      if (to !== 'open') {
        live = false;
        clearTimeout(timer);
      }
      listen(to !== 'closed');
    },
    attempt(plan) {
      if (!plan.protocols.includes(PROTOCOL)) plan.protocols.push(PROTOCOL);
    },
    open(protocol) {
      live = protocol === PROTOCOL;
      if (!live) {
        if (!token) {
          mode = 2;
          for (const f of early) f();
          early = [];
        }
        return;
      }
      mode = 1;
      ackSent = received;
      host.control('\x01' + JSON.stringify(token ? { s: token, e: epoch, r: received, t: topics } : {}));
      // Pipelined: the server drops what it already has, and all of it after a reset.
      for (const o of out) host.control(o.w);
      for (const f of early) f();
      early = [];
    },
    send(w: WireData, volatile?: boolean): WireData {
      if (mode !== 1) return w;
      if (volatile) return wrap(6, 0, w);
      const o: Out = { s: next++, w: wrap(3, next - 1, w), b: 0, r: taking };
      o.b = size(o.w);
      taking = undefined;
      out.push(o);
      bytes += o.b;
      return o.w;
    },
    receive(raw: IncomingData): IncomingData | null | void {
      if (!live) return;
      const text = typeof raw === 'string';
      const u = text ? undefined : raw instanceof ArrayBuffer ? new Uint8Array(raw) : undefined;
      const k = text ? raw.charCodeAt(0) : u?.[0];
      if (k === undefined || k < 1 || k > 8) return;
      if (k === 6) return text ? raw.slice(1) : (raw as ArrayBuffer).slice(1);
      let seq: number;
      let i: number;
      let topic: string | undefined;
      let a: number | undefined;
      if (text) {
        if (k === 2 || k === 8) {
          const v = JSON.parse(raw.slice(1)) as { s: string; e: string; r: number; x?: string; t: string; o: number };
          if (k === 2) welcome(v);
          else {
            topics[v.t] = [v.e, v.o];
            if (v.x) options.onReset?.({ reason: v.x, topic: v.t, lost: 0 });
          }
          return null;
        }
        if (k === 5) {
          acked(parseInt(raw.slice(1), 36));
          return null;
        }
        i = raw.indexOf(':');
        const f = raw.slice(1, i).split(',');
        seq = parseInt(f[0]!, 36);
        if (k === 7) topic = f[1];
        else if (f[1]) a = parseInt(f[1], 36);
        i++;
      } else {
        [seq, i] = varint(u!, 1);
        if (k === 4) [a, i] = varint(u!, i);
        if (k === 7) {
          let n: number;
          [n, i] = varint(u!, i);
          topic = String.fromCharCode(...u!.subarray(i, (i += n)));
        }
      }
      const body = text ? raw.slice(i) : (raw as ArrayBuffer).slice(i);
      if (topic !== undefined) {
        const t = topics[topic];
        if (t && seq <= t[1]) return null;
        topics[topic] = [t ? t[0] : epoch, seq];
        return body;
      }
      if (a !== undefined) acked(a);
      if (seq <= received) return null;
      if (seq !== received + 1) {
        host.lost({ code: 4491, reason: 'rws: sequence gap', wasClean: false });
        return null;
      }
      received = seq;
      if (received - ackSent >= 64) ack();
      else timer ??= setTimeout(ack, ackDelay);
      return body;
    },
    sendReliable(data) {
      return new Promise<void>((resolve, reject) => {
        const go = (): void => {
          if (mode === 2) return reject(fail('PROTOCOL_MISMATCH', `the server did not pick ${PROTOCOL}: no acknowledgements`));
          if (bytes > maxBytes) return reject(fail('QUEUE_FULL', `more than ${maxBytes} unacknowledged bytes`));
          taking = [resolve, reject];
          try {
            const r = host.send(data);
            if (taking) reject(fail('CLOSED', `the message was ${r}, not numbered`));
          } catch (err) {
            reject(err as Error);
          }
          taking = undefined;
        };
        if (mode === 0) early.push(go);
        else go();
      });
    },
    get unacked() {
      return out.length;
    },
  };
  return plugin;
}
