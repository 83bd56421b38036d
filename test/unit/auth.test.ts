// The base64url helper, and the token provider as a client with `auth` options sees it: what it
// is asked, how its token is used, and how its failures are reported (never with the token).
import { describe, expect, it } from 'vitest';
import { base64url, type ResilientWebSocketError, type TokenProvider, type TokenRequest } from '../../src/index.js';
import { isProtocolToken } from '../../src/url.js';
import { advance, client, exact, FakeSocket, record, settle, useFakeClock } from './client-harness.js';

useFakeClock();

const WSS = 'wss://example.test/socket';

/** The token the latest attempt carried in its query. */
const sentToken = (): string | null => new URL(FakeSocket.last.url).searchParams.get('token');

describe('base64url', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['\xff\xfe', 'w7_Dvg'],
    ['>>>???', 'Pj4-Pz8_'],
  ])('encodes %j as %j (RFC 4648 §5, no padding)', (input, expected) => {
    expect(base64url(input)).toBe(expected);
  });

  it('encodes the UTF-8 bytes, so non-Latin-1 text round-trips', () => {
    const text = 'tök€n 👋';
    expect(Buffer.from(base64url(text), 'base64url').toString('utf8')).toBe(text);
  });

  it('turns a token with spaces, slashes and padding-prone lengths into a legal subprotocol token', () => {
    for (const token of ['a b/c', 'eyJhbGciOiJIUzI1NiJ9.e30.sig+/=', 'x', 'xy', '"quoted", {braces}']) {
      const encoded = base64url(token);
      expect(isProtocolToken(`bearer.${encoded}`)).toBe(true);
      expect(encoded).not.toMatch(/[+/=]/);
    }
  });
});

describe('the token provider, through a client', () => {
  it('uses a string token as it is', async () => {
    client({ auth: { token: 'abc' } }, WSS);
    await settle();
    expect(sentToken()).toBe('abc');
  });

  it('asks a sync provider before the attempt, with the attempt and the reason, and uses its token', async () => {
    const seen: TokenRequest[] = [];
    const provider: TokenProvider = (r) => {
      seen.push(r);
      return 'sync-token';
    };
    client({ auth: { token: provider } }, WSS);
    await settle();
    expect(seen).toEqual([{ attempt: 0, reason: 'initial' }]);
    expect(sentToken()).toBe('sync-token');
  });

  it('awaits an async provider before the native socket is made', async () => {
    let release: (token: string) => void = () => undefined;
    const ws = client({ auth: { token: () => new Promise<string>((r) => (release = r)) } }, WSS);
    await settle();
    expect(ws.state).toBe('connecting');
    expect(FakeSocket.instances).toHaveLength(0);
    release('async-token');
    await settle();
    expect(sentToken()).toBe('async-token');
  });

  it("asks again before a retry ('reconnect') and after a refusal ('rejected'), counting the attempts", async () => {
    const seen: TokenRequest[] = [];
    client({ reconnect: exact, auth: { token: (r) => (seen.push(r), `t${seen.length}`) } }, WSS);
    await settle();
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    await advance(exact.minDelay);
    expect(sentToken()).toBe('t2');
    FakeSocket.last.serverClose(4001);
    await settle();
    expect(sentToken()).toBe('t3');
    expect(seen).toEqual([
      { attempt: 0, reason: 'initial' },
      { attempt: 1, reason: 'reconnect' },
      { attempt: 1, reason: 'rejected' },
    ]);
  });

  it.each<[string, TokenProvider]>([
    ['throws', () => {
      throw new Error('no session');
    }],
    ['rejects', () => Promise.reject(new Error('no session'))],
  ])('fails the attempt with CONNECT_FAILED when the provider %s, keeping the cause, and retries', async (_, provider) => {
    const ws = client({ reconnect: exact, auth: { token: provider } }, WSS);
    const errors = record(ws, 'error');
    await settle();
    expect(errors).toHaveLength(1);
    const err: ResilientWebSocketError = errors[0]!.error;
    expect(err.code).toBe('CONNECT_FAILED');
    expect((err.cause as Error).message).toBe('no session');
    expect(ws.state).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'undefined'],
    ['a number', 42, 'number'],
    ['null', null, 'object'],
    ['an object', { token: 'secret-in-object' }, 'object'],
    ['an empty string', '', 'string'],
  ])('fails the attempt with CONNECT_FAILED when the provider returns %s, naming only its type', async (_, value, type) => {
    const ws = client({ reconnect: exact, auth: { token: (() => value) as unknown as TokenProvider } }, WSS);
    const errors = record(ws, 'error');
    await settle();
    const err = errors[0]!.error;
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toContain(`got "${type}"`);
    expect(err.message).not.toContain('secret-in-object');
    expect(ws.state).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(0);
  });

  it('keeps the token out of ws.url, events and errors', async () => {
    const ws = client({ reconnect: exact, auth: { token: () => 'secret-token-value' } }, WSS);
    const log: unknown[] = [];
    for (const type of ['connecting', 'open', 'close', 'reconnecting', 'error'] as const) ws.on(type, (p) => log.push(p));
    await settle();
    expect(FakeSocket.last.url).toContain('secret-token-value');
    FakeSocket.last.open();
    FakeSocket.last.serverClose(1006);
    expect(ws.url).toBe(WSS);
    expect(JSON.stringify(log)).not.toContain('secret-token-value');
  });
});
