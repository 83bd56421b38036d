// A TCP proxy between a client and a server on 127.0.0.1, faulted on command: stall (stop
// forwarding, both ways, while the sockets stay open: a half-dead link), cut (close both ends
// with a FIN), reset (close both ends with an RST). Bytes are counted per direction so a test
// can tell what crossed the link.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
}

export class TcpProxy {
  readonly #server: Server;
  readonly #pairs = new Set<Pair>();
  #stalled = false;
  /** Where new connections go; change it to move clients to a restarted server. */
  target: number;
  /** While true, new connections are closed at once (the server looks down). */
  refuse = false;
  /** Connections accepted so far. */
  connections = 0;
  /** Bytes forwarded client → server and server → client. */
  up = 0;
  down = 0;

  private constructor(server: Server, target: number) {
    this.#server = server;
    this.target = target;
  }

  /** Starts a proxy on 127.0.0.1, port 0, forwarding to `targetPort`. */
  static start(targetPort: number): Promise<TcpProxy> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      const proxy = new TcpProxy(server, targetPort);
      server.on('connection', (client) => proxy.#accept(client));
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(proxy));
    });
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** Open connection pairs. */
  get open(): number {
    return this.#pairs.size;
  }

  #accept(client: Socket): void {
    if (this.refuse) {
      client.destroy();
      return;
    }
    this.connections++;
    const upstream = connect(this.target, '127.0.0.1');
    const pair = { client, upstream };
    this.#pairs.add(pair);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const forward = (from: Socket, to: Socket, count: (n: number) => void): void => {
      from.on('data', (chunk: Buffer) => {
        count(chunk.length);
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => {
        if (!this.#stalled) from.resume();
      });
    };
    forward(client, upstream, (n) => (this.up += n));
    forward(upstream, client, (n) => (this.down += n));
    if (this.#stalled) {
      client.pause();
      upstream.pause();
    }
    const end = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  /**
   * Stops forwarding in both directions: bytes pile up in the kernel buffers and the peers see
   * a link that is open but silent. New connections are stalled too, until `resume()`.
   */
  stall(): void {
    this.#stalled = true;
    for (const { client, upstream } of this.#pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards again. */
  resume(): void {
    this.#stalled = false;
    for (const { client, upstream } of this.#pairs) {
      client.resume();
      upstream.resume();
    }
  }

  /** Closes every connection with a FIN on both sides, dropping whatever is in flight in the proxy. */
  cut(): void {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /** Closes every connection with an RST on both sides. */
  reset(): void {
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.#pairs.clear();
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
