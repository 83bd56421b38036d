import { LATE_TIMER_MS } from './constants.js';
import { Timer } from './timer.js';

/** @internal */
export interface HeartbeatSettings {
  readonly interval: number;
  readonly timeout: number;
}

/**
 * Finds dead links without protocol pings (browsers cannot send them): after `interval` ms
 * without inbound data it calls `ping`, and if nothing arrives within `timeout` it calls
 * `dead`. Elapsed time comes from `now()`, not from counting timer callbacks, because
 * background tabs fire timers late: a deadline timer that fires late proves nothing about
 * the link, so it pings again and waits a fresh `timeout` instead of declaring death. @internal
 */
export class Heartbeat {
  readonly #timer = new Timer();
  #lastInbound = 0;
  #pingAt: number | undefined;

  readonly #settings: HeartbeatSettings;
  readonly #now: () => number;
  readonly #ping: () => void;
  readonly #dead: () => void;

  constructor(settings: HeartbeatSettings, now: () => number, ping: () => void, dead: () => void) {
    this.#settings = settings;
    this.#now = now;
    this.#ping = ping;
    this.#dead = dead;
  }

  start(): void {
    this.#lastInbound = this.#now();
    this.#pingAt = undefined;
    this.#timer.schedule(this.#settings.interval, () => this.#tick());
  }

  stop(): void {
    this.#timer.cancel();
    this.#pingAt = undefined;
  }

  /** Any inbound frame proves the link alive. Cheap: no timer work per message. */
  inbound(): void {
    this.#lastInbound = this.#now();
  }

  /** Ping now (the page came back, the network changed) unless a ping is already out. */
  check(): void {
    if (this.#timer.pending && this.#pingAt === undefined) this.#sendPing();
  }

  #tick(): void {
    const now = this.#now();
    if (this.#pingAt !== undefined) {
      if (this.#lastInbound >= this.#pingAt) {
        this.#pingAt = undefined;
      } else if (now - (this.#pingAt + this.#settings.timeout) > LATE_TIMER_MS) {
        this.#sendPing();
        return;
      } else {
        this.stop();
        this.#dead();
        return;
      }
    }
    const idle = now - this.#lastInbound;
    if (idle >= this.#settings.interval) this.#sendPing();
    else this.#timer.schedule(this.#settings.interval - idle, () => this.#tick());
  }

  #sendPing(): void {
    this.#pingAt = this.#now();
    this.#timer.schedule(this.#settings.timeout, () => this.#tick());
    this.#ping();
  }
}

/** What the client does on each page event. @internal */
export interface PageHooks {
  online(): void;
  offline(): void;
  visible(): void;
  hidden(): void;
  /** `pageshow` with `persisted`: restored from the back/forward cache. */
  restored(): void;
  /** `pagehide` with `persisted`: the page enters the back/forward cache. */
  stored(): void;
  /** Page Lifecycle `resume`: timers ran again after a freeze. */
  resumed(): void;
}

/** False only when the browser says it is offline. @internal */
export const isOnline = (): boolean => typeof navigator === 'undefined' || navigator.onLine !== false;

/** True when a page exists and is hidden. @internal */
export const isHidden = (): boolean => typeof document !== 'undefined' && document.visibilityState === 'hidden';

/**
 * Adds one listener per page event (on `window` and `document`, when they exist) and returns
 * the function that removes them all. @internal
 */
export function watchPage(hooks: PageHooks): () => void {
  const win = typeof window !== 'undefined' && typeof window.addEventListener === 'function' ? window : undefined;
  const doc = typeof document !== 'undefined' && typeof document.addEventListener === 'function' ? document : undefined;
  const added: Array<[EventTarget, string, (e: Event) => void]> = [];
  const on = (target: EventTarget | undefined, type: string, fn: (e: Event) => void): void => {
    if (!target) return;
    target.addEventListener(type, fn);
    added.push([target, type, fn]);
  };
  const persisted = (e: Event): boolean => (e as PageTransitionEvent).persisted === true;
  on(win, 'online', () => hooks.online());
  on(win, 'offline', () => hooks.offline());
  on(win, 'pageshow', (e) => persisted(e) && hooks.restored());
  on(win, 'pagehide', (e) => persisted(e) && hooks.stored());
  on(doc, 'visibilitychange', () => (isHidden() ? hooks.hidden() : hooks.visible()));
  on(doc, 'resume', () => hooks.resumed());
  return () => {
    for (const [target, type, fn] of added) target.removeEventListener(type, fn);
    added.length = 0;
  };
}
