// What users get from `npm install resilient-ws`: the packed tarball is linted (publint, attw),
// installed into a throwaway project, and used the four ways SPEC §1 promises: ESM and CJS in
// Node, TypeScript (bundler and node16 resolution), and the UMD by `<script>` in Chromium.
// Runs after `npm run build` (the `package` project in `npm test`).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { launchChromium, serveStatic } from '../support/chromium.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** The documented runtime exports (SPEC §2–§7); the bundles may add helpers, never drop these. */
const API = ['DEFAULTS', 'ResilientWebSocket', 'ResilientWebSocketError', 'base64url', 'isResilientWebSocketError', 'jsonCodec'];

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it fails or outlives `timeout`. */
function run(file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}, timeout = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout, env: { ...process.env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

let work: string;
let tarball: string;
let app: string;
let echo: WebSocketServer;
let echoUrl: string;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/resilient-ws.mjs'))) throw new Error('dist/ is missing: run `npm run build` first');
  work = mkdtempSync(join(tmpdir(), 'rws-package-'));
  // Lifecycle scripts are skipped: the tarball must be what the build already produced.
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  tarball = join(work, filename);

  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'rws-smoke', private: true, type: 'module' }));
  const install = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball];
  // `mitt` normally comes from the npm cache; the registry is the fallback for a cold cache.
  await run('npm', [...install, '--offline'], app).catch(() => run('npm', install, app));

  echo = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  echo.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  await new Promise<void>((ok) => echo.once('listening', () => ok()));
  echoUrl = `ws://127.0.0.1:${(echo.address() as { port: number }).port}`;
});

