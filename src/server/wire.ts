// The rws.v1 envelope, server side (Node Buffers). The client plug-in (src/reliable.ts) has its
// own small copy for strings and ArrayBuffers, so its bundle stays free of Node code. Headers are
// ASCII in text and binary frames alike, so each side has one parser; the format
// is documented in README.md ("End-to-end delivery") and the two are tested against each other.

/** The subprotocol that turns the envelope on. */
export const PROTOCOL = 'rws.v1';

/**
 * The subprotocol that multiplexes several rws.v1 sessions on one connection (the leader tab of
 * `resilient-ws/tabs` carrying every tab's session): each frame is in a lane, `\x0e` + lane + `:`
 * + a complete v1 frame. Offered ahead of the v1 names, picked only when `attach({ lanes })` is on.
 *
 * @example
 * ```ts
 * import { PROTOCOL_LANES } from 'resilient-ws/server';
 * wss.on('connection', (socket) => console.log(socket.protocol.startsWith(PROTOCOL_LANES) ? 'tabs leader' : 'one session'));
 * ```
 */
export const PROTOCOL_LANES = 'rws.v2';

/** First byte of every envelope. Control characters: an app's text frame rarely starts with one. */
export const enum Kind {
  Hello = 0x01,
  Welcome = 0x02,
  Data = 0x03,
  DataAck = 0x04,
  Ack = 0x05,
  Plain = 0x06,
  Topic = 0x07,
  TopicInfo = 0x08,
  /** rws.v2: a v1 frame in a lane (both directions). */
  Lane = 0x0e,
  /** rws.v2: a lane ends (client: the tab left; server: the lane was closed with a code). */
  LaneClose = 0x0f,
}

/** The largest number on the wire: 11 base-36 digits hold it. */
const MAX = Number.MAX_SAFE_INTEGER;
const COLON = 0x3a;
const COMMA = 0x2c;

export type Frame =
  | { k: 'hello'; json: string }
  | { k: 'data'; seq: number; ack: number | undefined; payload: Buffer }
  | { k: 'ack'; ack: number }
  | { k: 'plain'; payload: Buffer }
  | { k: 'bad'; why: string };

/** A base-36 number of at most 11 digits, strictly: `parseInt` would accept "12xyz". */
function base36(buf: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 11) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x7a ? c - 0x57 : -1;
    if (d < 0) return -1;
    n = n * 36 + d;
  }
  return n <= MAX ? n : -1;
}

/**
 * Reads one client frame. A frame whose first byte is no envelope kind is `plain`: a frame the
 * client sent past the plug-in (a heartbeat ping, an auth message), delivered unnumbered.
 */
export function decode(buf: Buffer, binary: boolean): Frame {
  const kind = buf[0];
  if (kind === undefined || kind > Kind.TopicInfo || kind === 0) return { k: 'plain', payload: buf };
  if (kind === Kind.Plain) return { k: 'plain', payload: buf.subarray(1) };
  if (kind === Kind.Hello) return binary ? { k: 'bad', why: 'binary hello' } : { k: 'hello', json: buf.toString('utf8', 1) };
  if (kind === Kind.Ack) {
    if (binary) return { k: 'bad', why: 'binary ack' };
    const ack = base36(buf, 1, buf.length);
    return ack < 0 ? { k: 'bad', why: 'bad ack' } : { k: 'ack', ack };
  }
  if (kind !== Kind.Data && kind !== Kind.DataAck) return { k: 'bad', why: 'unexpected frame kind' };
  // The same ASCII header for text and binary frames: one parser on each side.
  const colon = buf.indexOf(COLON, 1);
  if (colon < 0 || colon > 24) return { k: 'bad', why: 'bad data header' };
  const comma = kind === Kind.DataAck ? buf.indexOf(COMMA, 1) : -1;
  if (kind === Kind.DataAck && (comma < 0 || comma > colon)) return { k: 'bad', why: 'bad data header' };
  const seq = base36(buf, 1, comma < 0 ? colon : comma);
  const ack = comma < 0 ? undefined : base36(buf, comma + 1, colon);
  if (seq < 1) return { k: 'bad', why: 'bad sequence number' };
  if (ack !== undefined && ack < 0) return { k: 'bad', why: 'bad ack' };
  return { k: 'data', seq, ack, payload: buf.subarray(colon + 1) };
}

