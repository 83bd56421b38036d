// Shared by the Node tiers that wait on real servers: wait for a condition (never a fixed
// sleep), and undo what a test started, newest first, whatever happened.
import { afterEach } from 'vitest';

/** Resolves when `check()` holds, re-checked every few ms; rejects after `ms` naming `what`. */
export function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = async (): Promise<void> => {
      if (await check()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(() => void tick(), 5);
    };
    void tick();
  });
}

/** A list of undo steps run after each test of the file, newest first. */
export function useCleanups(): Array<() => Promise<unknown> | unknown> {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return cleanups;
}
