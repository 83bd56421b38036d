// A throwaway redis-server for one test file: a free port on 127.0.0.1, no persistence, stopped
// (and restartable on the same port) on command. Ready means it printed that it accepts
// connections, so nothing here waits on a timer.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

const BIN = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export class RedisServer {
  #child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts one on a free port (another port if that one was taken meanwhile). */
  static async start(): Promise<RedisServer> {
    for (let i = 0; ; i++) {
      const r = new RedisServer(await freePort());
      try {
        await r.restart();
        return r;
      } catch (err) {
        if (i >= 4) throw err;
      }
    }
  }

  /** Starts it again on the same port, empty (no persistence). */
  restart(): Promise<void> {
    if (this.#child) return Promise.resolve();
    const child = spawn(BIN, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    return new Promise((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', (code) => {
        if (this.#child === child) this.#child = undefined;
        reject(new Error(`redis-server exited (${String(code)}): ${out.slice(-400)}`));
      });
      child.once('error', reject);
    });
  }

  /** Stops it (SIGTERM, no save) and waits for the process to end. */
  stop(): Promise<void> {
    const child = this.#child;
    if (!child) return Promise.resolve();
    this.#child = undefined;
    if (child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
