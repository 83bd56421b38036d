import { fail } from './errors.js';

/**
 * Resolves `input` against the page (if any), maps http(s) to ws(s), and rejects anything a
 * WebSocket cannot open, with `INVALID_URL` naming the value. @internal
 */
export function normalizeUrl(input: unknown): string {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw fail('INVALID_URL', `the URL must be a string or URL, got ${typeof input}`);
  }
  let u: URL;
  try {
    const base = typeof location !== 'undefined' ? location.href : undefined;
    u = new URL(String(input), base);
  } catch {
    throw fail('INVALID_URL', `the URL ${JSON.stringify(String(input))} is not a valid URL`);
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw fail('INVALID_URL', `the URL ${JSON.stringify(u.href)} must use ws:, wss:, http: or https:, not ${u.protocol}`);
  }
  if (u.hash) throw fail('INVALID_URL', `the URL ${JSON.stringify(u.href)} must not have a fragment (${u.hash})`);
  return u.href;
}

/** `url` with query parameter `name` set to `value`. @internal */
export function withParam(url: string, name: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(name, value);
  return u.href;
}

/** True for hosts whose traffic never leaves the machine. @internal */
export function isLoopback(url: string): boolean {
  const h = new URL(url).hostname;
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '[::1]';
}

// RFC 6455 §4.1: a subprotocol is an RFC 2616 token: visible ASCII except separators.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `s` can be offered as a subprotocol. @internal */
export const isProtocolToken = (s: string): boolean => TOKEN.test(s);

/**
 * Checks subprotocols as the native constructor would (legal tokens, no duplicates) and
 * returns them as an array. @internal
 */
export function toProtocols(value: unknown): string[] {
  const list = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) throw fail('INVALID_OPTION', `protocols must be a string or an array of strings, got ${typeof value}`);
  const seen = new Set<string>();
  for (const p of list) {
    if (typeof p !== 'string' || !isProtocolToken(p)) {
      throw fail('INVALID_OPTION', `protocols: ${JSON.stringify(p)} is not a valid subprotocol (RFC 6455 token)`);
    }
    if (seen.has(p)) throw fail('INVALID_OPTION', `protocols: ${JSON.stringify(p)} is offered twice`);
    seen.add(p);
  }
  return list as string[];
}
