/* global ECHO, assert_throws_dom, closeSoon, test */
// Models websockets/close-invalid.any.js: close codes other than 1000 and 3000-4999 throw.
for (const [code, label] of [
  [0, '0'],
  [500, '500'],
  [NaN, 'NaN'],
  ['string', 'a string'],
  [null, 'null'],
  [0x10000 + 1000, '2**16+1000'],
]) {
  test((t) => {
    const ws = new WebSocket(ECHO);
    t.add_cleanup(() => closeSoon(ws));
    assert_throws_dom('InvalidAccessError', () => ws.close(code));
  }, `close(${label}) throws InvalidAccessError`);
}
