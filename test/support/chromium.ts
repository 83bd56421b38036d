// Launches Debian's Chromium through playwright-core (no browser download is possible here)
// and serves files over http://127.0.0.1 on a free port. Shared by the browser tier, the demo
// e2e test and the benchmarks.
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './chromium-flags.mjs';

export { CHROMIUM_ARGS, chromiumPath };

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * A fresh Chromium. Playwright gives every `launch()` its own new, empty profile directory and
 * removes it on close (it refuses a `--user-data-dir` argument of ours).
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const path = chromiumPath();
  if (!existsSync(path)) {
    throw new Error(`Chromium not found at ${path}: install it (apt-get install chromium) or set RESILIENT_WS_CHROMIUM`);
  }
  const browser = await chromium.launch({ executablePath: path, args: [...CHROMIUM_ARGS], timeout: 30_000 });
  return {
    browser,
    async close() {
      await browser.close().catch(() => undefined);
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.css': 'text/css',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  server: Server;
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves `root` (and any extra in-memory `pages`, path → HTML) on 127.0.0.1, free port.
 */
export async function serveStatic(root: string, pages: Record<string, string> = {}): Promise<StaticServer> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const page = pages[path];
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' });
      res.end(page);
      return;
    }
    const file = resolve(base, '.' + path);
    if ((file !== base && !file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
