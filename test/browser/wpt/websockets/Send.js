/* global ECHO, assert_array_equals, assert_equals, assert_true, async_test */
// Models websockets/Send-data.any.js, Send-0byte-data, Send-65K-data, Send-null,
// Send-unicode-data, Send-paired-surrogates, Send-Unpaired-Surrogates, Send-binary-arraybuffer,
// Send-binary-65K-arraybuffer, Send-binary-arraybufferview-int8, -int16-offset and
// Send-binary-blob: what is sent comes back from the echo server as sent.
const roundTrip = (name, payload, check, binaryType) =>
  async_test((t) => {
    const ws = new WebSocket(ECHO);
    if (binaryType) ws.binaryType = binaryType;
    ws.onopen = t.step_func(() => ws.send(payload()));
    ws.onmessage = t.step_func((e) => {
      check(e.data);
      ws.onclose = t.step_func_done();
      ws.close();
    });
    ws.onclose = t.unreached_func('closed before the echo');
  }, name);
const bytesOf = (buffer) => Array.from(new Uint8Array(buffer));
roundTrip('text', () => 'Message to send', (d) => assert_equals(d, 'Message to send'));
roundTrip('an empty string', () => '', (d) => assert_equals(d, ''));
roundTrip('65 000 characters', () => 'x'.repeat(65000), (d) => assert_equals(d.length, 65000));
roundTrip('null is sent as "null"', () => null, (d) => assert_equals(d, 'null'));
roundTrip('unicode text', () => 'Ω ✓ 👋 é', (d) => assert_equals(d, 'Ω ✓ 👋 é'));
roundTrip('a paired surrogate', () => '\uD801\uDC07', (d) => assert_equals(d, '\uD801\uDC07'));
roundTrip('an unpaired surrogate becomes U+FFFD', () => '\uD807', (d) => assert_equals(d, '\uFFFD'));
roundTrip('an ArrayBuffer', () => new Uint8Array([1, 2, 3, 250]).buffer, (d) => assert_array_equals(bytesOf(d), [1, 2, 3, 250]), 'arraybuffer');
roundTrip('an ArrayBuffer of 65 000 bytes', () => new ArrayBuffer(65000), (d) => assert_equals(d.byteLength, 65000), 'arraybuffer');
roundTrip('an Int8Array', () => new Int8Array([-1, 0, 1]), (d) => assert_array_equals(bytesOf(d), [255, 0, 1]), 'arraybuffer');
roundTrip(
  'an Int16Array view with an offset',
  () => new Int16Array(new Int16Array([1, 2, 3]).buffer, 2),
  (d) => assert_array_equals(bytesOf(d), [2, 0, 3, 0]),
  'arraybuffer',
);
roundTrip('a Blob', () => new Blob([new Uint8Array([9, 8, 7])]), (d) => assert_true(d instanceof Blob && d.size === 3, 'a Blob of 3 bytes'));
async_test((t) => {
  const ws = new WebSocket(ECHO);
  ws.onopen = t.step_func_done(() => {
    const data = 'twelve bytes';
    ws.send(data);
    assert_equals(ws.bufferedAmount <= data.length, true, 'bufferedAmount is at most what was sent');
    ws.close();
  });
}, 'bufferedAmount after send() counts at most the bytes sent');
