import { MAX_TIMEOUT_MS } from './constants.js';

/**
 * One pending timeout at most. `schedule()` replaces the previous one, `cancel()` clears it,
 * so `close()` can always stop everything. @internal
 */
export class Timer {
  #id: ReturnType<typeof setTimeout> | undefined;

  /** Run `fn` after `ms` (clamped to what `setTimeout` can hold), replacing any pending run. */
  schedule(ms: number, fn: () => void): void {
    this.cancel();
    this.#id = setTimeout(
      () => {
        this.#id = undefined;
        fn();
      },
      Math.min(MAX_TIMEOUT_MS, Math.max(0, ms)),
    );
  }

  cancel(): void {
    if (this.#id !== undefined) clearTimeout(this.#id);
    this.#id = undefined;
  }

  get pending(): boolean {
    return this.#id !== undefined;
  }
}
