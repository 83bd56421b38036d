// What the React, Vue and Svelte bindings share: the structural view of a client they need,
// the idle snapshot that server renders show, and the message fold that publishes at most once
// per frame. Each binding bundles its own copy (it is a few hundred bytes), so importing one
// binding never pulls in another, nor the client itself.
import type { ClientEvents } from './events.js';

/**
 * The store contract of a client (SPEC §2): `subscribe` calls `run` at once and after every
 * change; `getSnapshot` returns a frozen object that is replaced only when something changed.
 */
export interface SocketStore<TSnapshot> {
  subscribe(run: (snapshot: TSnapshot) => void): () => void;
  getSnapshot(): TSnapshot;
}

/**
 * The part of a `ResilientWebSocket<TSend, TReceive>` that event and message bindings use.
 * Structural on purpose: it accepts a client from any entry (`resilient-ws`, `resilient-ws/core`)
 * or a test double. `send` and `onmessage` are read for their types only: they carry the
 * client's generics, which a generic `on()` method does not let TypeScript infer.
 */
export interface EventSocket<TSend, TReceive> {
  subscribe(run: () => void): () => void;
  on(type: string, handler: (payload: unknown) => void): () => void;
  send(data: TSend): unknown;
  onmessage: ((ev: MessageEvent<TReceive>) => unknown) | null;
}

/** The typed events of a client, by name (`ClientEvents` of the core). */
export type SocketEvents<TSend, TReceive> = ClientEvents<TSend, TReceive>;

/** True where there is no page: a server render must never subscribe (a lazy client would connect). */
export const SERVER = typeof window === 'undefined';

/**
 * What a server render (and the hydrating first render) shows: an idle client, so the HTML does
 * not depend on a socket and the browser's first render matches it.
 */
export const IDLE = Object.freeze({
  state: 'closed',
  attempt: 0,
  nextRetryAt: null,
  lastClose: null,
  lastError: null,
  queuedMessages: 0,
  queuedBytes: 0,
  online: true,
  protocol: '',
});

const noop = (): void => undefined;

/**
 * Listens to `type` and holds a store subscription for as long as the listener lives: the
 * subscription is what keeps a `lazy` client connected (the core counts `subscribe` callers).
 */
export function hold(ws: Pick<EventSocket<unknown, unknown>, 'on' | 'subscribe'>, type: string, handler: (payload: never) => void): () => void {
  const off = ws.on(type, handler as (payload: unknown) => void);
  const release = ws.subscribe(noop);
  return () => {
    off();
    release();
  };
}

// One publish per animation frame, whatever the message rate: each WebSocket message is its own
// task, and a framework that renders after every task would render once per message. The timer
// is the fallback where frames do not run (a hidden page, Node), so state still moves there.
function later(fn: () => void): () => void {
  const raf = typeof requestAnimationFrame === 'function';
  const timer = setTimeout(fn, raf ? 100 : 0);
  const frame = raf ? requestAnimationFrame(fn) : 0;
  return () => {
    clearTimeout(timer);
    if (raf) cancelAnimationFrame(frame);
  };
}

/**
 * Folds every message at once with `step` (none is ever skipped or merged) and calls `publish`
 * at most once per frame after messages arrived. Returns the release function.
 */
export function fold<TReceive>(ws: EventSocket<unknown, TReceive>, step: (message: TReceive) => void, publish: () => void): () => void {
  let cancel: (() => void) | undefined;
  const flush = (): void => {
    cancel?.();
    cancel = undefined;
    publish();
  };
  const off = hold(ws, 'message', ({ data }: { data: TReceive }) => {
    step(data);
    cancel ??= later(flush);
  });
  return () => {
    off();
    cancel?.();
  };
}
