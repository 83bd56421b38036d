/**
 * The connection's phase.
 *
 * - `connecting`: an attempt runs (the providers are asked, or the native handshake runs).
 * - `open`: the native socket is open.
 * - `reconnecting`: waiting for the next attempt (a backoff delay, or the network to return).
 * - `closing`: `close()` was called; the native close handshake (or the end of an attempt) runs.
 * - `closed`: nothing happens by itself until `reconnect()` (or, with `lazy`, a subscriber).
 */
export type State = 'connecting' | 'open' | 'reconnecting' | 'closing' | 'closed';

/**
 * Every allowed move, and what holds in each state. The client enters states only through one
 * function that checks this table; `test/unit/state.test.ts` walks it, and the README's state
 * table is checked against it. `reconnect()` may start an attempt from every state (also
 * `connecting`, which restarts the attempt).
 *
 * | state | timer | native socket | page listeners (page plug-in) |
 * | --- | --- | --- | --- |
 * | connecting | connect timeout | handshaking, once the providers answered | attached |
 * | open | stable-after; drain poll while the queue waits | open | attached |
 * | reconnecting | retry delay (none while a plug-in holds) | none | attached |
 * | closing | close timeout, or the end of an attempt | closing, if one existed | attached |
 * | closed | none | none | none |
 *
 * @internal
 */
export const MOVES: Readonly<Record<State, readonly State[]>> = {
  connecting: ['connecting', 'open', 'reconnecting', 'closing', 'closed'],
  open: ['connecting', 'reconnecting', 'closing', 'closed'],
  // Not `closed`: a give-up decides on a lost connection (open or connecting), and close() goes through closing.
  reconnecting: ['connecting', 'closing'],
  closing: ['connecting', 'closed'],
  closed: ['connecting'],
};

/** The native `readyState` a state shows: waiting to reconnect looks like `CONNECTING`. @internal */
export const readyStateOf = (state: State): 0 | 1 | 2 | 3 =>
  state === 'open' ? 1 : state === 'closing' ? 2 : state === 'closed' ? 3 : 0;
