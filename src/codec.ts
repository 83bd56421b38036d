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
 * JSON over text frames. Binary frames fail to decode. `decode` is generic so that
 * `jsonCodec` fits a `Codec<TSend, TReceive>` of any message types without a cast
 * (JSON itself cannot check the shape; without type arguments the data is `unknown`).
 *
 * @example
 * ```ts
 * type Msg = { type: string };
 * const ws = new ResilientWebSocket<Msg, Msg>(url, [], { codec: jsonCodec });
 * ws.send({ type: 'hello' });
 * ```
 */
export const jsonCodec: { encode(data: unknown): WireData; decode<T = unknown>(data: IncomingData): T } = {
  encode: (data) => JSON.stringify(data),
  decode: <T>(data: IncomingData): T => {
    if (typeof data !== 'string') throw new TypeError('jsonCodec: expected a text frame');
    return JSON.parse(data) as T;
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
  if (typeof data === 'object' && data !== null) {
    if ('size' in data && typeof data.size === 'number') return data.size;
    if (typeof (data as ArrayBufferLike).byteLength === 'number') return (data as ArrayBufferLike).byteLength;
  }
  // Untyped callers may pass anything without a codec; the native send() transmits its string
  // form, so count that (a NaN here would poison the queue's byte total for good).
  return byteLength(String(data));
}