afterAll(async () => {
  if (echo) {
    for (const client of echo.clients) client.terminate();
    await new Promise<void>((ok) => echo.close(() => ok()));
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('package metadata', () => {
  it('publint finds no errors or warnings', async () => {
    const { messages } = await publint({ pkgDir: root, pack: 'npm', level: 'warning', strict: true });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg, { color: false })}`)).toEqual([]);
  });

  it('are-the-types-wrong finds no problems for any entry under node16 (ESM and CJS) and bundler resolution', async () => {
    // attw exits 1 when it finds problems; the JSON report names them either way. The `node16`
    // profile leaves out TypeScript's legacy `node10` resolution, which cannot see subpath exports
    // (`resilient-ws/core`, `/react`, …) at all.
    const out = await new Promise<string>((resolve, reject) => {
      execFile(bin('attw'), [tarball, '--format', 'json', '--profile', 'node16'], { cwd: work, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
        if (stdout) resolve(stdout);
        else reject(error ?? new Error('attw printed nothing'));
      });
    });
    const report = JSON.parse(out) as { problems?: Record<string, Array<{ entrypoint: string; resolutionKind?: string }>> };
    // The JSON report still lists what the profile ignores: keep only what it checks.
    const problems = Object.values(report.problems ?? {})
      .flat()
      .filter((p) => p.resolutionKind !== 'node10')
      .map((p) => `${p.entrypoint} (${p.resolutionKind ?? 'any'})`);
    expect(problems).toEqual([]);
    // Every subpath of the exports map was analysed.
    expect(Object.keys((JSON.parse(out) as { analysis: { entrypoints: Record<string, unknown> } }).analysis.entrypoints).sort()).toEqual(
      Object.keys(pkg.exports as Record<string, unknown>).sort(),
    );
  });

  it('ships the builds, types and maps, and no tests or benchmarks', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball], work);
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const ext of ['mjs', 'cjs', 'umd.js', 'umd.min.js', 'd.ts', 'mjs.map', 'umd.min.js.map']) {
      expect(files).toContain(`dist/resilient-ws.${ext}`);
    }
    expect(files).toContain(pkg.unpkg.replace(/^\.\//, ''));
    expect(files.filter((f) => /^(test|bench|demo|scripts|node_modules)\//.test(f))).toEqual([]);
  });
});

describe('installed from the tarball', () => {
  it('imports as ESM in Node and talks to a server through `ws`', async () => {
    writeFileSync(
      join(app, 'esm.mjs'),
      `import * as api from 'resilient-ws';
import { createRequire } from 'node:module';
const { WebSocket } = createRequire(process.env.REPO_ROOT + '/package.json')('ws');
const ws = new api.ResilientWebSocket(process.env.ECHO_URL, undefined, { WebSocket });
const echoed = await new Promise((resolve, reject) => {
  ws.on('message', ({ data }) => resolve(String(data)));
  ws.on('giveup', ({ error }) => reject(error));
  ws.send('hello from esm');
});
const closed = new Promise((resolve) => ws.on('statechange', ({ to }) => to === 'closed' && resolve(to)));
ws.close();
console.log(JSON.stringify({ exports: Object.keys(api).sort(), echoed, state: await closed }));
`,
    );
    // The process must also exit by itself: close() leaves no timer or socket behind.
    const { stdout } = await run(process.execPath, ['esm.mjs'], app, { REPO_ROOT: root, ECHO_URL: echoUrl }, 30_000);
    const out = JSON.parse(stdout);
    expect(out.exports).toEqual(expect.arrayContaining(API));
    expect(out.echoed).toBe('hello from esm');
    expect(out.state).toBe('closed');
  });

  it('requires as CJS in Node with the same exports', async () => {
    writeFileSync(
      join(app, 'cjs.cjs'),
      `const api = require('resilient-ws');
console.log(JSON.stringify({ exports: Object.keys(api).sort(), token: api.base64url('hi?'), minDelay: api.DEFAULTS.reconnect.minDelay }));
`,
    );
    writeFileSync(join(app, 'keys.mjs'), `console.log(JSON.stringify(Object.keys(await import('resilient-ws')).sort()));\n`);
    const cjs = JSON.parse((await run(process.execPath, ['cjs.cjs'], app, {}, 30_000)).stdout);
    const esmKeys = JSON.parse((await run(process.execPath, ['keys.mjs'], app, {}, 30_000)).stdout);
    expect(cjs.exports).toEqual(esmKeys);
    expect(cjs.exports).toEqual(expect.arrayContaining(API));
    expect(cjs.token).toBe('aGk_');
    expect(cjs.minDelay).toBe(1000);
  });

  describe('typechecks with the repository tsc', () => {
    const USE = `import { ResilientWebSocket, isResilientWebSocketError, jsonCodec, type Options, type State } from 'resilient-ws';

interface Chat {
  type: 'chat';
  text: string;
}
const options: Options<Chat, Chat> = { codec: jsonCodec, reconnect: { maxRetries: 5, jitter: 'equal' } };
const ws = new ResilientWebSocket<Chat, Chat>('wss://chat.example/socket', undefined, options);
const off = ws.on('message', ({ data }) => {
  const text: string = data.text;
  return text;
});
ws.on('giveup', ({ error }) => {
  if (isResilientWebSocketError(error)) console.log(error.code);
});
const result: 'sent' | 'queued' | 'dropped' = ws.send({ type: 'chat', text: 'hi' });
const state: State = ws.state;
// @ts-expect-error: with a Chat codec, send() takes Chat only
ws.send('plain text');
// @ts-expect-error: not an event of ResilientWebSocket
ws.on('nonsense', () => undefined);
off();
export { result, state };
`;
    // Only in CommonJS files do imports become require() calls, resolved through "require".
    const USE_CJS = `import { ResilientWebSocket, type State } from 'resilient-ws';
const state: State = new ResilientWebSocket('wss://chat.example/socket').state;
export = state;
`;
    const check = async (name: string, compilerOptions: Record<string, unknown>, files: string[]) => {
      const config = {
        compilerOptions: { target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: false, types: [], ...compilerOptions },
        files,
      };
      writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify(config));
      return run(bin('tsc'), ['-p', `tsconfig.${name}.json`], app, {}, 120_000);
    };

    it('with moduleResolution bundler', async () => {
      writeFileSync(join(app, 'use.ts'), USE);
      await expect(check('bundler', { module: 'ESNext', moduleResolution: 'bundler' }, ['use.ts'])).resolves.toBeDefined();
    });

    it('with moduleResolution node16, from ESM and from CJS', async () => {
      writeFileSync(join(app, 'use.ts'), USE);
      writeFileSync(join(app, 'use-cjs.cts'), USE_CJS);
      await expect(check('node16', { module: 'Node16', moduleResolution: 'Node16' }, ['use.ts', 'use-cjs.cts'])).resolves.toBeDefined();
    });
  });

  it('loads the minified UMD by <script> in Chromium as the ResilientWS global', async () => {
    const html = `<!doctype html><meta charset="utf-8"><script src="/node_modules/resilient-ws/${pkg.unpkg.replace(/^\.\//, '')}"></script>`;
    const server = await serveStatic(app, { '/': html });
    const chromium = await launchChromium();
    try {
      const page = await chromium.browser.newPage();
      await page.goto(`${server.origin}/`);
      const out = await page.evaluate(async (url) => {
        const g = (globalThis as any).ResilientWS;
        const kind = typeof g.ResilientWebSocket;
        const echoed = await new Promise<string>((resolve, reject) => {
          const ws = new g.ResilientWebSocket(url);
          const timer = setTimeout(() => reject(new Error('no echo within 10 s')), 10_000);
          ws.onmessage = (e: MessageEvent) => {
            clearTimeout(timer);
            ws.close();
            resolve(String(e.data));
          };
          ws.send('hello from umd');
        });
        return { kind, echoed };
      }, echoUrl);
      expect(out).toEqual({ kind: 'function', echoed: 'hello from umd' });
    } finally {
      await chromium.close();
      await server.close();
    }
  });
});
