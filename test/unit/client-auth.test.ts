// Token authentication in the client (SPEC.md §5), driven through FakeSocket: where each `via`
// puts the token, the refresh on refusal, the give-up bound, provider failures, the insecure
// transport warning, the carrier mismatch, the `ready` gate, and that the token never leaks.
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  base64url,
  isResilientWebSocketError,
  ResilientWebSocket,
  type AuthOptions,
  type ClientEvents,
  type ClientEventType,
  type Options,
  type ProtocolsProvider,
  type TokenRequest,
} from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';

const SECURE = 'wss://api.example.com/live?room=7';
const TOKEN = 'tok-SECRET-4711';

// Every typed event, checked against ClientEvents at compile time so a new event is not missed.
const EVENT_TYPES = Object.keys({
  statechange: 1,
  connecting: 1,
  open: 1,
  ready: 1,
  message: 1,
  close: 1,
  reconnecting: 1,
  giveup: 1,
  error: 1,
  drop: 1,
  drain: 1,
  reset: 1,
  warning: 1,
} satisfies Record<ClientEventType, 1>) as ClientEventType[];

interface Logged {
  type: ClientEventType;
  payload: unknown;
}

type Client = ResilientWebSocket<string, string>;

const clients: Client[] = [];

interface Setup {
  url?: string;
  protocols?: ProtocolsProvider;
  auth?: Partial<AuthOptions>;
  options?: Omit<Options<string, string>, 'auth'>;
  /** Subscribe to nothing (to see the console fallback of `warning`). */
  silent?: boolean;
}

/** A client on FakeSocket with deterministic backoff (1 s, 2 s, 4 s…) and every event logged. */
function make({ url = SECURE, protocols, auth, options, silent = false }: Setup = {}): { ws: Client; log: Logged[] } {
  const ws: Client = new ResilientWebSocket<string, string>(url, protocols, {
    WebSocket: FakeWebSocket,
    reconnect: { minDelay: 1000, maxDelay: 30_000, jitter: 'none' },
    ...options,
    auth: { token: TOKEN, ...auth },
  });
  clients.push(ws);
  const log: Logged[] = [];
  if (!silent) for (const type of EVENT_TYPES) ws.on(type, (payload) => log.push({ type, payload }));
  return { ws, log };
}

const payloads = <K extends ClientEventType>(log: Logged[], type: K): Array<ClientEvents<string, string>[K]> =>
  log.filter((e) => e.type === type).map((e) => e.payload as ClientEvents<string, string>[K]);

const errorCodes = (log: Logged[]): string[] => payloads(log, 'error').map((p) => p.error.code);

/** Runs the start microtask, awaited providers and 0 ms timers. */
const settle = async (): Promise<void> => {
  await vi.advanceTimersByTimeAsync(0);
};

/** A token provider that hands out tok-1, tok-2… and records what it was asked. */
function rotating(prefix = 'tok-'): { provider: (r: TokenRequest) => string; requests: TokenRequest[] } {
  const requests: TokenRequest[] = [];
  return {
    requests,
    provider: (r) => {
      requests.push(r);
      return `${prefix}${requests.length}`;
    },
  };
}

const tokenOf = (s: FakeSocket, param = 'token'): string | null => new URL(s.url).searchParams.get(param);

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.reset();
});

afterEach(() => {
  for (const ws of clients.splice(0)) {
    if (ws.state !== 'closed' && ws.state !== 'closing') ws.close();
  }
  vi.useRealTimers();
});

