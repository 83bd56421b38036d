import type { IncomingData, WireData } from './codec.js';
import { CLOSE_ABNORMAL } from './constants.js';
import { fail } from './errors.js';
import { Heartbeat } from './liveness.js';
import { fn, group, isWire, num } from './options.js';
import type { Plugin } from './plugin.js';

/** `heartbeat.*` (or `heartbeat(options)`): application-level pings that find dead links. Recommended: `{ interval: 25000, timeout: 10000 }`. */
export interface HeartbeatOptions {
  /** Send a ping after this many ms without inbound data. @default 25000 */
  interval?: number;
  /** Declare the link dead when nothing arrives this many ms after a ping. @default 10000 */
  timeout?: number;
  /** The ping, sent as it is (a string, Blob, ArrayBuffer or view). @default 'ping' */
  message?: WireData;
  /** Recognises the server's pong, which is then not emitted as `message`. @default (data) => data === 'pong' */
  isPong?: (data: IncomingData) => boolean;
}

/** @internal */
export const HEARTBEAT_DEFAULTS = {
  interval: 25_000,
  timeout: 10_000,
  message: 'ping' as WireData,
  isPong: (data: IncomingData): boolean => data === 'pong',
};

/**
 * The heartbeat as a plug-in: after `interval` ms without inbound data it sends `message`; if
 * nothing arrives within `timeout` the connection is declared dead (`HEARTBEAT_TIMEOUT`) and
 * reconnected. Elapsed time is measured, not counted in timer callbacks, so throttled
 * background timers cause no false deaths. Pongs are not emitted as `message`. Its timers run
 * only while the client is `open`.
 *
 * @example
 * ```ts
 * import { ResilientWebSocket, heartbeat } from 'resilient-ws/core';
 * const ws = new ResilientWebSocket(url, [], { heartbeat: heartbeat({ interval: 25_000, timeout: 10_000 }) });
 * ```
 */
export function heartbeat(options: HeartbeatOptions = {}): Plugin {
  const h = group('options.heartbeat', options, HEARTBEAT_DEFAULTS as Required<HeartbeatOptions>, {
    interval: num(1),
    timeout: num(1),
    message: (v) => (isWire(v) ? undefined : 'a string, Blob, ArrayBuffer or ArrayBufferView'),
    isPong: fn,
  });
  let beat: Heartbeat;
  return {
    init(host) {
      beat = new Heartbeat(
        h,
        host.now,
        () => host.control(h.message),
        () => host.lost({ code: CLOSE_ABNORMAL, reason: 'heartbeat timeout', wasClean: false }, fail('HEARTBEAT_TIMEOUT', `no data within ${h.timeout} ms of a ping`)),
      );
    },
    state: (to) => (to === 'open' ? beat.start() : beat.stop()),
    receive(raw) {
      beat.inbound();
      try {
        if (h.isPong(raw)) return null;
      } catch {
        // A throwing isPong() leaves the frame a message.
      }
    },
    check: () => beat.check(),
  };
}
