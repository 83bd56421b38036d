import { AUTH_DEFAULTS, tokenAuth, type AuthOptions } from './auth.js';
import { missingUrl, ResilientWebSocket as Core, shape } from './client.js';
import type { IncomingData, WireData } from './codec.js';
import { invalid } from './errors.js';
import { heartbeat, HEARTBEAT_DEFAULTS, type HeartbeatOptions } from './heartbeat.js';
import { bool, check, CORE_DEFAULTS, plugin, type BaseOptions, type CoreOptions, type ProtocolsProvider, type UrlProvider } from './options.js';
import { pageLife } from './page.js';
import type { Plugin } from './plugin.js';

/**
 * Everything `new ResilientWebSocket(url, protocols, options)` of the `resilient-ws` entry
 * accepts: the core options, and the features as v1 option objects (or as plug-ins).
 */
export interface Options<TSend = WireData, TReceive = IncomingData> extends BaseOptions<TSend, TReceive> {
  /** Token authentication (`tokenAuth()` built from these options, or a plug-in). Off unless given. */
  auth?: AuthOptions | Plugin;
  /** Application-level heartbeat (`heartbeat()` built from these options, or a plug-in). Off unless given. */
  heartbeat?: HeartbeatOptions | Plugin | false;
  /** Page-life handling; on by default (`pageLife({ pauseWhenHidden })`), `false` to leave it out. */
  page?: Plugin | false;
  /** Stop retrying while the page is hidden; try at once when it is visible again. @default false */
  pauseWhenHidden?: boolean;
}

/**
 * Every default in one place; the README table is checked against it by a test.
 *
 * @example
 * ```ts
 * new ResilientWebSocket(url, [], { reconnect: { maxDelay: DEFAULTS.reconnect.maxDelay * 2 } });
 * ```
 */
export const DEFAULTS = {
  ...CORE_DEFAULTS,
  auth: AUTH_DEFAULTS,
  heartbeat: HEARTBEAT_DEFAULTS,
  pauseWhenHidden: false,
} as const;


const isPlugin = (v: unknown): v is Plugin => {
  try {
    plugin('', v);
    return true;
  } catch {
    return false;
  }
};

/** v1 option objects → plug-ins; the core checks everything else. */
function toCore(options: unknown): CoreOptions<never, never> | undefined {
  // No options (undefined or null, as the core takes them) still means every feature built in.
  if (options == null) options = {};
  // Not an options object (an array included): the core names what is wrong with it.
  if (typeof options !== 'object' || Array.isArray(options)) return options as undefined;
  // Also inside the groups: `reconnect: { maxReconnectionDelay }` is the same migration slip.
  const o = options as Record<string, unknown>;
  for (const [prefix, given] of [['', o], ['reconnect.', o.reconnect], ['queue.', o.queue], ['auth.', o.auth], ['heartbeat.', o.heartbeat]] as const) {
    if (typeof given !== 'object' || given === null) continue;
    for (const key of Object.keys(given)) {
      const to = RENAMED[key];
      // `reconnect.maxRetries` is the new home of the top-level `maxRetries`, not a slip.
      if (to && to !== prefix + key) throw invalid('INVALID_OPTION', `options.${prefix}${key} was renamed: use ${to}`);
    }
  }
  const { auth, heartbeat: hb, page, pauseWhenHidden, ...rest } = options as Options<unknown, unknown>;
  if (pauseWhenHidden !== undefined) check('options.pauseWhenHidden', pauseWhenHidden, bool);
  return {
    ...rest,
    auth: auth === undefined || isPlugin(auth) ? auth : tokenAuth(auth),
    heartbeat: hb === undefined || hb === false || isPlugin(hb) ? hb : heartbeat(hb),
    page: page === undefined ? pageLife({ pauseWhenHidden }) : page,
  } as CoreOptions<never, never>;
}

/**
 * A drop-in `WebSocket` that reconnects with backoff and jitter, queues what it cannot send
 * yet, negotiates subprotocols, authenticates with a refreshable token, finds dead links and
 * follows the page's life. Every feature is here; `resilient-ws/core` has the same class with
 * features as opt-in plug-ins.
 *
 * @typeParam TSend - what `send()` takes (wire data, or what the codec encodes).
 * @typeParam TReceive - what `message` delivers (wire data, or what the codec decodes).
 *
 * @example
 * ```ts
 * const ws = new ResilientWebSocket('wss://example.com/chat', ['chat.v1'], {
 *   auth: { token: () => getToken(), via: 'message' },
 *   heartbeat: { interval: 25_000, timeout: 10_000 },
 * });
 * ws.on('message', ({ data }) => console.log(data));
 * ```
 */
export class ResilientWebSocket<TSend = WireData, TReceive = IncomingData> extends Core<TSend, TReceive> {
  /**
   * Connects at once, like the native constructor (or on the first subscriber with `lazy`),
   * and keeps reconnecting until `close()`.
   *
   * @param url - `ws:`, `wss:`, `http(s):` or page-relative URL, or a (sync or async) function
   *   asked before every attempt.
   * @param protocols - subprotocols to offer, or a function asked before every attempt.
   * @param options - see {@link Options}; validated at once (`INVALID_OPTION`).
   *
   * @example
   * ```ts
   * const ws = new ResilientWebSocket('/ws', 'v1.chat', { auth: { token: 'abc', via: 'protocol' } });
   * ```
   */
  constructor(url: UrlProvider, protocols?: ProtocolsProvider, options?: Options<TSend, TReceive>);
  constructor(url: UrlProvider, ...rest: [ProtocolsProvider?, Options<TSend, TReceive>?]) {
    if (!arguments.length) throw missingUrl();
    super(url, rest[0], toCore(rest[1]) as CoreOptions<TSend, TReceive>);
  }
}

function shaped<T>(cls: unknown, value: T): T {
  shape(cls as typeof Core);
  return value;
}

// Names from reconnecting-websocket and partysocket, so a migration gets a pointer, not a shrug.
// Built by the same pure call that gives the class its own native constants: read by every
// construction, so the call stays exactly when the class does.
const RENAMED: Readonly<Record<string, string>> = /* @__PURE__ */ shaped(ResilientWebSocket, {
  minReconnectionDelay: 'reconnect.minDelay',
  maxReconnectionDelay: 'reconnect.maxDelay',
  reconnectionDelayGrowFactor: 'reconnect.factor',
  minUptime: 'reconnect.stableAfter',
  connectionTimeout: 'reconnect.connectTimeout',
  maxRetries: 'reconnect.maxRetries',
  maxEnqueuedMessages: 'queue.maxMessages',
  startClosed: 'lazy: true (connect on the first subscriber), or close() right after construction, then reconnect()',
  debug: "nothing: subscribe with ws.on('statechange', …) instead",
});

