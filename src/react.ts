// resilient-ws/react: hooks over the client's store (SPEC §11). Thin by design: the client owns
// the connection, its retries and its queue; a hook only reads the store and holds a
// subscription while its component is mounted, which is what keeps a `lazy` client connected.
import { useCallback, useEffect, useInsertionEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { IDLE, fold, hold, type EventSocket, type SocketEvents, type SocketStore } from './binding.js';

export type { EventSocket, SocketEvents, SocketStore } from './binding.js';

/**
 * The client's snapshot, or the slice of it that `selector` picks. The component re-renders only
 * when the selection changes (`isEqual`, default `Object.is`), so a component that shows the
 * state does not re-render when `queuedBytes` moves.
 *
 * On the server, and in the first render of a hydration, it returns the idle snapshot (state
 * `'closed'`) without subscribing, so a server render never opens a socket and the hydrated
 * HTML matches. In the browser it subscribes after mounting and holds the subscription until
 * unmount (StrictMode's double mount and remount within a lazy client's linger reuse the same
 * connection).
 *
 * @param ws - a client created outside the component (module scope or a context).
 * @param selector - picks what the component shows; may be an inline function.
 * @param isEqual - when the selection counts as unchanged (e.g. a shallow compare for objects).
 *
 * @example
 * ```tsx
 * const ws = new ResilientWebSocket('wss://example.com/chat', [], { lazy: true });
 *
 * function Status() {
 *   const state = useSocket(ws, (s) => s.state);
 *   return <span className={state}>{state}</span>;
 * }
 * ```
 */
export function useSocket<TSnapshot, TSelected = TSnapshot>(
  ws: SocketStore<TSnapshot>,
  selector?: (snapshot: TSnapshot) => TSelected,
  isEqual: (a: TSelected, b: TSelected) => boolean = Object.is,
): TSelected {
  // The selection of the last commit, kept across renders so an inline selector that returns an
  // equal (but new) object does not re-render.
  const committed = useRef<{ v: TSelected }>(undefined);
  const subscribe = useCallback((notify: () => void) => ws.subscribe(notify), [ws]);
  const [get, getServer] = useMemo(() => {
    let seen: { s: TSnapshot; v: TSelected } | undefined;
    const pick = (s: TSnapshot): TSelected => {
      if (seen?.s === s) return seen.v;
      const next = selector ? selector(s) : (s as unknown as TSelected);
      const prev = committed.current;
      seen = { s, v: prev && isEqual(prev.v, next) ? prev.v : next };
      return seen.v;
    };
    return [() => pick(ws.getSnapshot()), () => pick(IDLE as TSnapshot)];
  }, [ws, selector, isEqual]);
  const value = useSyncExternalStore(subscribe, get, getServer);
  useEffect(() => {
    committed.current = { v: value };
  });
  return value;
}

/**
 * Calls `handler` for every `type` event of the client, always the handler of the latest
 * render, and never re-renders by itself. Holds a subscription while mounted.
 *
 * @example
 * ```tsx
 * function Toasts() {
 *   useSocketEvent(ws, 'giveup', ({ error }) => toast(`Connection lost: ${error.code}`));
 *   return null;
 * }
 * ```
 */
export function useSocketEvent<TSend, TReceive, K extends keyof SocketEvents<TSend, TReceive>>(
  ws: EventSocket<TSend, TReceive>,
  type: K,
  handler: (payload: SocketEvents<TSend, TReceive>[K]) => void,
): void {
  const latest = useRef(handler);
  // Before any effect of the same commit can see an event.
  useInsertionEffect(() => {
    latest.current = handler;
  });
  useEffect(() => hold(ws, type as string, (payload: SocketEvents<TSend, TReceive>[K]) => latest.current(payload)), [ws, type]);
}

/**
 * State folded from every message: `reducer(state, message)` runs once per message, as it
 * arrives, so a burst of 1000 messages in one frame yields all 1000 folds; the component
 * re-renders at most once per frame with the result. `reducer` must return a new object when
 * it changes the state (as for `useReducer`). The server render returns `initial`.
 *
 * @example
 * ```tsx
 * const ws = new ResilientWebSocket<Outgoing, Incoming>(url, [], { codec: jsonCodec, lazy: true });
 *
 * function Chat() {
 *   const lines = useSocketReducer(ws, (all, msg) => (msg.type === 'chat' ? [...all, msg] : all), [] as Incoming[]);
 *   return <ul>{lines.map((m) => <li key={m.id}>{m.text}</li>)}</ul>;
 * }
 * ```
 */
export function useSocketReducer<TReceive, TState>(
  ws: EventSocket<unknown, TReceive>,
  reducer: (state: TState, message: TReceive) => TState,
  initial: TState,
): TState {
  // Folded outside React's state, so no update is batched away: React reads the box.
  const [box] = useState(() => ({ s: initial, i: initial, r: reducer }));
  useInsertionEffect(() => {
    box.r = reducer;
  });
  const subscribe = useCallback(
    (notify: () => void) =>
      fold(
        ws,
        (m) => {
          box.s = box.r(box.s, m);
        },
        notify,
      ),
    [ws, box],
  );
  return useSyncExternalStore(
    subscribe,
    () => box.s,
    () => box.i,
  );
}
