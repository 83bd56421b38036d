import { invalid } from './errors.js';

// `user:pass@` must never reach an error message or `ws.url`.
const hideCredentials = (s: string): string => s.replace(/\/\/[^/?#@]*@/, '//***@');

/**
 * Converts `input` with `String()` and resolves it against the page (if any), as the native
 * constructor does; maps http(s) to ws(s), and rejects anything a WebSocket cannot open with
 * `INVALID_URL` (a `SyntaxError` `DOMException`) naming the value without credentials. @internal
 */
export function normalizeUrl(input: unknown): string {
  if (typeof input === 'symbol') throw invalid('INVALID_URL', 'the URL must be a string, got a symbol');
  const text = String(input);
  let u: URL;
  try {
    u = new URL(text, typeof location !== 'undefined' ? location.href : undefined);
  } catch {
    throw invalid('INVALID_URL', `the URL ${JSON.stringify(hideCredentials(text))} is not a valid URL`, 'SyntaxError');
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  const shown = JSON.stringify(hideCredentials(u.href));
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw invalid('INVALID_URL', `the URL ${shown} must use ws:, wss:, http: or https:, not ${u.protocol}`, 'SyntaxError');
  }
  // `u.hash` is '' for an empty fragment (`ws://h/p#`), which browsers refuse as well.
  if (u.href.includes('#')) throw invalid('INVALID_URL', `the URL ${shown} must not have a fragment`, 'SyntaxError');
  return u.href;
}

/** The URL as the client shows it (`ws.url`): without credentials. @internal */
export const publicUrl = (url: string): string => {
  const u = new URL(url);
  u.username = u.password = '';
  return u.href;
};

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
 * Checks subprotocols as the native constructor would (legal tokens, no duplicates; a
 * `SyntaxError` otherwise) and returns them as an array. @internal
 */
export function toProtocols(value: unknown): string[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    throw invalid(
      'INVALID_OPTION',
      'protocols must be a string or an array of strings, got an object: options go third, so pass [] or undefined for protocols first (new ResilientWebSocket(url, [], options))',
    );
  }
  const list: unknown[] = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const seen = new Set<string>();
  // As the native constructor does, every entry goes through String() (a Symbol cannot).
  for (const p of list.map((v) => (typeof v === 'symbol' ? v : String(v)))) {
    if (typeof p !== 'string' || !isProtocolToken(p) || seen.has(p)) {
      throw invalid(
        'INVALID_OPTION',
        `protocols: ${JSON.stringify(String(p))} ${seen.has(String(p)) ? 'is offered twice' : 'is not a valid subprotocol (RFC 6455 token)'}`,
        'SyntaxError',
      );
    }
    seen.add(p);
  }
  return list.map(String);
}
