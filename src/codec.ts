/** What the native `send()` accepts. */
export type WireData = string | ArrayBufferLike | Blob | ArrayBufferView;

/** What the native socket delivers in `MessageEvent.data`. */
export type IncomingData = string | ArrayBuffer | Blob;

/**
 * Turns what the application sends into wire data, and wire data back into what it receives.
 * `decode` may throw: the message is then skipped and an `error` with code `DECODE_ERROR` is
 * emitted; the connection stays up.
 *
 * @example
 * ```ts
 * const upper: Codec<string, string> = {
 *   encode: (s) => s.toUpperCase(),
 *   decode: (d) => String(d),
 * };
 * ```
 */
export interface Codec<TSend = unknown, TReceive = unknown> {
  /** Application value → what goes to the native `send()`. */
  encode(data: TSend): WireData;
  /** Native `MessageEvent.data` → application value. Throw to reject a message. */
  decode(data: IncomingData): TReceive;
}

/**
 * JSON over text frames. Binary frames fail to decode.
 *
 * @example
 * ```ts
 * const ws = new ResilientWebSocket<{ type: string }>(url, [], { codec: jsonCodec });
 * ws.send({ type: 'hello' });
 * ```
 */
export const jsonCodec: Codec<unknown, unknown> = {
  encode: (data) => JSON.stringify(data),
  decode: (data) => {
    if (typeof data !== 'string') throw new TypeError('jsonCodec: expected a text frame');
    return JSON.parse(data) as unknown;
  },
};

/**
 * The UTF-8 length of a string without encoding it, the `size` of a Blob, the `byteLength`
 * of a buffer or view: what the browser counts in `bufferedAmount`. @internal
 */
export function byteLength(data: WireData): number {
  if (typeof data === 'string') {
    let n = data.length;
    for (let i = 0; i < data.length; i++) {
      const c = data.charCodeAt(i);
      if (c < 0x80) continue;
      if (c < 0x800) n += 1;
      // A surrogate pair is 2 UTF-16 units and 4 UTF-8 bytes; a lone surrogate becomes U+FFFD (3).
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < data.length && (data.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        n += 2;
        i++;
      } else n += 2;
    }
    return n;
  }
  return 'size' in data && typeof data.size === 'number' ? data.size : (data as ArrayBufferLike).byteLength;
}
