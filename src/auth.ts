import { fail } from './errors.js';
import type { TokenProvider, TokenRequest } from './options.js';

/**
 * base64url without padding (RFC 4648 §5) of the UTF-8 bytes of `text`: turns any token into
 * a legal subprotocol token for `auth.via: 'protocol'`.
 *
 * @example
 * ```ts
 * auth: { via: 'protocol', token: async () => base64url(await getJwt()) }
 * ```
 */
export function base64url(text: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Asks the provider for a token. A provider that throws, rejects or returns no string fails
 * the attempt (`CONNECT_FAILED`, retried with backoff); the message never holds the token. @internal
 */
export async function getToken(provider: TokenProvider, request: TokenRequest): Promise<string> {
  let token: unknown;
  try {
    token = typeof provider === 'function' ? await provider(request) : provider;
  } catch (err) {
    throw fail('CONNECT_FAILED', 'the auth.token provider failed', err);
  }
  if (typeof token !== 'string' || token === '') {
    throw fail('CONNECT_FAILED', `the auth.token provider must return a non-empty string, got ${typeof token}`);
  }
  return token;
}
