import { afterEach, describe, expect, it, vi } from 'vitest';
import { isLoopback, isProtocolToken, normalizeUrl, publicUrl, toProtocols, withParam } from '../../src/url.js';
import { ResilientWebSocket } from '../../src/index.js';
import { FakeSocket, FakeWebSocket } from '../support/fake-socket.js';
import { failure } from '../support/failure.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('normalizeUrl', () => {
  it.each([
    ['ws://example.com/socket', 'ws://example.com/socket'],
    ['wss://example.com:8443/a?b=c', 'wss://example.com:8443/a?b=c'],
    ['http://example.com/socket', 'ws://example.com/socket'],
    ['https://example.com/socket', 'wss://example.com/socket'],
    ['HTTPS://Example.COM', 'wss://example.com/'],
    ['ws://127.0.0.1:8080', 'ws://127.0.0.1:8080/'],
  ])('accepts %s as %s', (input, expected) => {
    expect(normalizeUrl(input)).toBe(expected);
  });

  it('accepts a URL object', () => {
    expect(normalizeUrl(new URL('https://example.com/x'))).toBe('wss://example.com/x');
  });

  it.each(['ftp://example.com/', 'file:///tmp/socket', 'mailto:a@example.com', 'javascript:alert(1)', 'data:text/plain,hi'])(
    'rejects scheme of %s with INVALID_URL naming the scheme',
    (input) => {
      const message = failure('INVALID_URL', () => normalizeUrl(input));
      expect(message).toContain(new URL(input).protocol);
    },
  );

  it('rejects a fragment with INVALID_URL naming it', () => {
    const message = failure('INVALID_URL', () => normalizeUrl('wss://example.com/socket#part'));
    expect(message).toContain('#part');
  });

  // `u.hash` is '' for a bare '#', but browsers refuse it as a fragment all the same.
  it('rejects an empty fragment', () => {
    expect(failure('INVALID_URL', () => normalizeUrl('ws://example.com/p#'))).toContain('fragment');
  });

  // As the native constructor: the value goes through String(), then must be a URL.
  it.each([
    ['a number', 42, '"42"'],
    ['null', null, '"null"'],
    ['undefined', undefined, '"undefined"'],
    ['an object without a URL string form', { href: 'wss://example.com' }, '"[object Object]"'],
  ])('converts %s with String() and rejects what is no URL, quoting the string', (_label, input, quoted) => {
    expect(failure('INVALID_URL', () => normalizeUrl(input))).toContain(quoted);
  });

  it('accepts an object whose String() is a URL', () => {
    expect(normalizeUrl({ toString: () => 'https://example.com/x' })).toBe('wss://example.com/x');
  });

  it('rejects a Symbol (which String() would describe, not convert) with a TypeError', () => {
    const message = failure('INVALID_URL', () => normalizeUrl(Symbol('wss://example.com')));
    expect(message).toContain('symbol');
  });

  it.each(['ftp://user:hunter2@example.com/', 'not a url://user:hunter2@x', 'wss://user:hunter2@example.com/#frag'])(
    'never quotes credentials in the message (%s)',
    (input) => {
      const message = failure('INVALID_URL', () => normalizeUrl(input));
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('user');
    },
  );

  it('keeps credentials out of ws.url, while the native socket gets them', async () => {
    FakeSocket.reset();
    const ws = new ResilientWebSocket('wss://user:hunter2@example.com/ws', [], { WebSocket: FakeWebSocket });
    expect(ws.url).toBe('wss://example.com/ws');
    await vi.waitFor(() => FakeSocket.last);
    expect(FakeSocket.last.url).toBe('wss://user:hunter2@example.com/ws');
    expect(ws.url).toBe('wss://example.com/ws');
    ws.close();
  });

  it('keeps credentials in the URL it returns (the native socket needs them), and publicUrl drops them', () => {
    const url = normalizeUrl('wss://user:hunter2@example.com/ws');
    expect(url).toBe('wss://user:hunter2@example.com/ws');
    expect(publicUrl(url)).toBe('wss://example.com/ws');
  });

  it('rejects a relative URL where no page location exists', () => {
    expect(typeof location).toBe('undefined');
    expect(failure('INVALID_URL', () => normalizeUrl('/socket'))).toContain('"/socket"');
  });

  it('rejects a string that is no URL, quoting it', () => {
    expect(failure('INVALID_URL', () => normalizeUrl('not a url'))).toContain('"not a url"');
  });

  it('resolves a relative URL against the page, mapping https to wss', () => {
    vi.stubGlobal('location', { href: 'https://app.example.com/chat/room' });
    expect(normalizeUrl('/socket')).toBe('wss://app.example.com/socket');
    expect(normalizeUrl('live')).toBe('wss://app.example.com/chat/live');
  });

  it('resolves a relative URL against an http page to ws', () => {
    vi.stubGlobal('location', { href: 'http://localhost:3000/' });
    expect(normalizeUrl('ws')).toBe('ws://localhost:3000/ws');
  });
});

