// Shared set-up for the client-*.test.ts files: FakeSocket-backed clients on a fake clock.
import { afterEach, beforeEach, vi } from 'vitest';
import { ResilientWebSocket, type ClientEvents, type Options, type ProtocolsProvider, type UrlProvider } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

export const WS_URL = 'ws://example.test/socket';

const live: ResilientWebSocket[] = [];

/** Fake timers and a fresh FakeSocket registry per test; every client is closed afterwards. */
export function useFakeClock(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeSocket.reset();
  });
  afterEach(() => {
    for (const ws of live.splice(0)) ws.close();
    vi.useRealTimers();
  });
}

/** A client on FakeSocket; its first attempt starts once microtasks run (see `settle`). */
export function client(options: Options = {}, url: UrlProvider = WS_URL, protocols?: ProtocolsProvider): ResilientWebSocket {
  const ws = new ResilientWebSocket(url, protocols, { WebSocket: FakeWebSocket, ...options });
  live.push(ws);
  return ws;
}

/** Runs pending microtasks and (awaited) providers without moving the clock. */
export const settle = (): Promise<unknown> => vi.advanceTimersByTimeAsync(0);

/** Moves the fake clock, running promise callbacks between timers. */
export const advance = (ms: number): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

/** A client whose first socket is open. */
export async function openClient(options: Options = {}, protocol = ''): Promise<{ ws: ResilientWebSocket; socket: FakeSocket }> {
  const ws = client(options);
  await settle();
  const socket = FakeSocket.last;
  socket.open(protocol);
  return { ws, socket };
}

/** Collects the payloads of one typed event. */
export function record<K extends keyof ClientEvents>(ws: ResilientWebSocket, type: K): Array<ClientEvents[K]> {
  const seen: Array<ClientEvents[K]> = [];
  ws.on(type, (payload) => seen.push(payload));
  return seen;
}

/** Collects `statechange` as `from→to` strings. */
export function moves(ws: ResilientWebSocket): string[] {
  const seen: string[] = [];
  ws.on('statechange', ({ from, to }) => seen.push(`${from}→${to}`));
  return seen;
}

/** Reconnect options without randomness, so delays are exact: 1000, 2000, 4000… */
export const exact = { minDelay: 1000, maxDelay: 30_000, factor: 2, jitter: 'none' } as const;

export { FakeSocket };
