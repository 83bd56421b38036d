// resilient-ws/vue: composables over the client's store (SPEC §11). Each one holds a store
// subscription while its component is mounted (or its effect scope lives), which is what keeps
// a `lazy` client connected, and releases it in onScopeDispose.
import { getCurrentInstance, getCurrentScope, onMounted, onScopeDispose, shallowRef, type ShallowRef } from 'vue';
import { IDLE, SERVER, fold, type EventSocket, type SocketStore } from './binding.js';

export type { EventSocket, SocketStore } from './binding.js';

/** What {@link useSocket} returns: one read-only `shallowRef` per snapshot field, and the snapshot. */
export type SocketRefs<TSnapshot> = { readonly [K in keyof TSnapshot]: Readonly<ShallowRef<TSnapshot[K]>> } & {
  readonly snapshot: Readonly<ShallowRef<TSnapshot>>;
};

// Runs `start` while mounted (in a component) or now (in a bare effect scope), never on the
// server, and stops it when the scope is disposed. Subscribing after mount, not in setup, keeps
// the hydrating render equal to the server's.
function live(start: () => () => void): void {
  if (SERVER) return;
  let stop: (() => void) | undefined;
  if (getCurrentInstance()) onMounted(() => (stop = start()));
  else stop = start();
  if (getCurrentScope()) onScopeDispose(() => stop?.());
}

// A hydrating component's vnode already points at the server's DOM while its setup runs.
const hydrating = (): boolean => SERVER || Boolean(getCurrentInstance()?.vnode.el);

/**
 * The client's state as `shallowRef`s: `state`, `attempt`, `queuedBytes`, … (one per snapshot
 * field, so a template that reads `state` does not re-render when `queuedBytes` moves) and
 * `snapshot`, the whole frozen object. A server render and a hydration start from the idle
 * snapshot (state `'closed'`) and open no socket; the subscription starts on mount.
 *
 * @example
 * ```vue
 * <script setup lang="ts">
 * import { useSocket } from 'resilient-ws/vue';
 * import { ws } from './socket';
 * const { state, queuedMessages } = useSocket(ws);
 * </script>
 * <template><span :class="state">{{ state }} ({{ queuedMessages }} queued)</span></template>
 * ```
 */
export function useSocket<TSnapshot extends object>(ws: SocketStore<TSnapshot>): SocketRefs<TSnapshot> {
  const first = hydrating() ? (IDLE as TSnapshot) : ws.getSnapshot();
  const refs: Record<string, ShallowRef<unknown>> = { snapshot: shallowRef(first) };
  for (const key of Object.keys(first)) refs[key] = shallowRef((first as Record<string, unknown>)[key]);
  live(() =>
    ws.subscribe((s) => {
      refs.snapshot!.value = s;
      // A shallowRef triggers only when its value changed, so each field updates on its own.
      for (const [key, value] of Object.entries(s)) {
        const ref = refs[key];
        if (ref) ref.value = value;
      }
    }),
  );
  return refs as SocketRefs<TSnapshot>;
}

/**
 * State folded from every message, as a read-only `shallowRef`: `reducer(state, message)` runs
 * once per message as it arrives (a burst is folded completely) and the ref is updated at most
 * once per frame. `reducer` must return a new object when it changes the state. The server
 * render shows `initial`.
 *
 * @example
 * ```ts
 * const lines = useSocketReducer(ws, (all, msg) => [...all, msg].slice(-100), [] as Incoming[]);
 * ```
 */
export function useSocketReducer<TReceive, TState>(
  ws: EventSocket<unknown, TReceive>,
  reducer: (state: TState, message: TReceive) => TState,
  initial: TState,
): Readonly<ShallowRef<TState>> {
  const out = shallowRef(initial);
  let state = initial;
  live(() =>
    fold(
      ws,
      (m) => {
        state = reducer(state, m);
      },
      () => {
        out.value = state;
      },
    ),
  );
  return out;
}
