// Minimal stand-ins for the page globals the library watches (`window`, `document`,
// `navigator`), for unit tests that run in Node. The targets keep an exact set of the listeners
// they hold, so a test can prove that every listener added was removed again.
import { setMaxListeners } from 'node:events';
import { vi } from 'vitest';

type Listener = EventListenerOrEventListenerObject;

/** An `EventTarget` that knows which listeners it holds right now and counts every add/remove. */
export class CountingTarget extends EventTarget {
  /** Every `addEventListener` call. */
  adds = 0;
  /** Every `removeEventListener` call. */
  removes = 0;
  readonly #held = new Map<string, Set<Listener>>();

  constructor() {
    super();
    // Tests attach hundreds of clients on purpose; Node's leak warning would only be noise.
    setMaxListeners(Infinity, this);
  }

  override addEventListener(type: string, listener: Listener | null, options?: boolean | AddEventListenerOptions): void {
    this.adds += 1;
    if (listener) {
      const set = this.#held.get(type) ?? new Set<Listener>();
      set.add(listener);
      this.#held.set(type, set);
    }
    super.addEventListener(type, listener, options);
  }

  override removeEventListener(type: string, listener: Listener | null, options?: boolean | EventListenerOptions): void {
    this.removes += 1;
    if (listener) this.#held.get(type)?.delete(listener);
    super.removeEventListener(type, listener, options);
  }

  /** How many listeners are attached, of one type or of every type. */
  held(type?: string): number {
    if (type !== undefined) return this.#held.get(type)?.size ?? 0;
    let n = 0;
    for (const set of this.#held.values()) n += set.size;
    return n;
  }
}

/** A fake `document`: an event target with a settable `visibilityState`. */
export class FakeDocument extends CountingTarget {
  visibilityState: DocumentVisibilityState = 'visible';
}

/** The installed fakes and the page events a test can fire. */
export interface FakePage {
  readonly window: CountingTarget;
  readonly document: FakeDocument;
  readonly navigator: { onLine: boolean };
  offline(): void;
  online(): void;
  hide(): void;
  show(): void;
  /** `pageshow`; `persisted` marks a restore from the back/forward cache. */
  pageshow(persisted: boolean): void;
  /** `pagehide`; `persisted` marks an entry into the back/forward cache. */
  pagehide(persisted: boolean): void;
  /** Page Lifecycle `resume` (on `document`): the page ran again after a freeze. */
  resume(): void;
}

// Node has no PageTransitionEvent: a plain Event with `persisted` set looks the same to a listener.
const transition = (type: string, persisted: boolean): Event => {
  const ev = new Event(type);
  Object.defineProperty(ev, 'persisted', { value: persisted });
  return ev;
};

/**
 * Stubs `window`, `document` and `navigator` with fakes (visible and online at first). Undo
 * with `vi.unstubAllGlobals()` in `afterEach`.
 */
export function installFakePage(): FakePage {
  const win = new CountingTarget();
  const doc = new FakeDocument();
  const nav = { onLine: true };
  vi.stubGlobal('window', win);
  vi.stubGlobal('document', doc);
  vi.stubGlobal('navigator', nav);
  return {
    window: win,
    document: doc,
    navigator: nav,
    offline() {
      nav.onLine = false;
      win.dispatchEvent(new Event('offline'));
    },
    online() {
      nav.onLine = true;
      win.dispatchEvent(new Event('online'));
    },
    hide() {
      doc.visibilityState = 'hidden';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    show() {
      doc.visibilityState = 'visible';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    pageshow: (persisted) => win.dispatchEvent(transition('pageshow', persisted)),
    pagehide: (persisted) => win.dispatchEvent(transition('pagehide', persisted)),
    resume: () => doc.dispatchEvent(new Event('resume')),
  };
}
