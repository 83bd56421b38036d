/* global assert_equals, assert_true, async_test, closeSoon, test */
// Models websockets/Create-valid-url-relative.tentative.any.js and Create-http-urls.any.js:
// relative and http(s) URLs resolve against the page and become ws(s) URLs.
async_test((t) => {
  const ws = new WebSocket('/echo');
  let opened = false;
  ws.addEventListener('open', t.step_func(() => {
    assert_equals(ws.readyState, 1, 'readyState in open');
    opened = true;
    ws.close();
  }));
  ws.addEventListener('close', t.step_func_done((e) => {
    assert_true(opened, 'opened first');
    assert_true(e.wasClean, 'wasClean');
  }));
}, 'a relative URL opens and closes cleanly');
test(() => {
  const http = new URL('/', location.href);
  const ws = new WebSocket(http.href);
  assert_equals(ws.url, 'ws://' + location.host + '/');
  closeSoon(ws);
  http.protocol = 'https';
  const wss = new WebSocket(http.href);
  assert_equals(wss.url, 'wss://' + location.host + '/');
  closeSoon(wss);
}, 'http: and https: URLs become ws: and wss:');
test(() => {
  const ws = new WebSocket('echo?relative-to-the-page');
  assert_equals(ws.url, 'ws://' + location.host + location.pathname.replace(/[^/]*$/, '') + 'echo?relative-to-the-page');
  closeSoon(ws);
}, 'a path-relative URL resolves against the page');
