/* global WS_BASE, assert_throws_dom, test */
// Models websockets/Create-invalid-urls.any.js (the cases Chromium itself passes; it accepts a
// space in a host by percent-encoding it).
for (const [label, url] of [
  ['an ftp: URL', () => 'ftp://' + location.host + '/'],
  ['a mailto: URL', () => 'mailto:someone@example.org'],
  ['about:blank', () => 'about:blank'],
  ['an empty fragment', () => WS_BASE + '/#'],
  ['a fragment', () => WS_BASE + '/#part'],
  ['a fragment-only relative URL', () => '#part'],
]) {
  test(() => {
    assert_throws_dom('SyntaxError', () => new WebSocket(url()));
  }, `${label} throws SyntaxError`);
}
