import { expect } from 'vitest';
import { isResilientWebSocketError } from '../../src/index.js';

/** Runs `fn`, expects a ResilientWebSocketError with `code`, and returns its message. */
export function failure(code: string, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isResilientWebSocketError(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    return (err as Error).message;
  }
  throw new Error('expected a throw');
}
