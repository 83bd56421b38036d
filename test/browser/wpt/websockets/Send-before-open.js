/* global ECHO, assert_throws_dom, closeSoon, test */
// Models websockets/Send-before-open.any.js: send() while CONNECTING throws InvalidStateError.
// The library queues instead: a documented, deliberate difference.
test((t) => {
  const ws = new WebSocket(ECHO);
  t.add_cleanup(() => closeSoon(ws));
  assert_throws_dom('InvalidStateError', () => ws.send('too early'));
}, 'send() while connecting throws InvalidStateError');
