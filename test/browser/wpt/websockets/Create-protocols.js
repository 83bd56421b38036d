/* global ECHO, assert_throws_dom, test */
// Models websockets/Create-protocols-repeated.any.js, Create-protocol-with-space.any.js,
// Create-nonAscii-protocol-string.any.js and Create-asciiSep-protocol-string.any.js.
for (const [label, protocols] of [
  ['a repeated protocol', ['echo', 'echo']],
  ['a protocol with a space', 'ec ho'],
  ['a non-ASCII protocol', 'echo\u00e9'],
  ['a protocol with an ASCII separator', 'ec,ho'],
  ['an empty protocol', ''],
]) {
  test(() => {
    assert_throws_dom('SyntaxError', () => new WebSocket(ECHO, protocols));
  }, `${label} throws SyntaxError`);
}
