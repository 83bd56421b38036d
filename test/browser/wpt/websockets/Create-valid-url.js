/* global ECHO, WS_BASE, assert_equals, assert_false, assert_true, async_test, closeSoon, test */
// Models websockets/Create-valid-url.any.js, Create-valid-url-protocol.any.js,
// Create-valid-url-array-protocols.any.js, Create-valid-url-protocol-empty.any.js and
// Create-verify-url-set-non-default-port.any.js.
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => {
    assert_equals(ws.readyState, 1);
    ws.close();
  });
  ws.onclose = t.step_func_done((e) => assert_true(e.wasClean, 'wasClean'));
}, 'a valid URL opens, then closes cleanly');
async_test((t) => {
  const ws = new WebSocket(ECHO, 'echo');
  ws.onopen = t.step_func_done(() => {
    assert_equals(ws.protocol, 'echo');
    ws.close();
  });
}, 'a single protocol is reported once open');
async_test((t) => {
  const ws = new WebSocket(ECHO, ['echo', 'chat']);
  ws.onopen = t.step_func_done(() => {
    assert_equals(ws.protocol, 'echo');
    ws.close();
  });
}, 'an array of protocols: the selected one is reported');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  assert_equals(ws.protocol, '', 'before open');
  ws.onopen = t.step_func_done(() => {
    assert_equals(ws.protocol, '', 'after open');
    ws.close();
  });
}, 'no protocol: protocol is the empty string');
test(() => {
  const ws = new WebSocket(ECHO);
  assert_equals(ws.url, ECHO);
  assert_true(ws.url.includes(':' + location.port + '/'), 'the port is kept');
  closeSoon(ws);
}, 'url keeps a non-default port');
async_test((t) => {
  const ws = new WebSocket(WS_BASE + '/no-protocol', 'echo');
  ws.onopen = t.unreached_func('opened although the server selected no protocol');
  ws.onclose = t.step_func_done((e) => assert_false(e.wasClean, 'wasClean'));
}, 'a server that selects none of the offered protocols fails the connection');
