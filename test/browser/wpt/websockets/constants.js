/* global ECHO, assert_equals, assert_false, assert_true, closeSoon, test */
// Models websockets/interfaces/WebSocket/constants/001-006.html.
const CONSTANTS = [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]];
for (const [name, value] of CONSTANTS) {
  test(() => {
    assert_equals(WebSocket[name], value, 'on the constructor');
    assert_equals(WebSocket.prototype[name], value, 'on the prototype');
    const ws = new WebSocket(ECHO);
    assert_equals(ws[name], value, 'on an instance');
    closeSoon(ws);
  }, `${name} is ${value}`);
  test(() => {
    // Walk the chain: with impl=library, WebSocket is the runner's subclass of the library.
    let d;
    for (let p = WebSocket.prototype; p && !d; p = Object.getPrototypeOf(p)) d = Object.getOwnPropertyDescriptor(p, name);
    assert_true(d !== undefined, 'found on the prototype chain');
    assert_false(d.writable, 'writable');
    assert_false(d.configurable, 'configurable');
    assert_true(d.enumerable, 'enumerable');
  }, `${name} is a read-only constant of the prototype`);
}
