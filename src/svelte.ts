// resilient-ws/svelte: the client already is a Svelte store (`$ws`, SPEC §2). This entry adds
// what a store alone cannot give: a reducer over messages, and a snapshot store that is safe in
// a server render (Svelte's server renderer subscribes to every `$store`, and a subscription
// is what makes a `lazy` client connect).
import { IDLE, SERVER, fold, type EventSocket, type SocketStore } from './binding.js';

export type { EventSocket, SocketStore } from './binding.js';

/** The Svelte store contract (what `$store` reads), as `svelte/store`'s `Readable`. */
export interface Readable<T> {
  subscribe(run: (value: T) => void): () => void;
}

const noop = (): void => undefined;

/**
 * The client's snapshot as a store that a server render can read: on the server it holds the
 * idle snapshot (state `'closed'`) and never subscribes to the client; in the browser it is the
 * client itself. Use it instead of `$ws` in components that SvelteKit renders on the server.
 *
 * @example
 * ```svelte
 * <script>
 *   import { socketState } from 'resilient-ws/svelte';
 *   import { ws } from './socket.js';
 *   const status = socketState(ws);
 * </script>
 * <span class={$status.state}>{$status.state}</span>
 * ```
 */
export function socketState<TSnapshot>(ws: SocketStore<TSnapshot>): Readable<TSnapshot> {
  if (!SERVER) return ws;
  return {
    subscribe(run) {
      run(IDLE as TSnapshot);
      return noop;
    },
  };
}

/**
 * A store of state folded from every message: `reducer(state, message)` runs once per message
 * as it arrives (a burst is folded completely); subscribers hear of it at most once per frame.
 * The store listens while it has subscribers, and so holds the client's connection then; the
 * folded state survives a gap without subscribers. On the server it holds `initial` and never
 * subscribes.
 *
 * @example
 * ```svelte
 * <script>
 *   import { socketReducer } from 'resilient-ws/svelte';
 *   import { ws } from './socket.js';
 *   const lines = socketReducer(ws, (all, msg) => [...all, msg], []);
 * </script>
 * {#each $lines as line}<p>{line.text}</p>{/each}
 * ```
 */
export function socketReducer<TReceive, TState>(
  ws: EventSocket<unknown, TReceive>,
  reducer: (state: TState, message: TReceive) => TState,
  initial: TState,
): Readable<TState> {
  let state = initial;
  const runs = new Set<(value: TState) => void>();
  let stop: (() => void) | undefined;
  return {
    subscribe(run) {
      run(state);
      if (SERVER) return noop;
      const entry = (value: TState): void => run(value);
      runs.add(entry);
      stop ??= fold(
        ws,
        (m) => {
          state = reducer(state, m);
        },
        () => {
          for (const f of [...runs]) f(state);
        },
      );
      return () => {
        runs.delete(entry);
        if (runs.size === 0) {
          stop?.();
          stop = undefined;
        }
      };
    },
  };
}