/** A numbered message: `\x03seq:` (base 36) then the payload, for text and binary frames alike. */
export function encodeData(seq: number, data: Uint8Array): Buffer {
  const head = `\x03${seq.toString(36)}:`;
  const out = Buffer.allocUnsafe(head.length + data.byteLength);
  out.write(head, 0, 'latin1');
  out.set(data, head.length);
  return out;
}

/** A topic message: `\x07offset,topic:` then the payload. */
export function encodeTopic(offset: number, topic: string, data: Uint8Array): Buffer {
  const head = `\x07${offset.toString(36)},${topic}:`;
  const out = Buffer.allocUnsafe(head.length + data.byteLength);
  out.write(head, 0, 'latin1');
  out.set(data, head.length);
  return out;
}

/** A cumulative acknowledgement. */
export const encodeAck = (ack: number): string => `\x05${ack.toString(36)}`;

/** An unnumbered message (volatile: never buffered or re-sent). */
export const encodePlain = (data: Uint8Array): Buffer => Buffer.concat([Buffer.from([Kind.Plain]), data]);

/** A JSON control frame (welcome, topic info). */
export const encodeJson = (kind: Kind.Welcome | Kind.TopicInfo, value: object): string => String.fromCharCode(kind) + JSON.stringify(value);

/** Topic names: printable ASCII without `,` and `:` (they delimit the text header), 1–200 chars. */
export const TOPIC_NAME = /^[!-+\--9;-~]{1,200}$/;

/** What arrives on an rws.v2 connection: a v1 frame in a lane, a lane the client left, or garbage. */
export type LaneFrame = { k: 'lane'; lane: string; frame: Buffer } | { k: 'leave'; lane: string } | { k: 'bad'; why: string };

/** Lane ids are opaque keys of 1–11 chars in [0-9a-z] (the client draws random base-36 ids). */
function laneId(buf: Buffer, from: number, to: number): string | undefined {
  if (to <= from || to - from > 11) return undefined;
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a))) return undefined;
  }
  return buf.toString('latin1', from, to);
}

/** Reads one client frame of an rws.v2 connection. The lane header is ASCII in text and binary frames alike. */
export function decodeLane(buf: Buffer, binary: boolean): LaneFrame {
  if (buf[0] === Kind.Lane) {
    // The colon ends a header of at most 11 lane chars, so look no further than byte 12.
    const colon = buf.subarray(0, 13).indexOf(COLON, 1);
    const lane = colon < 0 ? undefined : laneId(buf, 1, colon);
    return lane === undefined ? { k: 'bad', why: 'bad lane' } : { k: 'lane', lane, frame: buf.subarray(colon + 1) };
  }
  if (buf[0] === Kind.LaneClose && !binary) {
    const lane = laneId(buf, 1, buf.length);
    return lane === undefined ? { k: 'bad', why: 'bad lane' } : { k: 'leave', lane };
  }
  return { k: 'bad', why: 'frame outside a lane' };
}

/** Puts a v1 frame in a lane: a text frame stays a string, a binary one a Buffer. */
export function encodeLane(lane: string, frame: string | Buffer): string | Buffer {
  const head = `\x0e${lane}:`;
  if (typeof frame === 'string') return head + frame;
  const out = Buffer.allocUnsafe(head.length + frame.byteLength);
  out.write(head, 0, 'latin1');
  out.set(frame, head.length);
  return out;
}

/** The server closed a lane: `\x0f` + lane + `,` + code + `,` + reason (text; the code in decimal). */
export const encodeLaneClose = (lane: string, code: number, reason: string): string => `\x0f${lane},${code},${reason}`;
