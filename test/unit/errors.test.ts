import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { isResilientWebSocketError, ResilientWebSocketError, type ErrorCode } from '../../src/index.js';
import { advance, client, openClient, record, settle, useFakeClock, WS_URL } from './client-harness.js';
import { ResilientWebSocket as Core } from '../../src/core.js';
import { FakeWebSocket } from '../support/fake-socket.js';

useFakeClock();

const CODES: readonly ErrorCode[] = [
  'INVALID_URL',
  'INVALID_OPTION',
  'INVALID_DATA',
  'INVALID_CLOSE_CODE',
  'INVALID_REASON',
  'QUEUE_FULL',
  'CLOSED',
  'CONNECT_TIMEOUT',
  'CONNECT_FAILED',
  'HEARTBEAT_TIMEOUT',
  'AUTH_FAILED',
  'PROTOCOL_MISMATCH',
  'FATAL_CLOSE',
  'DECODE_ERROR',
  'RETRIES_EXHAUSTED',
  'SESSION_RESET',
];

describe('ResilientWebSocketError', () => {
  it.each(CODES)('carries code %s, its name and its message', (code) => {
    const err = new ResilientWebSocketError(code, `about ${code}`);
    expect(err.code).toBe(code);
    expect(err.name).toBe('ResilientWebSocketError');
    expect(err.message).toBe(`about ${code}`);
  });

  it('is an Error with a stack', () => {
    const err = new ResilientWebSocketError('CLOSED', 'closed');
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(ResilientWebSocketError);
    expect(typeof err.stack).toBe('string');
  });

  it('shows its name in String()', () => {
    expect(String(new ResilientWebSocketError('QUEUE_FULL', 'full'))).toBe('ResilientWebSocketError: full');
  });

  it('keeps a cause', () => {
    const cause = new TypeError('underlying');
    expect(new ResilientWebSocketError('CONNECT_FAILED', 'failed', { cause }).cause).toBe(cause);
  });

  it('has a cause only when given one', () => {
    expect('cause' in new ResilientWebSocketError('DECODE_ERROR', 'bad frame')).toBe(false);
  });

  it('is what a client emits at runtime, keeping the cause', async () => {
    const why = new SyntaxError('not JSON');
    const { ws, socket } = await openClient({
      codec: {
        encode: String,
        decode: () => {
          throw why;
        },
      },
    });
    const errors = record(ws, 'error');
    socket.receive('{');
    const err = errors[0]!.error;
    expect(err).toBeInstanceOf(ResilientWebSocketError);
    expect(err.name).toBe('ResilientWebSocketError');
    expect(err.code).toBe('DECODE_ERROR');
    expect(err.cause).toBe(why);
  });
});

