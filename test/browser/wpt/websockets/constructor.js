/* global ECHO, assert_throws_js, assert_true, closeSoon, test */
// Models websockets/constructor.any.js: extra constructor arguments are ignored.
test(() => {
  const ws = new WebSocket(ECHO, 'echo', 'an extra argument');
  assert_true(ws instanceof WebSocket, 'instanceof WebSocket');
  closeSoon(ws);
}, 'a third constructor argument does not throw');
test(() => {
  assert_throws_js(TypeError, () => new WebSocket());
}, 'the constructor without arguments throws TypeError');
test(() => {
  assert_throws_js(TypeError, () => WebSocket(ECHO));
}, 'calling the constructor without new throws TypeError');
