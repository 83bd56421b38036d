/* global ECHO, assert_equals, closeSoon, test */
// Models websockets/eventhandlers.any.js: on* attributes treat non-callable values as null.
for (const type of ['open', 'error', 'close', 'message']) {
  test(() => {
    const ws = new WebSocket(ECHO);
    const key = 'on' + type;
    assert_equals(ws[key], null, 'initial value');
    ws[key] = () => undefined;
    ws[key] = 2;
    assert_equals(ws[key], null, 'after assigning a number');
    closeSoon(ws);
  }, `on${type}: a number assigned over a function reads back null`);
}
