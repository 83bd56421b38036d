// The small real tier: the client on the `ws` package against a real server on 127.0.0.1,
// with real timers. Every wait is bounded and waits for an event, not for time to pass.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ResilientWebSocket, type ClientEvents, type State } from '../../src/index.js';

const WAIT_MS = 2000;

/** Resolves when `subscribe` calls back, rejects after `ms`; `subscribe` returns its unsubscribe. */
function within<T>(what: string, subscribe: (done: (value: T) => void) => () => void, ms = WAIT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let off: () => void = () => undefined;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    off = subscribe((value) => {
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** The next typed event `type` of `ws` that passes `test`. */
const next = <K extends keyof ClientEvents>(
  ws: ResilientWebSocket,
  type: K,
  test: (payload: ClientEvents[K]) => boolean = () => true,
): Promise<ClientEvents[K]> =>
  within(`client event "${type}"`, (done) => ws.on(type, (payload) => test(payload) && done(payload)));

/** Resolves when the client reaches `state` (at once if it is there already). */
const reach = (ws: ResilientWebSocket, state: State): Promise<unknown> =>
  ws.state === state ? Promise.resolve() : next(ws, 'statechange', ({ to }) => to === state);

/** An echo server that records every text message it receives, in order. */
class EchoServer {
  readonly received: string[] = [];
  readonly closes: number[] = [];
  /** Every connection the server accepted, counted on arrival. */
  connections = 0;
  #waiters: Array<() => void> = [];

  private constructor(readonly wss: WebSocketServer) {
    wss.on('connection', (socket) => {
      this.connections++;
      this.#wake();
      socket.on('message', (data, isBinary) => {
        if (!isBinary) this.received.push(data.toString());
        socket.send(data, { binary: isBinary });
        this.#wake();
      });
      socket.on('close', (code) => {
        this.closes.push(code);
        this.#wake();
      });
    });
  }

  static start(port = 0): Promise<EchoServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port });
      wss.once('error', reject);
      wss.once('listening', () => resolve(new EchoServer(wss)));
    });
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  /** Waits until `check()` holds; it is re-checked on every message and close. */
  until(what: string, check: () => boolean): Promise<void> {
    if (check()) return Promise.resolve();
    return within<void>(what, (done) => {
      const waiter = (): void => {
        if (check()) done();
      };
      this.#waiters.push(waiter);
      return () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
      };
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Drops every live connection without a closing handshake; the server keeps listening. */
  dropAll(): void {
    for (const c of this.wss.clients) c.terminate();
  }

  /** Drops every connection without a closing handshake, then stops listening. */
  stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

// Every native socket the client makes, to check none is left open.
const created: WebSocket[] = [];
class TrackedWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    created.push(this);
  }
}

let servers: EchoServer[] = [];
let tcpServers: Server[] = [];
let tcpSockets: Socket[] = [];
let clients: ResilientWebSocket[] = [];