/** What `fn` throws (synchronously) or rejects with. */
async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// Errors for bad arguments are the native ones (code written for the native WebSocket keeps
// working), and also carry the library's code and brand.
describe('argument errors are the native ones, with a code', () => {
  const opened = async (): Promise<ReturnType<typeof client>> => (await openClient()).ws;
  it.each<[string, ErrorCode, 'DOMException' | 'TypeError', string, () => unknown]>([
    ['a URL that is not ws(s) or http(s)', 'INVALID_URL', 'DOMException', 'SyntaxError', () => client({}, 'ftp://example.test/')],
    ['a URL that does not parse', 'INVALID_URL', 'DOMException', 'SyntaxError', () => client({}, 'not a url')],
    ['a URL with an empty fragment', 'INVALID_URL', 'DOMException', 'SyntaxError', () => client({}, 'ws://example.test/p#')],
    ['a Symbol as the URL', 'INVALID_URL', 'TypeError', 'TypeError', () => client({}, Symbol('url') as unknown as string)],
    ['an illegal subprotocol', 'INVALID_OPTION', 'DOMException', 'SyntaxError', () => client({}, WS_URL, 'a b')],
    ['a duplicate subprotocol', 'INVALID_OPTION', 'DOMException', 'SyntaxError', () => client({}, WS_URL, ['v1', 'v1'])],
    ['options in place of the protocols', 'INVALID_OPTION', 'TypeError', 'TypeError', () => new Core(WS_URL, { WebSocket: FakeWebSocket } as never)],
    ['a bad option', 'INVALID_OPTION', 'TypeError', 'TypeError', () => client({ reconnect: { factor: 0 } })],
    ['bad send() options', 'INVALID_OPTION', 'TypeError', 'TypeError', async () => (await opened()).send('x', { volatle: true } as never)],
    ['send() without data', 'INVALID_DATA', 'TypeError', 'TypeError', async () => (await opened()).send(...([] as unknown as [string]))],
    ['send(undefined)', 'INVALID_DATA', 'TypeError', 'TypeError', async () => (await opened()).send(undefined as never)],
    ['send() of a Symbol', 'INVALID_DATA', 'TypeError', 'TypeError', async () => (await opened()).send(Symbol('x') as never)],
    ['send() of a function', 'INVALID_DATA', 'TypeError', 'TypeError', async () => (await opened()).send((() => 1) as never)],
    ['send() of an object without a codec', 'INVALID_DATA', 'TypeError', 'TypeError', async () => (await opened()).send({ a: 1 } as never)],
    ['close() with a bad code', 'INVALID_CLOSE_CODE', 'DOMException', 'InvalidAccessError', async () => (await opened()).close(1001)],
    ['close() with a long reason', 'INVALID_REASON', 'DOMException', 'SyntaxError', async () => (await opened()).close(1000, 'x'.repeat(124))],
  ])('%s: %s as a %s named %s', async (_label, code, kind, name, act) => {
    const err = await caught(act);
    expect(err).toBeInstanceOf(kind === 'DOMException' ? DOMException : TypeError);
    if (kind === 'TypeError') expect(err).not.toBeInstanceOf(DOMException);
    expect((err as Error).name).toBe(name);
    expect(isResilientWebSocketError(err)).toBe(true);
    expect(err).toBeInstanceOf(ResilientWebSocketError);
    // An own property: on a DOMException it shadows the legacy numeric `code`.
    expect(Object.getOwnPropertyDescriptor(err, 'code')?.value).toBe(code);
    expect((err as { code: unknown }).code).toBe(code);
  });

  it('an argument error is not mistaken for another of the library’s native classes', async () => {
    const err = await caught(() => client({}, 'ftp://example.test/'));
    expect(err).not.toBeInstanceOf(TypeError);
    expect(Object.prototype.toString.call(err)).toBe('[object DOMException]');
  });
});

describe('runtime errors are ResilientWebSocketError', () => {
  it.each<[string, ErrorCode, () => Promise<unknown>]>([
    [
      'an attempt that timed out',
      'CONNECT_TIMEOUT',
      async () => {
        const ws = client({ reconnect: { connectTimeout: 100 } });
        const errors = record(ws, 'error');
        await advance(100);
        return errors[0]?.error;
      },
    ],
    [
      'a full queue with overflow: error',
      'QUEUE_FULL',
      async () => {
        const ws = client({ queue: { maxMessages: 1, overflow: 'error' } });
        ws.send('a');
        return caught(() => ws.send('b'));
      },
    ],
    [
      'flush() after close()',
      'CLOSED',
      async () => {
        const ws = client();
        await settle();
        ws.close();
        return caught(() => ws.flush());
      },
    ],
  ])('%s: %s', async (_label, code, make) => {
    const err = await make();
    expect(err).toBeInstanceOf(ResilientWebSocketError);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TypeError);
    expect(err).not.toBeInstanceOf(DOMException);
    expect((err as Error).name).toBe('ResilientWebSocketError');
    expect((err as { code: unknown }).code).toBe(code);
    expect(isResilientWebSocketError(err)).toBe(true);
  });
});

describe('isResilientWebSocketError', () => {
  it('is true for the class', () => {
    expect(isResilientWebSocketError(new ResilientWebSocketError('CLOSED', 'x'))).toBe(true);
  });

  it('is true for an error branded in another realm, where instanceof fails', () => {
    const foreign: unknown = runInNewContext(`
      const e = new Error('from the iframe');
      e.name = 'ResilientWebSocketError';
      e.code = 'CLOSED';
      e[Symbol.for('resilient-ws.error')] = true;
      e;
    `);
    expect(foreign instanceof Error).toBe(false);
    expect(isResilientWebSocketError(foreign)).toBe(true);
  });

  it('is true for a plain object with the brand (another copy of the library)', () => {
    expect(isResilientWebSocketError({ [Symbol.for('resilient-ws.error')]: true, code: 'CLOSED' })).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('x')],
    ['an Error named like ours', Object.assign(new Error('x'), { name: 'ResilientWebSocketError', code: 'CLOSED' })],
    ['a truthy but not true brand', { [Symbol.for('resilient-ws.error')]: 'yes' }],
    ['a local symbol with the same description', { [Symbol('resilient-ws.error')]: true }],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'ResilientWebSocketError'],
    ['a number', 42],
  ])('is false for %s', (_label, value) => {
    expect(isResilientWebSocketError(value)).toBe(false);
  });
});
