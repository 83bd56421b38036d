/* global ECHO, assert_equals, assert_throws_js, async_test, closeSoon, test */
// Models websockets/interfaces/WebSocket/send/ (no argument, undefined, after close, while closing).
test((t) => {
  const ws = new WebSocket(ECHO);
  t.add_cleanup(() => closeSoon(ws));
  assert_throws_js(TypeError, () => ws.send());
}, 'send() without an argument throws TypeError');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => ws.send(undefined));
  ws.onmessage = t.step_func_done((e) => {
    assert_equals(e.data, 'undefined');
    ws.close();
  });
}, 'send(undefined) sends the text "undefined"');
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func(() => {
    ws.close();
    ws.send('while closing');
  });
  ws.onclose = t.step_func_done(() => ws.send('in onclose'));
}, 'send() while closing and in onclose does not throw');
