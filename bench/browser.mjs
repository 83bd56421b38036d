// Runs Chromium as a plain child process. Playwright's DevTools connection reports every
// WebSocket frame to the client and halves throughput, so the benchmark page runs without it
// and reports over HTTP. The flags are the tests' (test/support/chromium-flags.mjs), plus precise heap numbers
// and `gc()` for the memory run.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_ARGS, chromiumPath } from '../test/support/chromium-flags.mjs';

export { chromiumPath };

const ARGS = [...CHROMIUM_ARGS, '--disable-crash-reporter', '--enable-precise-memory-info', '--js-flags=--expose-gc'];

export function chromiumVersion() {
  if (!existsSync(chromiumPath())) {
    throw new Error(`Chromium not found at ${chromiumPath()}: install it (apt-get install chromium) or set RESILIENT_WS_CHROMIUM`);
  }
  const out = execFileSync(chromiumPath(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.trim();
}

/** Opens `url` in a fresh Chromium with an empty profile; `close()` kills it and removes the profile. */
export function openChromium(url) {
  const profile = mkdtempSync(join(tmpdir(), 'rws-bench-'));
  // A process group of its own, so that killing it also ends the renderer and GPU processes.
  const child = spawn(chromiumPath(), [...ARGS, `--user-data-dir=${profile}`, url], {
    detached: true,
    stdio: 'ignore',
  });
  const exited = new Promise((ok) => child.once('exit', ok));
  return {
    exited,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await exited;
      }
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