afterEach(async () => {
  for (const ws of clients) ws.close();
  clients = [];
  created.length = 0;
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  for (const s of tcpSockets) s.destroy();
  tcpSockets = [];
  await Promise.all(tcpServers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  tcpServers = [];
});

function connect(url: string, reconnect: Record<string, unknown> = {}): ResilientWebSocket {
  const ws = new ResilientWebSocket(url, undefined, {
    WebSocket: TrackedWebSocket,
    reconnect: { minDelay: 50, maxDelay: 200, jitter: 'none', ...reconnect },
  });
  clients.push(ws);
  return ws;
}

async function echoServer(port = 0): Promise<EchoServer> {
  const s = await EchoServer.start(port);
  servers.push(s);
  return s;
}

describe('against a real ws server', () => {
  it('echoes a message', async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    await next(ws, 'open');
    const reply = next(ws, 'message');
    expect(ws.send('hello')).toBe('sent');
    expect((await reply).data).toBe('hello');
  });

  it('delivers a real MessageEvent to onmessage', async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    const event = within<MessageEvent>('onmessage', (done) => {
      ws.onmessage = (ev) => done(ev);
      return () => (ws.onmessage = null);
    });
    ws.send('dom');
    const ev = await event;
    expect(ev).toBeInstanceOf(MessageEvent);
    expect(ev.data).toBe('dom');
  });

  /** An open client whose server then stops: returns the client, the port and its close event. */
  async function openThenStop() {
    const first = await echoServer();
    const port = first.port;
    const ws = connect(`ws://127.0.0.1:${port}/`);
    await next(ws, 'open');
    const dropped = next(ws, 'close');
    servers = [];
    await first.stop();
    return { ws, port, closed: await dropped };
  }

  it('reconnects after a server restart on the same port, and messages flow again', async () => {
    const { ws, port, closed } = await openThenStop();
    expect(closed.willReconnect).toBe(true);
    // While nothing listens, attempts are refused and retried.
    await next(ws, 'reconnecting', ({ closeEvent }) => closeEvent?.code === 1006);
    const second = await echoServer(port);
    await next(ws, 'open');
    const reply = next(ws, 'message');
    ws.send('after restart');
    expect((await reply).data).toBe('after restart');
    expect(second.received).toEqual(['after restart']);
  });

  it('delivers messages sent while the server was down after reconnecting, in order', async () => {
    const { ws, port } = await openThenStop();
    const results = ['m1', 'm2', 'm3', 'm4', 'm5'].map((m) => ws.send(m));
    expect(results).toEqual(['queued', 'queued', 'queued', 'queued', 'queued']);
    expect(ws.queuedMessages).toBe(5);
    const second = await echoServer(port);
    await second.until('the five queued messages', () => second.received.length >= 5);
    expect(second.received).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(ws.queuedMessages).toBe(0);
  });

  it('close() ends the connection on both sides and leaves no native socket open', async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`);
    await next(ws, 'open');
    const closed = reach(ws, 'closed');
    ws.close(1000, 'bye');
    await server.until('the server to see the close', () => server.closes.length === 1);
    await closed;
    expect(server.closes).toEqual([1000]);
    expect(server.wss.clients.size).toBe(0);
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((s) => s.readyState === WebSocket.CLOSED)).toBe(true);
  });
});

describe('connectTimeout against a server that never answers the upgrade', () => {
  it('abandons the attempt without crashing and without leaving a socket open', async () => {
    const gone: Promise<void>[] = [];
    const silent = createServer((socket) => {
      tcpSockets.push(socket);
      // Read (and ignore) the upgrade request: a paused socket would never see the peer leave.
      socket.resume();
      gone.push(new Promise((resolve) => socket.once('close', () => resolve())));
    });
    tcpServers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;

    const uncaught = vi.fn();
    process.on('uncaughtException', uncaught);
    try {
      // A long retry delay keeps the abandoned attempt the only one during the test.
      const ws = connect(`ws://127.0.0.1:${port}/`, { connectTimeout: 300, minDelay: 60_000, maxDelay: 60_000 });
      const error = await next(ws, 'error');
      expect(error.error.code).toBe('CONNECT_TIMEOUT');
      expect(ws.state).toBe('reconnecting');
      expect(tcpSockets).toHaveLength(1);
      await within<void>('the server to see the socket close', (done) => {
        void Promise.all(gone).then(() => done());
        return () => undefined;
      });
      expect(tcpSockets[0]!.destroyed).toBe(true);
      expect(created).toHaveLength(1);
      await within<void>('the abandoned socket to reach CLOSED', (done) => {
        const s = created[0]!;
        if (s.readyState === WebSocket.CLOSED) done();
        else s.once('close', () => done());
        return () => undefined;
      });
      // v2: close() while reconnecting is `closing` at once, `closed` a task later (as native).
      const closed = reach(ws, 'closed');
      ws.close();
      expect(ws.state).toBe('closing');
      await closed;
      expect(uncaught).not.toHaveBeenCalled();
    } finally {
      process.off('uncaughtException', uncaught);
    }
  });
});

