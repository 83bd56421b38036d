/* global ECHO, assert_equals, assert_false, assert_throws_js, async_test, closeSoon, test */
// Models websockets/interfaces/WebSocket/url/ and readyState/: values and read-only attributes.
test(() => {
  const ws = new WebSocket(ECHO);
  assert_equals(ws.url, ECHO);
  assert_throws_js(TypeError, () => {
    'use strict';
    ws.url = 'ws://elsewhere/';
  });
  assert_equals(ws.url, ECHO, 'after an assignment');
  closeSoon(ws);
}, 'url is the resolved URL and read-only');
test(() => {
  const ws = new WebSocket(ECHO);
  assert_equals(ws.readyState, 0);
  assert_throws_js(TypeError, () => {
    'use strict';
    ws.readyState = 3;
  });
  assert_equals(ws.readyState, 0, 'after an assignment');
  closeSoon(ws);
}, 'readyState is CONNECTING at first and read-only');
test(() => {
  const ws = new WebSocket(ECHO);
  assert_false(Object.prototype.hasOwnProperty.call(ws, 'readyState'), 'an own property');
  assert_equals(Object.prototype.toString.call(ws), '[object WebSocket]');
  closeSoon(ws);
}, 'attributes live on the prototype; the class string is WebSocket');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func_done(() => {
    assert_equals(ws.readyState, 1);
    assert_equals(typeof ws.extensions, 'string');
    ws.close();
  });
}, 'readyState is OPEN in onopen');
