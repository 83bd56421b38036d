/* global ECHO, assert_equals, closeSoon, test */
// Models websockets/binaryType-wrong-value.any.js and the binaryType default.
test(() => {
  const ws = new WebSocket(ECHO);
  assert_equals(ws.binaryType, 'blob', 'default');
  ws.binaryType = 'arraybuffer';
  assert_equals(ws.binaryType, 'arraybuffer');
  ws.binaryType = 'notBlobOrArrayBuffer';
  assert_equals(ws.binaryType, 'arraybuffer', 'an invalid value is ignored');
  closeSoon(ws);
}, 'binaryType: blob by default, invalid values ignored');
