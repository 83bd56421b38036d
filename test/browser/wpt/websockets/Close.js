/* global ECHO, assert_equals, assert_throws_dom, assert_true, async_test, closeSoon, test */
// Models websockets/Close-1000.any.js, Close-1000-reason.any.js, Close-undefined.any.js,
// Close-Reason-124Bytes.any.js, Close-reason-unpaired-surrogates.any.js and the
// Secure-Close-1000-verify-code, -1005-verify-code, -3000-verify-code, -readyState-Closed,
// -readyState-Closing and -server-initiated-close files (over ws:).
const closeWith = (args, check, name) =>
  async_test((t) => {
    const ws = new WebSocket(ECHO);
    ws.onopen = t.step_func(() => ws.close(...args));
    ws.onclose = t.step_func_done((e) => check(e, ws));
  }, name);
closeWith([1000], (e) => {
  assert_equals(e.code, 1000);
  assert_true(e.wasClean);
}, 'close(1000): clean, code 1000');
closeWith([1000, 'Clean Close'], (e) => {
  assert_equals(e.code, 1000);
  assert_equals(e.reason, 'Clean Close');
}, 'close(1000, reason): the reason comes back');
closeWith([3000], (e) => assert_equals(e.code, 3000), 'close(3000): code 3000');
closeWith([4999, 'x'], (e) => assert_equals(e.code, 4999), 'close(4999, reason): code 4999');
closeWith([], (e) => {
  assert_equals(e.code, 1005);
  assert_true(e.wasClean);
}, 'close(): no status code, so 1005');
closeWith([undefined], (e) => assert_equals(e.code, 1005), 'close(undefined) does not throw and sends no code');
closeWith([1000, 'a\uDC00b'], (e) => assert_equals(e.reason, 'a\uFFFDb'), 'an unpaired surrogate in the reason becomes U+FFFD');
closeWith([], (e, ws) => assert_equals(ws.readyState, 3), 'readyState is CLOSED in onclose');
test((t) => {
  const ws = new WebSocket(ECHO);
  t.add_cleanup(() => closeSoon(ws));
  assert_throws_dom('SyntaxError', () => ws.close(1000, 'x'.repeat(124)));
}, 'a reason of 124 bytes throws SyntaxError');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => {
    ws.close();
    assert_equals(ws.readyState, 2, 'CLOSING at once');
  });
  ws.onclose = t.step_func_done();
}, 'close() while open: readyState is CLOSING right after');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => ws.send('Goodbye'));
  ws.onclose = t.step_func_done((e) => {
    assert_equals(e.code, 1000);
    assert_true(e.wasClean);
    assert_equals(ws.readyState, 3);
  });
}, 'a server-initiated close is clean');
