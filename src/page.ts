import { CLOSE_GOING_AWAY } from './constants.js';
import { isHidden, isOnline, watchPage } from './liveness.js';
import { bool, group } from './options.js';
import type { Plugin, PluginHost } from './plugin.js';

/** `pageLife(options)`: how the page's life steers the connection. */
export interface PageOptions {
  /** Stop retrying while the page is hidden; try at once when it is visible again. @default false */
  pauseWhenHidden?: boolean;
}

/**
 * Page life as a plug-in: no attempt while offline, an attempt at once on `online`, when a
 * hidden page becomes visible, or when it returns from the back/forward cache; the connection
 * is let go on the way into the bfcache (an open socket keeps a page out of it); a liveness
 * check when the page resumes from a freeze or the network changes. Its six listeners on
 * `window` and `document` exist exactly while the client is not `closed`. The `resilient-ws`
 * entry always includes it.
 *
 * @example
 * ```ts
 * import { ResilientWebSocket, pageLife } from 'resilient-ws/core';
 * const ws = new ResilientWebSocket(url, [], { page: pageLife({ pauseWhenHidden: true }) });
 * ```
 */
export function pageLife(options: PageOptions = {}): Plugin {
  const o = group('options.page', options, { pauseWhenHidden: false }, { pauseWhenHidden: bool });
  let host: PluginHost;
  let unwatch: (() => void) | undefined;
  let stored = false;
  const wake = (): void => host.wake();
  return {
    init: (h) => void (host = h),
    state(to) {
      if (to !== 'closed') {
        unwatch ??= watchPage({
          online: wake,
          offline: wake,
          visible: wake,
          hidden: () => o.pauseWhenHidden && wake(),
          restored: () => {
            stored = false;
            wake();
          },
          stored: () => {
            stored = true;
            host.lost({ code: CLOSE_GOING_AWAY, reason: 'page entered the back/forward cache', wasClean: false });
            wake();
          },
          resumed: wake,
        });
      } else {
        unwatch?.();
        unwatch = undefined;
      }
    },
    hold: () => stored || !isOnline() || (o.pauseWhenHidden && isHidden()),
  };
}
