import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { fail } from '../../src/errors.js';
import { isResilientWebSocketError, ResilientWebSocketError, type ErrorCode } from '../../src/index.js';

const CODES: readonly ErrorCode[] = [
  'INVALID_URL',
  'INVALID_OPTION',
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

  it('fail() builds the same error, with a cause only when given one', () => {
    const cause = new Error('why');
    const withCause = fail('DECODE_ERROR', 'bad frame', cause);
    expect(withCause).toBeInstanceOf(ResilientWebSocketError);
    expect(withCause.code).toBe('DECODE_ERROR');
    expect(withCause.cause).toBe(cause);
    expect('cause' in fail('DECODE_ERROR', 'bad frame')).toBe(false);
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