describe('where the token travels', () => {
  it("via 'query' (default) adds ?token= to the socket URL and keeps the rest of the query", async () => {
    const { ws } = make();
    await settle();
    const u = new URL(FakeSocket.last.url);
    expect(u.searchParams.get('token')).toBe(TOKEN);
    expect(u.searchParams.get('room')).toBe('7');
    expect(ws.url).toBe(SECURE);
  });

  it("via 'query' uses auth.param", async () => {
    const { ws } = make({ auth: { via: 'query', param: 'access_token' } });
    await settle();
    expect(tokenOf(FakeSocket.last, 'access_token')).toBe(TOKEN);
    expect(tokenOf(FakeSocket.last)).toBeNull();
    expect(ws.url).not.toContain(TOKEN);
  });

  it("via 'protocol' offers the carrier last, after the application protocols, and not in the URL", async () => {
    const { ws } = make({ protocols: ['v2.chat', 'v1.chat'], auth: { via: 'protocol' } });
    await settle();
    const s = FakeSocket.last;
    expect(s.protocols).toEqual(['v2.chat', 'v1.chat', `bearer.${TOKEN}`]);
    expect(s.url).toBe(SECURE);
    s.open('v1.chat');
    expect(ws.protocol).toBe('v1.chat');
  });

  it("via 'protocol' uses auth.protocolPrefix and works with no application protocol", async () => {
    make({ auth: { via: 'protocol', protocolPrefix: 'auth-token~' } });
    await settle();
    expect(FakeSocket.last.protocols).toEqual([`auth-token~${TOKEN}`]);
  });

  it("via 'message' sends {type:'auth', token} first, before messages queued while connecting", async () => {
    const { ws } = make({ auth: { via: 'message' } });
    expect(ws.send('a')).toBe('queued');
    expect(ws.send('b')).toBe('queued');
    await settle();
    const s = FakeSocket.last;
    expect(s.url).toBe(SECURE);
    expect(s.protocols).toEqual([]);
    s.open();
    expect(s.sent).toEqual([JSON.stringify({ type: 'auth', token: TOKEN }), 'a', 'b']);
  });

  it("via 'message' uses auth.message(token) as it is", async () => {
    make({ auth: { via: 'message', message: (t) => `AUTH ${t}` } });
    await settle();
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual([`AUTH ${TOKEN}`]);
  });

  it("via 'message' authenticates again first on every new connection", async () => {
    const { provider } = rotating();
    const { ws } = make({ auth: { via: 'message', token: provider, message: (t) => `AUTH ${t}` } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    ws.send('while-down');
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.last.open();
    expect(FakeSocket.instances.map((s) => s.sent)).toEqual([['AUTH tok-1'], ['AUTH tok-2', 'while-down']]);
  });

  it('the auth message is never re-sent from the queue after the connection dies with it unsent', async () => {
    const { ws } = make({ auth: { via: 'message', message: (t) => `AUTH ${t}` } });
    await settle();
    const first = FakeSocket.last;
    first.open();
    ws.send('x');
    // The browser still held every byte (auth message and 'x') when the link died.
    first.bufferedAmount = 100;
    first.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual([`AUTH ${TOKEN}`, 'x']);
  });
});

describe('the token provider', () => {
  it("is asked with {attempt: 0, reason: 'initial'} before the first attempt", async () => {
    const { provider, requests } = rotating();
    make({ auth: { token: provider } });
    expect(requests).toEqual([]);
    await settle();
    expect(requests).toEqual([{ attempt: 0, reason: 'initial' }]);
    expect(tokenOf(FakeSocket.last)).toBe('tok-1');
  });

  it("is asked again with reason 'reconnect' and the retry number after a dropped connection", async () => {
    const { provider, requests } = rotating();
    make({ auth: { token: provider } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests).toEqual([
      { attempt: 0, reason: 'initial' },
      { attempt: 1, reason: 'reconnect' },
    ]);
    expect(tokenOf(FakeSocket.last)).toBe('tok-2');
  });

  it("says 'reconnect' (not 'initial') for a retry after a first attempt that never opened", async () => {
    const { provider, requests } = rotating();
    make({ auth: { token: provider } });
    await settle();
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(requests.map((r) => r.reason)).toEqual(['initial', 'reconnect']);
  });

  it('may be async: the socket is created once the token resolved', async () => {
    let resolveToken: (t: string) => void = () => undefined;
    make({ auth: { token: () => new Promise<string>((r) => (resolveToken = r)) } });
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
    resolveToken('late-token');
    await settle();
    expect(tokenOf(FakeSocket.last)).toBe('late-token');
  });
});

describe('a refused token', () => {
  it.each([1008, 4001, 4003, 4401, 4403])(
    "close %i asks the provider for a fresh token (reason 'rejected') and retries at once, outside the backoff",
    async (code) => {
      const { provider, requests } = rotating();
      const { ws, log } = make({ auth: { token: provider } });
      await settle();
      FakeSocket.last.open();
      FakeSocket.last.serverClose(code, 'token expired');
      expect(ws.state).toBe('reconnecting');
      await settle();
      expect(requests.at(-1)).toEqual({ attempt: 0, reason: 'rejected' });
      expect(FakeSocket.instances).toHaveLength(2);
      expect(tokenOf(FakeSocket.last)).toBe('tok-2');
      expect(payloads(log, 'reconnecting')).toEqual([{ attempt: 0, delay: 0, closeEvent: { code, reason: 'token expired', wasClean: true } }]);
      expect(payloads(log, 'close')).toEqual([{ code, reason: 'token expired', wasClean: true, willReconnect: true }]);
    },
  );

  it("queues what is sent between the server's close frame and the close event, and sends it after the refresh", async () => {
    const { ws } = make();
    await settle();
    const first = FakeSocket.last;
    first.open();
    // The server's 4001 close frame arrived: the native socket is CLOSING, its close event pending.
    first.readyState = 2;
    expect(ws.send('in the gap')).toBe('queued');
    expect(first.sent).toEqual([]);
    first.serverClose(4001, 'token expired');
    await settle();
    FakeSocket.last.open();
    expect(FakeSocket.last.sent).toEqual(['in the gap']);
  });

  it('a refusal does not grow the backoff of later network failures', async () => {
    const { log } = make();
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    await settle();
    FakeSocket.last.serverClose(1006);
    expect(payloads(log, 'reconnecting').map((p) => p.delay)).toEqual([0, 1000]);
  });

  it('auth.failCodes replaces the default list', async () => {
    const { log } = make({ auth: { failCodes: [4999] } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4999);
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    expect(payloads(log, 'reconnecting').map((p) => p.delay)).toEqual([0, 1000]);
  });

  it.each([1, 2, 3, 5])(
    'maxFailures %i: gives up with AUTH_FAILED after that many refusals in a row, creating no more sockets',
    async (maxFailures) => {
      const { ws, log } = make({ auth: { maxFailures } });
      await settle();
      // A server that refuses every token, forever: the client must stop by itself.
      for (let i = 0; i < 20 && ws.state !== 'closed'; i++) {
        FakeSocket.last.open();
        FakeSocket.last.serverClose(4401, 'bad token');
        await settle();
      }
      await vi.advanceTimersByTimeAsync(120_000);
      expect(ws.state).toBe('closed');
      expect(FakeSocket.instances.length).toBe(maxFailures);
      expect(FakeSocket.instances.length).toBeLessThanOrEqual(maxFailures + 1);
      expect(payloads(log, 'connecting')).toHaveLength(maxFailures);
      const giveups = payloads(log, 'giveup');
      expect(giveups).toHaveLength(1);
      expect(giveups[0]!.reason).toBe('auth');
      expect(giveups[0]!.error.code).toBe('AUTH_FAILED');
      expect(errorCodes(log)).toEqual(['AUTH_FAILED']);
      expect(payloads(log, 'close').at(-1)).toMatchObject({ code: 4401, willReconnect: false });
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it("send() after the auth give-up drops the message with 'closed' and never throws", async () => {
    const { ws, log } = make({ auth: { maxFailures: 1 } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    expect(ws.state).toBe('closed');
    expect(ws.send('x')).toBe('dropped');
    expect(payloads(log, 'drop')).toEqual([{ data: 'x', reason: 'closed' }]);
    expect(FakeSocket.last.sent).not.toContain('x');
  });

  it('counts only consecutive refusals: a connection that passes the ready gate resets the count', async () => {
    const { ws } = make({ auth: { maxFailures: 2 }, options: { ready: (d) => d === 'welcome' } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.receive('welcome');
    FakeSocket.last.serverClose(4001);
    await settle();
    expect(ws.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(3);
  });

  it('counts only consecutive refusals: a connection that stayed up for stableAfter resets the count', async () => {
    const { ws } = make({ auth: { maxFailures: 2 }, options: { reconnect: { stableAfter: 5000, jitter: 'none' } } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    await settle();
    FakeSocket.last.open();
    await vi.advanceTimersByTimeAsync(5000);
    FakeSocket.last.serverClose(4001);
    await settle();
    expect(ws.state).toBe('connecting');
  });

  it('reconnect() after an auth give-up starts again with a fresh token and a fresh count', async () => {
    const { provider, requests } = rotating();
    const { ws } = make({ auth: { token: provider, maxFailures: 1 } });
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(4001);
    expect(ws.state).toBe('closed');
    ws.reconnect();
    await settle();
    expect(requests).toHaveLength(2);
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
    expect(tokenOf(FakeSocket.last)).toBe('tok-2');
  });
});

describe('a failing token provider', () => {
  const failures: Array<[string, () => unknown]> = [
    ['throws', () => {
      throw new Error('session store down');
    }],
    ['rejects', () => Promise.reject(new Error('session store down'))],
    ['returns a number', () => 42],
    ['returns undefined', () => undefined],
    ['returns an empty string', () => ''],
  ];

  it.each(failures)('that %s: CONNECT_FAILED error, no socket, retried with backoff', async (_, failure) => {
    let calls = 0;
    const token = (): string => (++calls === 1 ? (failure() as string) : 'good-token');
    const { ws, log } = make({ auth: { token } });
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
    expect(errorCodes(log)).toEqual(['CONNECT_FAILED']);
    expect(ws.state).toBe('reconnecting');
    expect(payloads(log, 'reconnecting').map((p) => p.delay)).toEqual([1000]);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    expect(tokenOf(FakeSocket.last)).toBe('good-token');
  });

  it('that keeps failing is retried with growing delays and never gives up by itself', async () => {
    const { ws, log } = make({
      auth: {
        token: () => {
          throw new Error('down');
        },
      },
    });
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000);
    expect(payloads(log, 'reconnecting').map((p) => p.delay)).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(errorCodes(log).every((c) => c === 'CONNECT_FAILED')).toBe(true);
    expect(ws.state).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('causes no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      make({ auth: { token: () => Promise.reject(new Error('nope')) } });
      await vi.advanceTimersByTimeAsync(3000);
      // Unhandled rejections are reported after a macrotask turn of the real event loop.
      vi.useRealTimers();
      await new Promise((r) => setTimeout(r, 0));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('a token over ws:// to another machine', () => {
  const INSECURE = 'ws://api.example.com/live';

  it('emits a warning naming the host (not the token) and still connects', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { log } = make({ url: INSECURE });
    await settle();
    const warnings = payloads(log, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('INSECURE_TOKEN');
    expect(warnings[0]!.message).toContain('api.example.com');
    expect(warnings[0]!.message).not.toContain(TOKEN);
    expect(warn).not.toHaveBeenCalled();
    expect(FakeSocket.instances).toHaveLength(1);
  });

  it('goes to console.warn when nobody listens for warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    make({ url: INSECURE, silent: true });
    await settle();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/ws:\/\/.*api\.example\.com/);
    expect(inspect(warn.mock.calls)).not.toContain(TOKEN);
  });

  it('warns once per host, not on every retry', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { log } = make({ url: INSECURE });
    await settle();
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.instances).toHaveLength(2);
    expect(payloads(log, 'warning')).toHaveLength(1);
  });

  it.each(['ws://localhost:8080/', 'ws://127.0.0.1:9000/', 'ws://127.8.9.10/', 'ws://[::1]:9000/', 'ws://app.localhost/', 'wss://api.example.com/'])(
    'does not warn for %s',
    async (url) => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      const { log } = make({ url });
      await settle();
      make({ url, silent: true });
      await settle();
      expect(payloads(log, 'warning')).toEqual([]);
      expect(warn).not.toHaveBeenCalled();
      expect(FakeSocket.instances).toHaveLength(2);
    },
  );

  it('with requireSecure gives up with AUTH_FAILED and creates no socket', async () => {
    const { ws, log } = make({ url: INSECURE, auth: { requireSecure: true } });
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.instances).toHaveLength(0);
    expect(ws.state).toBe('closed');
    expect(errorCodes(log)).toEqual(['AUTH_FAILED']);
    const giveups = payloads(log, 'giveup');
    expect(giveups).toHaveLength(1);
    expect(giveups[0]!.reason).toBe('insecure');
    expect(giveups[0]!.error.code).toBe('AUTH_FAILED');
    expect(giveups[0]!.error.message).toContain('requireSecure');
    expect(giveups[0]!.error.message).not.toContain(TOKEN);
    expect(payloads(log, 'warning')).toEqual([]);
  });

  it('with requireSecure connects normally over wss://', async () => {
    const { ws } = make({ auth: { requireSecure: true } });
    await settle();
    FakeSocket.last.open();
    expect(ws.state).toBe('open');
  });
});

describe("the carrier subprotocol of via 'protocol'", () => {
  it.each([
    ['a space', 'abc def'],
    ['a slash', 'abc/def'],
    ['a comma', 'abc,def'],
    ['a non-ASCII letter', 'tökén'],
  ])('a static token with %s is refused at construction with a clear INVALID_OPTION', (_, token) => {
    let thrown: unknown;
    try {
      make({ auth: { via: 'protocol', token } });
    } catch (err) {
      thrown = err;
    }
    // v2: argument errors are native classes (INVALID_OPTION is a TypeError) that carry the code.
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ name: 'TypeError', code: 'INVALID_OPTION' });
    expect(isResilientWebSocketError(thrown)).toBe(true);
    const message = (thrown as Error).message;
    expect(message).toContain('base64url');
    expect(message).not.toContain(token);
  });

  it('a provider token that is not a legal subprotocol fails the attempt with INVALID_OPTION and creates no socket', async () => {
    const { log } = make({ auth: { via: 'protocol', token: () => 'has space' } });
    await settle();
    expect(FakeSocket.instances).toHaveLength(0);
    const errors = payloads(log, 'error');
    expect(errors.map((e) => e.error.code)).toEqual(['INVALID_OPTION']);
    expect(errors[0]!.error.message).toContain('base64url');
    expect(errors[0]!.error.message).not.toContain('has space');
  });

  it('base64url() makes any token a legal carrier', async () => {
    const raw = 'eyJ0eXAiOiJKV1QifQ.e30.a+b/c== with space';
    make({ protocols: 'v1.chat', auth: { via: 'protocol', token: async () => base64url(raw) } });
    await settle();
    const carrier = (FakeSocket.last.protocols as string[])[1]!;
    expect(carrier.startsWith('bearer.')).toBe(true);
    expect(Buffer.from(carrier.slice('bearer.'.length), 'base64url').toString('utf8')).toBe(raw);
  });

  it('a server that picks the carrier gets PROTOCOL_MISMATCH: closed, no retry, no open event', async () => {
    const { ws, log } = make({ protocols: ['v1.chat'], auth: { via: 'protocol' } });
    await settle();
    const s = FakeSocket.last;
    s.open(`bearer.${TOKEN}`);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(ws.state).toBe('closed');
    expect(ws.protocol).not.toContain(TOKEN);
    expect(s.closedWith).toBeDefined();
    expect(FakeSocket.instances).toHaveLength(1);
    expect(payloads(log, 'open')).toEqual([]);
    expect(errorCodes(log)).toEqual(['PROTOCOL_MISMATCH']);
    const giveups = payloads(log, 'giveup');
    expect(giveups.map((g) => [g.reason, g.error.code])).toEqual([['protocol-mismatch', 'PROTOCOL_MISMATCH']]);
    expect(giveups[0]!.error.message).not.toContain(TOKEN);
    expect(payloads(log, 'close').at(-1)?.willReconnect).toBe(false);
  });

  it('the client is reported as a protocol mismatch also when only the carrier was offered', async () => {
    const { ws, log } = make({ auth: { via: 'protocol' } });
    await settle();
    FakeSocket.last.open(`bearer.${TOKEN}`);
    expect(ws.state).toBe('closed');
    expect(errorCodes(log)).toEqual(['PROTOCOL_MISMATCH']);
  });
});

describe("via 'message' with the ready gate", () => {
  const setup = (): ReturnType<typeof make> =>
    make({
      auth: { via: 'message', message: (t) => `AUTH ${t}` },
      options: { ready: (d) => d === 'auth-ok' },
    });

  it('sends the auth message at once and holds queued messages until the reply passes ready()', async () => {
    const { ws, log } = setup();
    ws.send('q1');
    await settle();
    const s = FakeSocket.last;
    s.open();
    expect(ws.send('q2')).toBe('queued');
    expect(s.sent).toEqual([`AUTH ${TOKEN}`]);
    expect(payloads(log, 'ready')).toEqual([]);
    s.receive('something else');
    expect(s.sent).toEqual([`AUTH ${TOKEN}`]);
    s.receive('auth-ok');
    expect(s.sent).toEqual([`AUTH ${TOKEN}`, 'q1', 'q2']);
    expect(payloads(log, 'ready')).toEqual([{ data: 'auth-ok' }]);
    expect(ws.send('q3')).toBe('sent');
  });

  it('keeps the queued messages across a refusal and sends them after the next auth succeeds', async () => {
    const { provider } = rotating();
    const { ws } = make({
      auth: { via: 'message', token: provider, message: (t) => `AUTH ${t}` },
      options: { ready: (d) => d === 'auth-ok' },
    });
    await settle();
    FakeSocket.last.open();
    ws.send('m1');
    ws.send('m2');
    FakeSocket.last.serverClose(4401, 'invalid token');
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.receive('auth-ok');
    expect(FakeSocket.instances.map((s) => s.sent)).toEqual([['AUTH tok-1'], ['AUTH tok-2', 'm1', 'm2']]);
    expect(ws.queuedMessages).toBe(0);
  });
});

describe('the token never leaks', () => {
  const modes: Array<[AuthOptions['via'], ProtocolsProvider]> = [
    ['query', ['v1.chat']],
    ['protocol', ['v1.chat']],
    ['message', ['v1.chat']],
  ];

  it.each(modes)("via '%s': not in ws.url, any event payload, any error, nor the console", async (via, protocols) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let n = 0;
    // Fails once, then hands out tokens that all contain one recognisable secret.
    const token = (): string => {
      n++;
      if (n === 2) throw new Error('provider hiccup');
      return `SECRETxyz${n}`;
    };
    const { ws, log } = make({
      url: 'ws://api.example.com/live',
      protocols,
      auth: { via, token, maxFailures: 2 },
      options: { ready: (d) => d !== 'nope' },
    });
    const urls: string[] = [];
    const snapshot = (): void => void urls.push(ws.url, ws.protocol);
    await settle();
    snapshot();
    FakeSocket.last.open('v1.chat');
    snapshot();
    ws.send('hello');
    FakeSocket.last.receive('welcome');
    FakeSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(1000); // provider hiccup
    await vi.advanceTimersByTimeAsync(2000);
    FakeSocket.last.open('v1.chat');
    snapshot();
    FakeSocket.last.serverClose(4001, 'expired');
    await settle();
    FakeSocket.last.open('v1.chat');
    FakeSocket.last.serverClose(4001, 'expired');
    await settle();
    snapshot();
    expect(ws.state).toBe('closed');

    // The scenario really carried the secret to the server, by the chosen route.
    const carried = FakeSocket.instances.map((s) => `${s.url} ${String(s.protocols)} ${String(s.sent[0])}`).join('\n');
    expect(carried).toContain('SECRETxyz');
    const seen = new Set(log.map((e) => e.type));
    for (const type of ['warning', 'error', 'giveup', 'close', 'reconnecting', 'open', 'message', 'connecting', 'statechange'] as const) {
      expect(seen).toContain(type);
    }
    const dump = [
      ...urls,
      JSON.stringify(log),
      inspect(log, { depth: Infinity, showHidden: true }),
      ...log.flatMap((e) => {
        const err = (e.payload as { error?: Error }).error;
        return err ? [err.message, String(err.stack), inspect(err, { depth: Infinity })] : [];
      }),
      inspect(warn.mock.calls, { depth: Infinity }),
      inspect(error.mock.calls, { depth: Infinity }),
    ].join('\n');
    expect(dump).not.toContain('SECRETxyz');
  });
});
