// byteLength must count what the browser counts in bufferedAmount (UTF-8 bytes, Blob size,
// byteLength of buffers and views), and jsonCodec must round-trip JSON over text frames.
import { describe, expect, it } from 'vitest';
import { byteLength, jsonCodec } from '../../src/codec.js';
import { seededRandom } from '../support/random.js';

const utf8 = (s: string): number => new TextEncoder().encode(s).length;

describe('byteLength of strings', () => {
  it.each([
    { name: 'empty', s: '', bytes: 0 },
    { name: 'ASCII', s: 'hello', bytes: 5 },
    { name: '2-byte (é, U+07FF)', s: 'é\u07ff', bytes: 4 },
    { name: '3-byte (€, U+0800, U+FFFF)', s: '€\u0800\uffff', bytes: 9 },
    { name: 'astral (surrogate pair)', s: '👋', bytes: 4 },
    { name: 'two astral in a row', s: '😀😀', bytes: 8 },
    { name: 'lone high surrogate', s: '\ud83d', bytes: 3 },
    { name: 'lone low surrogate', s: '\udc4b', bytes: 3 },
    { name: 'high surrogate at the end', s: 'a\ud83d', bytes: 4 },
    { name: 'two high surrogates then a low', s: '\ud83d\ud83d\udc4b', bytes: 7 },
    { name: 'low then high (reversed pair)', s: '\udc4b\ud83d', bytes: 6 },
    { name: 'NUL and U+007F', s: '\u0000\u007f', bytes: 2 },
    { name: 'mixed', s: 'héllo ✓ 👋', bytes: 15 },
  ])('$name: $bytes bytes, as TextEncoder counts', ({ s, bytes }) => {
    expect(utf8(s)).toBe(bytes);
    expect(byteLength(s)).toBe(bytes);
  });

  it('matches TextEncoder on 2000 random strings (incl. lone surrogates)', () => {
    const random = seededRandom(0x5eed);
    // Weighted toward the edges of each UTF-8 length class and toward surrogates.
    const pools = [
      () => Math.floor(random() * 0x80),
      () => 0x80 + Math.floor(random() * (0x800 - 0x80)),
      () => 0x800 + Math.floor(random() * (0xd800 - 0x800)),
      () => 0xd800 + Math.floor(random() * 0x400),
      () => 0xdc00 + Math.floor(random() * 0x400),
      () => 0xe000 + Math.floor(random() * 0x2000),
      () => [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff][Math.floor(random() * 11)]!,
    ];
    for (let n = 0; n < 2000; n++) {
      const units = Array.from({ length: Math.floor(random() * 40) }, () => pools[Math.floor(random() * pools.length)]!());
      const s = String.fromCharCode(...units);
      if (byteLength(s) !== utf8(s)) {
        expect({ units: units.map((u) => u.toString(16)), bytes: byteLength(s) }).toEqual({ units: units.map((u) => u.toString(16)), bytes: utf8(s) });
      }
    }
    expect(byteLength('x'.repeat(1 << 20))).toBe(1 << 20);
  });
});

describe('byteLength of binary data', () => {
  const buf = new ArrayBuffer(16);
  it.each([
    { name: 'ArrayBuffer', data: buf, bytes: 16 },
    { name: 'empty ArrayBuffer', data: new ArrayBuffer(0), bytes: 0 },
    { name: 'Uint8Array view with offset', data: new Uint8Array(buf, 4, 6), bytes: 6 },
    { name: 'Uint32Array view (elements × 4)', data: new Uint32Array(buf, 8, 2), bytes: 8 },
    { name: 'Float64Array', data: new Float64Array(3), bytes: 24 },
    { name: 'DataView', data: new DataView(buf, 1, 5), bytes: 5 },
    { name: 'Node Buffer (a Uint8Array)', data: Buffer.from('héllo'), bytes: 6 },
    { name: 'SharedArrayBuffer', data: new SharedArrayBuffer(7), bytes: 7 },
  ])('$name: $bytes bytes', ({ data, bytes }) => {
    expect(byteLength(data)).toBe(bytes);
  });

  it.each([
    { name: 'text Blob (UTF-8 encoded)', blob: new Blob(['👋é']), bytes: 6 },
    { name: 'Blob of parts', blob: new Blob([new Uint8Array(10), 'abc', new Blob(['xy'])]), bytes: 15 },
    { name: 'empty Blob', blob: new Blob([]), bytes: 0 },
  ])('$name: its size, $bytes bytes', ({ blob, bytes }) => {
    expect(blob.size).toBe(bytes);
    expect(byteLength(blob)).toBe(bytes);
  });
});

describe('jsonCodec', () => {
  it.each([{ a: 1, b: ['x', null, true] }, 'text', 42, null, [], { nested: { emoji: '👋' } }])('round-trips %j', (value) => {
    const wire = jsonCodec.encode(value);
    expect(typeof wire).toBe('string');
    expect(jsonCodec.decode(wire as string)).toEqual(value);
  });

  it('encodes to the JSON text', () => {
    expect(jsonCodec.encode({ type: 'hello', n: 1 })).toBe('{"type":"hello","n":1}');
  });

  it.each([
    { name: 'ArrayBuffer', data: new ArrayBuffer(2) },
    { name: 'Blob', data: new Blob(['{}']) },
  ])('rejects a binary frame ($name) with a TypeError', ({ data }) => {
    expect(() => jsonCodec.decode(data)).toThrow(TypeError);
  });

  it('rejects malformed JSON text with a SyntaxError', () => {
    expect(() => jsonCodec.decode('{nope')).toThrow(SyntaxError);
  });
});
