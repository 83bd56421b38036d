import type { WireData } from './codec.js';
import { fail, invalid } from './errors.js';
import { bool, fn, group, num, oneOf, show, type Check } from './options.js';
import type { Plugin, PluginHost } from './plugin.js';
import { isLoopback, isProtocolToken, withParam } from './url.js';

/** What the token provider is told about the attempt it serves. */
export interface TokenRequest {
  /** 0 for a fresh connection, n for the n-th retry since the last stable one. */
  readonly attempt: number;
  /** `'initial'` first, `'reconnect'` before a retry, `'rejected'` after the server refused the token. */
  readonly reason: 'initial' | 'reconnect' | 'rejected';
}

/** A token, or a function (sync or async) that returns a fresh one. */
export type TokenProvider = string | ((request: TokenRequest) => string | Promise<string>);

/** `auth.*` (or `tokenAuth(options)`): a token that is fetched before every attempt and refreshed when refused. */
export interface AuthOptions {
  /**
   * The token, or a (sync or async) provider asked before every attempt.
   * @example
   * ```ts
   * token: async ({ reason }) => (await fetch('/token', { cache: 'no-store' })).text()
   * ```
   */
  token: TokenProvider;
  /**
   * Where the token travels: `'query'` (URL parameter `param`), `'protocol'` (an extra
   * subprotocol `protocolPrefix + token`), or `'message'` (`message(token)` sent first on open).
   * @default 'query'
   */
  via?: 'query' | 'protocol' | 'message';
  /** The query parameter for `via: 'query'`. @default 'token' */
  param?: string;
  /**
   * The prefix of the carrier subprotocol for `via: 'protocol'`. The token must then be a legal
   * subprotocol token; encode it with `base64url()` if it is not.
   * @default 'bearer.'
   */
  protocolPrefix?: string;
  /** Builds the first message for `via: 'message'`; its result is sent as it is. @default (token) => JSON.stringify({ type: 'auth', token }) */
  message?: (token: string) => WireData;
  /** Close codes that mean "token refused": the token is refreshed and the attempt repeated at once. @default [1008, 4001, 4003, 4401, 4403] */
  failCodes?: readonly number[];
  /** Consecutive refusals after which the client gives up with `AUTH_FAILED` (a finite number). @default 3 */
  maxFailures?: number;
  /** Refuse (with `AUTH_FAILED`) instead of warn when a token would go over `ws://` to a non-local host. @default false */
  requireSecure?: boolean;
}

/** @internal */
export const AUTH_DEFAULTS = {
  via: 'query' as const,
  param: 'token',
  protocolPrefix: 'bearer.',
  message: (token: string): WireData => JSON.stringify({ type: 'auth', token }),
  failCodes: [1008, 4001, 4003, 4401, 4403] as readonly number[],
  maxFailures: 3,
  requireSecure: false,
};

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

const carrierOf = (prefix: string, token: string): string => {
  const carrier = prefix + token;
  if (!isProtocolToken(carrier)) {
    throw invalid(
      'INVALID_OPTION',
      `options.auth.token is not a legal subprotocol token for auth.via 'protocol' (it has characters outside RFC 6455 tokens): encode it with base64url()`,
    );
  }
  return carrier;
};

/**
 * Token authentication as a plug-in: the token (or a provider asked before every attempt)
 * travels in the query, a carrier subprotocol or a first message; a close with one of
 * `failCodes` refreshes it and retries at once, `maxFailures` refusals in a row give up with
 * `AUTH_FAILED`. The token never appears in `ws.url`, events, errors or logs. The
 * `resilient-ws` entry builds this from `options.auth`.
 *
 * @example
 * ```ts
 * import { ResilientWebSocket, tokenAuth } from 'resilient-ws/core';
 * const ws = new ResilientWebSocket(url, [], { auth: tokenAuth({ token: () => getJwt(), via: 'message' }) });
 * ```
 */
