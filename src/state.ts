/**
 * The connection's phase.
 *
 * - `connecting`: an attempt is running (the first one, or a retry whose delay has passed).
 * - `open`: the native socket is open.
 * - `reconnecting`: waiting for the next attempt (a backoff delay, or the network to return).
 * - `closing`: `close()` was called and the closing handshake runs.
 * - `closed`: nothing happens by itself until `reconnect()`.
 */
export type State = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

// Every allowed move. `reconnect()` may start an attempt from any state but `connecting`,
// where it restarts the attempt without a state change.
const MOVES: Readonly<Record<State, readonly State[]>> = {
  connecting: ['open', 'reconnecting', 'closed'],
  open: ['reconnecting', 'connecting', 'closing', 'closed'],
  reconnecting: ['connecting', 'closed'],
  closing: ['closed', 'connecting'],
  closed: ['connecting'],
};

/** True when the table allows `from → to`. @internal */
export const canMove = (from: State, to: State): boolean => MOVES[from].includes(to);

/** The native `readyState` a state shows: waiting to reconnect looks like `CONNECTING`. @internal */
export const readyStateOf = (state: State): 0 | 1 | 2 | 3 =>
  state === 'open' ? 1 : state === 'closing' ? 2 : state === 'closed' ? 3 : 0;
