import { byteLength, type Codec, type WireData } from './codec.js';
import { fail } from './errors.js';

/** One message the library holds: what the user sent, and its wire form. @internal */
export interface Entry {
  /** What was passed to `send()`, reported back in `drop` events. */
  readonly data: unknown;
  /** The encoded form, made by `codec` (re-encoded if another codec is active when it goes out). */
  readonly wire: WireData;
  readonly codec: Codec | undefined;
  /** Bytes as the browser counts them in `bufferedAmount`. */
  readonly bytes: number;
  /** Absolute expiry on the client clock; `Infinity` for none. */
  readonly expires: number;
  readonly beforeReady: boolean;
}

/** @internal */
export interface Limits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly overflow: 'drop-oldest' | 'drop-newest' | 'error';
}

/**
 * A byte-counted FIFO with O(1) shift (a head index, compacted now and then). Pure: it
 * decides what to drop and returns it; the client reports the drops. @internal
 */
export class Fifo {
  #items: Entry[] = [];
  #head = 0;
  #bytes = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(e: Entry): void {
    this.#items.push(e);
    this.#bytes += e.bytes;
  }

  shift(): Entry | undefined {
    const e = this.#items[this.#head];
    if (!e) return undefined;
    this.#items[this.#head++] = undefined as unknown as Entry;
    this.#bytes -= e.bytes;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }

  /** Puts `entries` (oldest first) in front of everything held. */
  unshift(entries: readonly Entry[]): void {
    if (!entries.length) return;
    this.#items = [...entries, ...this.#items.slice(this.#head)];
    this.#head = 0;
    for (const e of entries) this.#bytes += e.bytes;
  }

  /** Removes and returns, in order, the entries that match. */
  extract(match: (e: Entry) => boolean): Entry[] {
    const out: Entry[] = [];
    const keep: Entry[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i]!;
      (match(e) ? out : keep).push(e);
    }
    this.#items = keep;
    this.#head = 0;
    for (const e of out) this.#bytes -= e.bytes;
    return out;
  }

  clear(): Entry[] {
    return this.extract(() => true);
  }

  /** The earliest expiry held, `Infinity` for none. */
  nextExpiry(): number {
    let t = Infinity;
    for (let i = this.#head; i < this.#items.length; i++) t = Math.min(t, this.#items[i]!.expires);
    return t;
  }

  /**
   * Adds `e` within `limits` and returns what had to be dropped for it (possibly `e` itself).
   * With `overflow: 'error'` a full queue throws `QUEUE_FULL` and nothing changes.
   */
  offer(e: Entry, limits: Limits): Entry[] {
    if (this.length >= limits.maxMessages || this.#bytes + e.bytes > limits.maxBytes) {
      if (limits.overflow === 'error') {
        throw fail(
          'QUEUE_FULL',
          `the send queue is full (${this.length} messages, ${this.#bytes} bytes; limits queue.maxMessages ${limits.maxMessages}, queue.maxBytes ${limits.maxBytes})`,
        );
      }
      if (limits.overflow === 'drop-newest' || e.bytes > limits.maxBytes || limits.maxMessages === 0) return [e];
    }
    // `e` fits alone, so trimming the oldest never reaches it.
    this.push(e);
    return this.trim(limits);
  }

  /** Drops the oldest entries until the queue is within `limits` again (after `unshift`). */
  trim(limits: Limits): Entry[] {
    const dropped: Entry[] = [];
    while (this.length && (this.length > limits.maxMessages || this.#bytes > limits.maxBytes)) dropped.push(this.shift()!);
    return dropped;
  }
}

// Marks a ping or auth message in the log: counted in `bufferedAmount`, never re-sent.
const CONTROL = Symbol('control');

/**
 * What went to the native socket and may still sit in its `bufferedAmount`. This is on the hot
 * path of every direct send, so appending is one push of four slots into one flat array (data,
 * wire, codec, expires): no entry object, no byte count. Sizes are computed only when the log is
 * trimmed or a dead connection is read back. @internal
 */
export class SentLog {
  #log: unknown[] = [];
  /** The length at which the log is trimmed next: doubles with what a trim keeps, so a stream
   * whose buffer never empties costs amortized O(1) per message. */
  #trimAt = 1024;

  get length(): number {
    return this.#log.length / 4;
  }

  /**
   * Logs one message about to be sent. `buffered` is the native `bufferedAmount` before it:
   * at 0, everything logged so far has left the browser and is forgotten.
   */
  add(buffered: number, data: unknown, wire: WireData, codec: Codec | undefined, expires: number, control: boolean): void {
    if (buffered === 0) this.clear();
    else if (this.length >= this.#trimAt) {
      // Forgets the messages before the ones that may hold the buffered bytes.
      this.#log.splice(0, this.#cover(buffered) * 4);
      this.#trimAt = Math.max(1024, 2 * this.length);
    }
    this.#log.push(control ? CONTROL : data, wire, codec, expires);
  }

  clear(): void {
    this.#log.length = 0;
    this.#trimAt = 1024;
  }

  /**
   * The newest logged messages that account for `unsent` bytes, oldest first and whole (a
   * partly transmitted message is sent again in full), without control messages.
   */
  unsent(unsent: number): Entry[] {
    const log = this.#log;
    const out: Entry[] = [];
    for (let i = this.#cover(unsent) * 4; i < log.length; i += 4) {
      const data = log[i];
      if (data === CONTROL) continue;
      const wire = log[i + 1] as WireData;
      out.push({ data, wire, codec: log[i + 2] as Codec | undefined, bytes: byteLength(wire), expires: log[i + 3] as number, beforeReady: false });
    }
    return out;
  }

  /** The index of the message from which the newest messages hold at least `bytes` bytes. */
  #cover(bytes: number): number {
    let i = this.length;
    while (bytes > 0 && i > 0) bytes -= byteLength(this.#log[--i * 4 + 1] as WireData);
    return i;
  }
}
