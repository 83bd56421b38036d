// A controllable stand-in for the native WebSocket, injected through `options.WebSocket`.
// mock-socket has no `bufferedAmount`; this one lets a test set it, open, close and deliver
// messages by hand, and records what was sent.
import type { WebSocketConstructor } from '../../src/index.js';

export class FakeSocket {
  static readonly instances: FakeSocket[] = [];
  /** The most recent socket the client created. */
  static get last(): FakeSocket {
    const s = FakeSocket.instances.at(-1);
    if (!s) throw new Error('no FakeSocket was created');
    return s;
  }
  static reset(): void {
    FakeSocket.instances.length = 0;
  }

  readyState = 0;
  protocol = '';
  extensions = '';
  binaryType = 'blob';
  bufferedAmount = 0;
  /** What `send()` got, in order. */
  readonly sent: unknown[] = [];
  /** The arguments of `close()`, if it was called. */
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] = [],
  ) {
    FakeSocket.instances.push(this);
  }

  send(data: unknown): void {
    if (this.readyState !== 1) throw new Error(`FakeSocket.send in readyState ${this.readyState}`);
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    if (this.readyState < 2) this.readyState = 2;
  }

  // ---- test controls ----
  /** The server accepted: `protocol` is what it picked. */
  open(protocol = ''): void {
    this.protocol = protocol;
    this.readyState = 1;
    this.onopen?.({ type: 'open' });
  }
  receive(data: unknown): void {
    this.onmessage?.({ type: 'message', data, origin: '', lastEventId: '' });
  }
  /** The connection ended (by the server, the network, or after `close()`). */
  serverClose(code = 1006, reason = '', wasClean = code !== 1006): void {
    this.readyState = 3;
    if (code === 1006) this.onerror?.({ type: 'error' });
    this.onclose?.({ type: 'close', code, reason, wasClean });
  }
}

/** `FakeSocket` typed as what `options.WebSocket` takes. */
export const FakeWebSocket = FakeSocket as unknown as WebSocketConstructor;
