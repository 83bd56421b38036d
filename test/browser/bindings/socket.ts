// The one client every fixture component uses, created outside the components (module scope),
// as the README tells apps to do. The page (or the SSR test) sets it before rendering.
import type { ResilientWebSocket } from '../../../src/index.js';

/** What the test server pushes: a sequence number per message. */
export interface Msg {
  seq: number;
}

export type Client = ResilientWebSocket<string, Msg>;

let current: Client | undefined;

export function setSocket(ws: Client): void {
  current = ws;
}

export function socket(): Client {
  if (!current) throw new Error('setSocket() first');
  return current;
}

/** Render and update counts, read by the tests (per component id). */
export const stats: Record<string, { renders: number; commits: number }> = {};

export function count(id: string, what: 'renders' | 'commits'): void {
  (stats[id] ??= { renders: 0, commits: 0 })[what] += 1;
}

/** The reducer every fixture uses: keep every sequence number, in arrival order. */
export const collect = (all: readonly number[], m: Msg): readonly number[] => [...all, m.seq];

/** True when `seqs` is 0, 1, 2, … with nothing missing or reordered. */
export const inOrder = (seqs: readonly number[]): boolean => seqs.every((v, i) => v === i);
