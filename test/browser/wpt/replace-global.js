// Runs the WPT-style files against the library: `WebSocket` becomes a subclass that passes
// reconnect: false and the native constructor, so one failed connection ends like a native one.
(() => {
  'use strict';
  const Native = window.WebSocket;
  const Base = ResilientWS.ResilientWebSocket;
  const options = () => ({ reconnect: false, WebSocket: Native });
  class WebSocket extends Base {
    constructor(...args) {
      // No argument at all must stay "no argument" (a TypeError), not become (undefined, undefined).
      if (args.length === 0) super();
      else super(args[0], args[1], options());
    }
  }
  window.NativeWebSocket = Native;
  window.WebSocket = WebSocket;
})();