describe('toProtocols', () => {
  it.each([
    ['undefined', undefined, []],
    ['one string', 'chat.v1', ['chat.v1']],
    ['an array', ['chat.v2', 'chat.v1'], ['chat.v2', 'chat.v1']],
    ['an empty array', [], []],
  ])('accepts %s', (_label, input, expected) => {
    expect(toProtocols(input)).toEqual(expected);
  });

  it.each([
    ['an empty string', ''],
    ['a space', 'chat v1'],
    ['a comma', 'a,b'],
    ['a slash', 'chat/1'],
    ['non-ASCII', 'chät'],
    ['a Symbol in the array', ['ok', Symbol('x')]],
    ['an entry whose string form is not a token', ['ok', {}]],
  ])('rejects %s with INVALID_OPTION', (_label, input) => {
    failure('INVALID_OPTION', () => toProtocols(input));
  });

  it('converts every entry with String(), as the native constructor does', () => {
    expect(toProtocols(['ok', 5])).toEqual(['ok', '5']);
  });

  it('rejects a duplicate, naming it', () => {
    expect(failure('INVALID_OPTION', () => toProtocols(['a', 'b', 'a']))).toContain('"a"');
  });

  // As the native constructor: a value that is not a sequence is converted with String().
  it('converts a number with String()', () => {
    expect(toProtocols(7)).toEqual(['7']);
  });

  it('rejects a plain object (options given as the second argument) with a TypeError saying where options go', () => {
    const message = failure('INVALID_OPTION', () => toProtocols({ reconnect: false }));
    expect(message).toContain('pass [] or undefined for protocols first');
  });
});

describe('isProtocolToken', () => {
  it.each([
    ['bearer.abc-DEF_123', true],
    ["!#$%&'*+-.^_`|~", true],
    ['with space', false],
    ['quote"', false],
    ['', false],
  ])('%s → %s', (input, ok) => {
    expect(isProtocolToken(input)).toBe(ok);
  });
});

describe('withParam', () => {
  it('adds a query parameter, encoded', () => {
    expect(withParam('wss://example.com/ws', 'token', 'a b&c')).toBe('wss://example.com/ws?token=a+b%26c');
  });

  it('replaces an existing value and keeps other parameters', () => {
    expect(withParam('wss://example.com/ws?room=1&token=old', 'token', 'new')).toBe('wss://example.com/ws?room=1&token=new');
  });
});

describe('isLoopback', () => {
  it.each([
    ['ws://localhost:1234/', true],
    ['ws://app.localhost/', true],
    ['ws://127.0.0.1/', true],
    ['ws://127.8.9.10/', true],
    ['ws://[::1]:9000/', true],
    ['ws://example.com/', false],
    ['ws://10.0.0.1/', false],
    ['ws://localhost.example.com/', false],
  ])('%s → %s', (url, loop) => {
    expect(isLoopback(url)).toBe(loop);
  });
});
