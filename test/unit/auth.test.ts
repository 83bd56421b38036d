// src/auth.ts: the base64url helper and the token provider wrapper, without sockets.
import { describe, expect, it } from 'vitest';
import { base64url, getToken } from '../../src/auth.js';
import { isResilientWebSocketError, type ResilientWebSocketError } from '../../src/errors.js';
import type { TokenProvider, TokenRequest } from '../../src/options.js';
import { isProtocolToken } from '../../src/url.js';

const request: TokenRequest = { attempt: 2, reason: 'rejected' };

/** Awaits a rejection and returns it as a typed library error. */
async function rejection(p: Promise<unknown>): Promise<ResilientWebSocketError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isResilientWebSocketError(err)) throw new Error(`expected a ResilientWebSocketError, got ${String(err)}`);
  return err;
}

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

describe('getToken', () => {
  it('returns a string token as it is', async () => {
    await expect(getToken('abc', request)).resolves.toBe('abc');
  });

  it('passes the request to a sync provider and returns its token', async () => {
    const seen: TokenRequest[] = [];
    const provider: TokenProvider = (r) => {
      seen.push(r);
      return 'sync-token';
    };
    await expect(getToken(provider, request)).resolves.toBe('sync-token');
    expect(seen).toEqual([request]);
  });

  it('awaits an async provider', async () => {
    await expect(getToken(async ({ attempt }) => `async-${attempt}`, request)).resolves.toBe('async-2');
  });

  it.each<[string, TokenProvider]>([
    ['throws', () => {
      throw new Error('no session');
    }],
    ['rejects', () => Promise.reject(new Error('no session'))],
  ])('fails with CONNECT_FAILED when the provider %s, keeping the cause', async (_, provider) => {
    const err = await rejection(getToken(provider, request));
    expect(err.code).toBe('CONNECT_FAILED');
    expect((err.cause as Error).message).toBe('no session');
  });

  it.each<[string, unknown, string]>([
    ['undefined', undefined, 'undefined'],
    ['a number', 42, 'number'],
    ['null', null, 'object'],
    ['an object', { token: 'secret-in-object' }, 'object'],
    ['an empty string', '', 'string'],
  ])('fails with CONNECT_FAILED when the provider returns %s', async (_, value, type) => {
    const err = await rejection(getToken((() => value) as unknown as TokenProvider, request));
    expect(err.code).toBe('CONNECT_FAILED');
    expect(err.message).toContain(`got ${type}`);
    expect(err.message).not.toContain('secret-in-object');
  });
});
