/* global ECHO, WS_BASE, assert_array_equals, assert_equals, assert_false, assert_true, async_test */
// Models websockets/interfaces/WebSocket/events/018.html (event classes, bubbles, cancelable)
// and the error-then-close order of a failed connection (events/ and the close/ tests).
async_test((t) => {
  const ws = new WebSocket(WS_BASE + '/bad-frame');
  const kinds = [];
  const look = (e) => {
    kinds.push(e.type);
    assert_false(e.bubbles, e.type + ' bubbles');
    assert_false(e.cancelable, e.type + ' cancelable');
  };
  ws.addEventListener('open', t.step_func((e) => {
    look(e);
    assert_equals(String(e), '[object Event]');
    ws.send('echo me, then a bad frame');
  }));
  ws.addEventListener('error', t.step_func((e) => {
    look(e);
    assert_equals(String(e), '[object Event]');
    assert_equals(ws.readyState, 3, 'readyState in error');
  }));
  ws.addEventListener('close', t.step_func_done((e) => {
    look(e);
    assert_equals(String(e), '[object CloseEvent]');
    assert_array_equals(kinds, ['open', 'error', 'close']);
    assert_equals(e.code, 1006);
  }));
}, 'open, error and close events: classes, bubbles, cancelable, order');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = () => ws.send('hi');
  ws.onmessage = t.step_func_done((e) => {
    assert_true(e instanceof MessageEvent, 'a MessageEvent');
    assert_equals(String(e), '[object MessageEvent]');
    assert_equals(e.origin, WS_BASE, 'origin');
    assert_false(e.bubbles);
    ws.close();
  });
}, 'message events are MessageEvents with the socket origin');
async_test((t) => {
  const ws = new WebSocket(WS_BASE + '/reject');
  const seen = [];
  ws.onerror = t.step_func(() => seen.push('error:' + ws.readyState));
  ws.onclose = t.step_func_done((e) => {
    seen.push('close');
    assert_array_equals(seen, ['error:3', 'close']);
    assert_equals(e.code, 1006);
    assert_false(e.wasClean);
  });
}, 'a refused handshake: error with readyState CLOSED, then close 1006');
