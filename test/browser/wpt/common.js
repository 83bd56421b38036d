// What the test files share: the endpoints of test/browser/fixtures/conformance-server.ts, on the
// page's own origin, and a helper that closes a socket whatever it is doing.
(() => {
  'use strict';
  window.WS_BASE = 'ws://' + location.host;
  window.ECHO = window.WS_BASE + '/echo';
  window.closeSoon = (ws) => {
    try {
      ws.close();
    } catch {
      /* never built or already closed */
    }
  };
})();
