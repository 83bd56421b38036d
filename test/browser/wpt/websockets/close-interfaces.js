/* global ECHO, WS_BASE, assert_equals, assert_false, assert_true, async_test */
// Models websockets/interfaces/WebSocket/close/close-connecting.html, close-nested.html,
// close-multiple.html and interfaces/CloseEvent/clean-close.html.
async_test((t) => {
  const ws = new WebSocket(WS_BASE + '/stall');
  ws.onopen = t.unreached_func('open');
  assert_equals(ws.readyState, 0);
  ws.close();
  assert_equals(ws.readyState, 2, 'CLOSING right after close()');
  ws.onclose = t.step_func_done((e) => {
    assert_equals(ws.readyState, 3);
    assert_false(e.wasClean, 'wasClean');
    assert_equals(e.code, 1006);
  });
}, 'close() while connecting: CLOSING, then a close event that is not clean');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  let closes = 0;
  ws.onclose = t.step_func(() => {
    closes++;
    assert_equals(ws.readyState, 3);
    ws.close();
    assert_equals(ws.readyState, 3, 'close() inside onclose changes nothing');
    // A second close event would be queued behind this check: a round trip of tasks lets it in.
    setTimeout(t.step_func_done(() => assert_equals(closes, 1, 'close events')), 0);
  });
  ws.onopen = t.step_func(() => ws.close());
}, 'close() inside onclose is a no-op');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  let closes = 0;
  ws.onopen = t.step_func(() => {
    ws.close();
    ws.close();
    ws.close(3000);
  });
  ws.onclose = t.step_func(() => {
    closes++;
    setTimeout(t.step_func_done(() => assert_equals(closes, 1, 'close events')), 0);
  });
}, 'several close() calls give one close event');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => ws.close(1000));
  ws.onclose = t.step_func_done((e) => {
    assert_true(e instanceof CloseEvent, 'a CloseEvent');
    assert_true(e.wasClean, 'wasClean');
  });
}, 'a clean close gives a CloseEvent with wasClean true');
