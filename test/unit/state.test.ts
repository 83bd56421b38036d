// The state table (MOVES in src/state.ts), walked through the public API: each move is made by
// driving a FakeSocket-backed client, and checked by its `statechange` events. The README's
// state diagram must list the same moves, and the table in the source the same as here.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ResilientWebSocket, State } from '../../src/index.js';
import { advance, client, exact, FakeSocket, moves, record, settle, useFakeClock } from './client-harness.js';

useFakeClock();

const STATES: readonly State[] = ['connecting', 'open', 'reconnecting', 'closing', 'closed'];

// The whole table, written out.
const TABLE: Readonly<Record<State, readonly State[]>> = {
  connecting: ['connecting', 'open', 'reconnecting', 'closing', 'closed'],
  open: ['connecting', 'reconnecting', 'closing', 'closed'],
  reconnecting: ['connecting', 'closing'],
  closing: ['connecting', 'closed'],
  closed: ['connecting'],
};
const ALLOWED = new Set(STATES.flatMap((from) => TABLE[from].map((to) => `${from}→${to}`)));

const READY_STATE: Readonly<Record<State, number>> = { connecting: 0, open: 1, reconnecting: 0, closing: 2, closed: 3 };

/** Every `statechange` any client made in this file, to check none left the table. */
const seen: string[] = [];

/** A client brought to `state` through the public API. */
async function reach(state: State, options: Parameters<typeof client>[0] = {}): Promise<ResilientWebSocket> {
  const ws = client({ reconnect: exact, ...options });
  ws.on('statechange', ({ from, to }) => seen.push(`${from}→${to}`));
  await settle();
  if (state === 'connecting') return ws;
  FakeSocket.last.open();
  if (state === 'reconnecting') FakeSocket.last.serverClose(1006);
  if (state === 'closing' || state === 'closed') ws.close();
  if (state === 'closed') FakeSocket.last.serverClose(1005, '', true);
  expect(ws.state).toBe(state);
  return ws;
}

type Move = [from: State, to: State, how: string, act: (ws: ResilientWebSocket) => unknown, options?: Parameters<typeof client>[0]];

const WALK: Move[] = [
  ['connecting', 'connecting', 'reconnect() restarts the attempt', (ws) => ws.reconnect()],
  ['connecting', 'open', 'the handshake completes', () => FakeSocket.last.open()],
  ['connecting', 'reconnecting', 'the attempt fails', () => FakeSocket.last.serverClose(1006)],
  ['connecting', 'reconnecting', 'the attempt times out', () => advance(10_000)],
  ['connecting', 'closing', 'close()', (ws) => ws.close()],
  ['connecting', 'closed', 'a give-up (reconnect: false and a failed attempt)', () => FakeSocket.last.serverClose(1006), { reconnect: false }],
  ['connecting', 'closed', 'a give-up (a fatal close code during the handshake)', () => FakeSocket.last.serverClose(1002)],
  ['open', 'connecting', 'reconnect()', (ws) => ws.reconnect()],
  ['open', 'reconnecting', 'the connection is lost', () => FakeSocket.last.serverClose(1006)],
  ['open', 'closing', 'close()', (ws) => ws.close()],
  ['open', 'closed', 'a fatal close code', () => FakeSocket.last.serverClose(1002)],
  ['reconnecting', 'connecting', 'the retry delay passes', () => advance(exact.minDelay)],
  ['reconnecting', 'connecting', 'reconnect()', (ws) => ws.reconnect()],
  ['reconnecting', 'closing', 'close()', (ws) => ws.close()],
  ['closing', 'connecting', 'reconnect()', (ws) => ws.reconnect()],
  ['closing', 'closed', 'the native close event', () => FakeSocket.last.serverClose(1005, '', true)],
  ['closed', 'connecting', 'reconnect()', (ws) => ws.reconnect()],
];

describe('the state table, walked through the public API', () => {
  it.each(WALK)('%s → %s: %s', async (from, to, _how, act, options) => {
    const ws = await reach(from, options);
    const states = moves(ws);
    const connecting = record(ws, 'connecting');
    const sockets = FakeSocket.instances.length;
    await act(ws);
    expect(ws.state).toBe(to);
    expect(ws.readyState).toBe(READY_STATE[to]);
    if (from === to) {
      // A restart is not a state change: no statechange, but a fresh attempt is announced and made.
      expect(states).toEqual([]);
      expect(connecting).toHaveLength(1);
      await settle();
      expect(FakeSocket.instances).toHaveLength(sockets + 1);
    } else {
      expect(states).toEqual([`${from}→${to}`]);
    }
  });

  it('closing without a socket ends in closed a task later', async () => {
    const ws = await reach('reconnecting');
    ws.close();
    const states = moves(ws);
    await settle();
    expect(states).toEqual(['closing→closed']);
  });

  it('a lazy client waits in closed and its first subscriber makes the move into connecting', async () => {
    const ws = client({ lazy: true });
    await settle();
    expect(ws.state).toBe('closed');
    const states = moves(ws);
    const off = ws.subscribe(() => undefined);
    expect(states).toEqual(['closed→connecting']);
    off();
  });

  it('walks every move of the table', () => {
    const walked = new Set(WALK.map(([from, to]) => `${from}→${to}`));
    expect([...walked].sort()).toEqual([...ALLOWED].sort());
  });

  it('never made a move outside the table', () => {
    expect(seen.length).toBeGreaterThan(WALK.length);
    expect(seen.filter((m) => !ALLOWED.has(m))).toEqual([]);
  });

  it('every state shows the readyState the native socket would', async () => {
    for (const state of STATES) expect((await reach(state)).readyState).toBe(READY_STATE[state]);
  });
});

describe('the table is written down the same everywhere', () => {
  it('src/state.ts has the same table as this test', () => {
    // Read as text: MOVES is internal, and this checks what the source says, not a re-export.
    const source = readFileSync(new URL('../../src/state.ts', import.meta.url), 'utf8');
    const body = /export const MOVES[^=]*=\s*\{([\s\S]*?)\};/.exec(source)?.[1] ?? '';
    const table: Record<string, string[]> = {};
    for (const [, from, list] of body.matchAll(/(\w+):\s*\[([^\]]*)\]/g)) {
      table[from!] = [...list!.matchAll(/'(\w+)'/g)].map((m) => m[1]!);
    }
    expect(table).toEqual(TABLE);
  });

  it("the README's state diagram lists exactly the moves of the table", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## States'), readme.indexOf('## Options'));
    const diagram = /```mermaid\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const edges = [...diagram.matchAll(/^\s*(\w+) --> (\w+)/gm)].map((m) => `${m[1]}→${m[2]}`);
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.length).toBe(new Set(edges).size);
    expect([...edges].sort()).toEqual([...ALLOWED].sort());
  });

  it("the README's state table gives each state the readyState it shows", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## States'), readme.indexOf('## Options'));
    const rows = [...section.matchAll(/^\| `(\w+)` \| (\d) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(READY_STATE);
  });
});