export function tokenAuth(options: AuthOptions): Plugin {
  // `auth: 'eyJ…'` is likely the token itself: name its type, never its value.
  if (typeof options !== 'object' || options === null) throw invalid('INVALID_OPTION', `options.auth must be an object, got ${options === null ? 'null' : typeof options}`);
  const token: unknown = options.token;
  if (typeof token !== 'function' && (typeof token !== 'string' || token === '')) {
    throw invalid('INVALID_OPTION', `options.auth.token must be a non-empty string or a function, got ${typeof token}`);
  }
  const rules: Record<string, Check> = {
    token: () => undefined, // checked above: its value must never reach a message
    via: oneOf('query', 'protocol', 'message'),
    param: (v) => (typeof v === 'string' && v ? undefined : 'a non-empty string'),
    protocolPrefix: (v) => (typeof v === 'string' && (v === '' || isProtocolToken(v)) ? undefined : 'a string of subprotocol token characters (RFC 6455)'),
    message: fn,
    failCodes: (v) => {
      // "got an array" alone would not say which entry is wrong: name it.
      const i = Array.isArray(v) ? v.findIndex((c) => !(Number.isInteger(c) && c >= 1000 && c <= 4999)) : 0;
      return i < 0 ? undefined : `an array of close codes (1000–4999)${Array.isArray(v) ? ` (${show(v[i])} is not one)` : ''}`;
    },
    maxFailures: num(1, true),
    requireSecure: bool,
  };
  const a = group('options.auth', options, AUTH_DEFAULTS as Required<AuthOptions>, rules);
  if (a.via === 'protocol' && typeof a.token === 'string') carrierOf(a.protocolPrefix, a.token);
  let host: PluginHost;
  let failures = 0;
  let reason: TokenRequest['reason'] = 'initial';
  let carrier: string | undefined;
  let first: WireData | undefined;
  let warned = '';
  let openedAt: number | undefined;
  return {
    init: (h) => void (host = h),
    state: (to) => void (to === 'open' && (openedAt = host.now())),
    async attempt(plan) {
      if (plan.manual) {
        failures = 0;
        if (reason !== 'initial') reason = 'reconnect';
      }
      carrier = first = undefined;
      if (plan.url.startsWith('ws:') && !isLoopback(plan.url)) {
        const where = new URL(plan.url).host;
        const message = `the auth token would travel unencrypted over ws:// to ${where}; use wss://`;
        if (a.requireSecure) throw fail('AUTH_FAILED', `${message} (auth.requireSecure is on)`);
        if (warned !== where) {
          warned = where;
          if (host.listens('warning')) host.emit('warning', { code: 'INSECURE_TOKEN', message });
          else console.warn(`resilient-ws: ${message}`);
        }
      }
      let t: unknown;
      try {
        t = typeof a.token === 'function' ? await a.token({ attempt: plan.attempt, reason }) : a.token;
      } catch (err) {
        throw fail('CONNECT_FAILED', 'the auth.token provider failed', err);
      }
      if (typeof t !== 'string' || t === '') throw fail('CONNECT_FAILED', `the auth.token provider must return a non-empty string, got ${show(typeof t)}`);
      if (a.via === 'query') plan.url = withParam(plan.url, a.param, t);
      else if (a.via === 'protocol') plan.protocols.push((carrier = carrierOf(a.protocolPrefix, t)));
      else first = a.message(t);
    },
    open(protocol) {
      if (carrier && protocol === carrier) {
        return fail('PROTOCOL_MISMATCH', 'the server picked the auth carrier subprotocol instead of an application protocol; closing, since it would echo the token');
      }
      if (first !== undefined) host.control(first);
    },
    ready: () => void (failures = 0),
    close(info) {
      if (openedAt !== undefined && host.now() - openedAt >= host.stableAfterMs) failures = 0;
      openedAt = undefined;
      if (!a.failCodes.includes(info.code)) {
        reason = 'reconnect';
        return;
      }
      reason = 'rejected';
      failures++;
      if (failures >= a.maxFailures || host.noRetry) {
        const why = host.noRetry ? 'and reconnect is off' : `${failures} times in a row`;
        return { giveup: 'auth', error: fail('AUTH_FAILED', `the server refused the token ${why} (last close code ${info.code})`) };
      }
      return { retry: 'now' };
    },
  };
}