// SPEC §2 "Re-entrancy": a call from a listener behaves as if it came right after the event.
// A retry delay of 0 makes a wrong retry happen at once, so it cannot hide behind a timer
// that outlives the test: the checks below come after a full round trip of a second client,
// which starts only after the subject settled.
describe('calls from listeners, against a real server', () => {
  const instant = { minDelay: 0, maxDelay: 0 };

  /** A second client's connect-and-echo round trip: everything the subject began before has reached the server. */
  async function roundTrip(server: EchoServer): Promise<void> {
    const other = new ResilientWebSocket(`ws://127.0.0.1:${server.port}/`, undefined, { WebSocket });
    clients.push(other);
    await next(other, 'open');
    const reply = next(other, 'message');
    other.send('ping');
    await reply;
    const closed = reach(other, 'closed');
    other.close();
    await closed;
  }

  it('close() from a statechange listener on the way into reconnecting stops for good', async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`, instant);
    await next(ws, 'open');
    const closes: Array<ClientEvents['close']> = [];
    const states: string[] = [];
    ws.on('close', (e) => closes.push(e));
    ws.on('statechange', ({ from, to }) => {
      states.push(`${from}→${to}`);
      if (to === 'reconnecting') ws.close();
    });
    const closed = reach(ws, 'closed');
    server.dropAll();
    await closed;
    await roundTrip(server);
    expect(states).toEqual(['open→reconnecting', 'reconnecting→closing', 'closing→closed']);
    expect(closes.length).toBeGreaterThan(0);
    expect(closes.every((e) => !e.willReconnect)).toBe(true);
    expect(closes[0]).toMatchObject({ code: 1006, wasClean: false });
    expect(created).toHaveLength(1); // no attempt after the drop
    expect(server.connections).toBe(2); // the subject's one, and the round trip's
    expect(ws.state).toBe('closed');
  });

  it('reconnect() from a statechange listener into reconnecting leaves exactly one live connection', async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`, instant);
    await next(ws, 'open');
    let asked = false;
    ws.on('statechange', ({ to }) => {
      if (to === 'reconnecting' && !asked) {
        asked = true;
        ws.reconnect();
      }
    });
    const opens: unknown[] = [];
    ws.on('open', (e) => opens.push(e));
    const reopened = next(ws, 'open');
    server.dropAll();
    await reopened;
    await server.until('the dropped connection to end on the server', () => server.closes.length === 1);
    const reply = next(ws, 'message');
    ws.send('still here');
    expect((await reply).data).toBe('still here');
    expect(asked).toBe(true);
    expect(opens).toHaveLength(1);
    expect(created).toHaveLength(2); // the first connection and exactly one more
    expect(created.filter((s) => s.readyState === WebSocket.OPEN)).toHaveLength(1);
    expect(server.connections).toBe(2);
    expect(server.wss.clients.size).toBe(1);
    expect(ws.state).toBe('open');
  });

  it("close() from an on('open') listener: the DOM onopen and open listeners do not fire afterwards", async () => {
    const server = await echoServer();
    const ws = connect(`ws://127.0.0.1:${server.port}/`, instant);
    const domOpens: string[] = [];
    ws.onopen = () => domOpens.push('onopen');
    ws.addEventListener('open', () => domOpens.push('addEventListener'));
    const typed: unknown[] = [];
    ws.on('open', (e) => {
      typed.push(e);
      ws.close();
    });
    const closed = reach(ws, 'closed');
    await closed;
    await server.until('the server to see the close', () => server.closes.length === 1);
    await roundTrip(server);
    expect(typed).toHaveLength(1);
    expect(domOpens).toEqual([]);
    expect(server.closes[0]).toBe(1005); // close() without a code sends none
    expect(created).toHaveLength(1);
    expect(server.connections).toBe(2);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
