// lanes() from resilient-ws/reliable: what the leader tab offers, what each tab is shown of
// the server's pick, and the lane envelope in both directions (the server side is tested
// against the companion in test/node/reliable-lanes.test.ts).
import { describe, expect, it } from 'vitest';
import { lanes } from '../../src/reliable.js';

const bytes = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);
const text = (b: ArrayBuffer | Uint8Array): string => new TextDecoder().decode(b);

describe('lanes()', () => {
  const l = lanes();

  it('offers rws.v2 names in front, only for the rws.v1 names a tab asked for', () => {
    expect(l.offer(['chat', 'rws.v1.chat', 'rws.v1'])).toEqual(['rws.v2.chat', 'rws.v2', 'chat', 'rws.v1.chat', 'rws.v1']);
    expect(l.offer(['chat'])).toEqual(['chat']);
    expect(l.offer([])).toEqual([]);
    expect(l.offer()).toEqual([]);
    // Not an rws name, though it starts like one.
    expect(l.offer(['rws.v1x'])).toEqual(['rws.v1x']);
  });

  it('shows every tab rws.v1 when the server picked lanes; with a v1 pick only the leader’s tab speaks it', () => {
    expect(l.accept('rws.v2.chat')).toEqual(['rws.v1.chat', 'rws.v1.chat', 1]);
    expect(l.accept('rws.v2')).toEqual(['rws.v1', 'rws.v1', 1]);
    expect(l.accept('rws.v1.chat')).toEqual(['rws.v1.chat', 'chat']);
    expect(l.accept('rws.v1')).toEqual(['rws.v1', '']);
    expect(l.accept('chat')).toEqual(['chat', 'chat']);
    expect(l.accept('')).toEqual(['', '']);
  });

  it('puts a frame in its lane: text stays text, bytes stay bytes, a Blob stays a Blob', async () => {
    expect(l.out('k3', '\x03a:hi')).toBe('\x0ek3:\x03a:hi');
    const b = l.out('k3', bytes('\x03a:bin').buffer);
    expect(b).toBeInstanceOf(Uint8Array);
    expect(text(b as Uint8Array)).toBe('\x0ek3:\x03a:bin');
    // A view with an offset: only its own bytes.
    const view = bytes('xx\x06yy').subarray(2, 4);
    expect(text(l.out('z', view) as Uint8Array)).toBe('\x0ez:\x06y');
    const blob = l.out('q', new Blob(['\x06p']));
    expect(blob).toBeInstanceOf(Blob);
    expect(await (blob as Blob).text()).toBe('\x0eq:\x06p');
  });

  it('ends a lane with no frame', () => {
    expect(l.out('k3', undefined)).toBe('\x0fk3');
  });

  it('reads a frame’s lane, a lane’s close, and leaves frames in no lane alone', () => {
    expect(l.in('\x0ek3:\x03a:hi')).toEqual(['\x03a:hi', 'k3']);
    const [frame, lane] = l.in(bytes('\x0eab:\x03b:bin').buffer)!;
    expect(lane).toBe('ab');
    expect(frame).toBeInstanceOf(ArrayBuffer);
    expect(text(frame as ArrayBuffer)).toBe('\x03b:bin');
    expect(l.in('\x0fk3,4492,rws: expected hello')).toEqual([undefined, 'k3', { code: 4492, reason: 'rws: expected hello', wasClean: true }]);
    // A reason may hold commas.
    expect(l.in('\x0fk3,1008,a,b')![2]).toEqual({ code: 1008, reason: 'a,b', wasClean: true });
    expect(l.in('plain text')).toBeUndefined();
    expect(l.in('')).toBeUndefined();
    expect(l.in(new ArrayBuffer(0))).toBeUndefined();
  });
});
