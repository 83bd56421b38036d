// Starts test/support/redis-instance.ts as a child process (bundled once per run with esbuild
// into test-results/, so the child runs the TypeScript sources as they are) and kills it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { build } from 'esbuild';

let bundled: Promise<string> | undefined;
function bundle(): Promise<string> {
  bundled ??= (async () => {
    mkdirSync('test-results', { recursive: true });
    // One fixed name: rebuilt (to the same content) by each run, so nothing piles up.
    const outfile = 'test-results/redis-instance.mjs';
    await build({
      entryPoints: ['test/support/redis-instance.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node18',
      external: ['redis', 'ws'],
      outfile,
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundled;
}

export class ChildInstance {
  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {}

  /** Starts one and resolves once it listens (its `READY <port>` line). */
  static async start(name: string, url: string, port = 0): Promise<ChildInstance> {
    const file = await bundle();
    const child = spawn(process.execPath, [file, name, url, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /READY (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code, signal) => reject(new Error(`instance ${name} exited (${String(code ?? signal)})`)));
    });
    return new ChildInstance(name, ready, child);
  }

  /** SIGKILL: no close frames, no last writes; resolves once the process is gone. */
  kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}
