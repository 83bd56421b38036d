// Every subpath of the exports map, the way an app reaches it: the packed tarball installed
// into a throwaway app, then each subpath imported from ESM and required from CJS in Node,
// typechecked under TypeScript's bundler and node16 resolution, and bundled by Vite and by
// esbuild. The framework peers (react, vue) and `ws` are linked in from the repository.
// The slow steps (two tsc runs, two bundlers) start together once the app is installed, and
// each test awaits its own, so the file costs about as long as its slowest step.
import { build, type BuildResult } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, packAndInstall, ROOT, run, type InstalledApp, type Run } from './tarball.js';

interface Subpath {
  /** The specifier an app imports. */
  spec: string;
  /** A file-name-safe label. */
  name: string;
  /** Runtime exports that must be there (the entry may add more). */
  names: string[];
  /** A string of the subpath's own code (not a comment) that any bundle of it keeps. */
  marker?: string;
  /** A small TypeScript module using the subpath; each has an `@ts-expect-error` that fails if the types resolve to `any`. */
  ts: string;
  /** Bundled for Node rather than the browser. */
  node?: boolean;
}

const SUBPATHS: Subpath[] = [
  {
    spec: 'resilient-ws',
    name: 'root',
    names: ['DEFAULTS', 'ResilientWebSocket', 'ResilientWebSocketError', 'base64url', 'heartbeat', 'isResilientWebSocketError', 'jsonCodec', 'pageLife', 'tokenAuth'],
    marker: 'resilient-ws.client',
    ts: `import { DEFAULTS, ResilientWebSocket, isResilientWebSocketError, type Options, type State } from 'resilient-ws';
const options: Options = { heartbeat: { interval: 1000 }, pauseWhenHidden: true, auth: { token: () => 't', via: 'message' } };
const ws = new ResilientWebSocket('wss://example.test/ws', [], options);
ws.on('giveup', ({ error }) => {
  if (isResilientWebSocketError(error)) console.log(error.code);
});
// @ts-expect-error: not an event of ResilientWebSocket
ws.on('nonsense', () => undefined);
export const state: State = ws.state;
export const minDelay: number = DEFAULTS.reconnect.minDelay;
`,
  },
  {
    spec: 'resilient-ws/core',
    name: 'core',
    names: ['ResilientWebSocket', 'ResilientWebSocketError', 'heartbeat', 'pageLife', 'tokenAuth'],
    marker: 'resilient-ws.client',
    ts: `import { ResilientWebSocket, heartbeat, pageLife, tokenAuth, type CoreOptions, type Plugin } from 'resilient-ws/core';
const beat: Plugin = heartbeat({ interval: 1000, timeout: 500 });
const options: CoreOptions = { auth: tokenAuth({ token: async () => 't', via: 'query' }), heartbeat: beat, page: pageLife({ pauseWhenHidden: true }) };
export const ws = new ResilientWebSocket('wss://example.test/ws', [], options);
// @ts-expect-error: the core takes plug-ins, not the v1 option objects
export const v1: CoreOptions = { heartbeat: { interval: 1000 } };
`,
  },
  {
    spec: 'resilient-ws/react',
    name: 'react',
    names: ['useSocket', 'useSocketEvent', 'useSocketReducer'],
    marker: 'useSyncExternalStore',
    ts: `import { useSocket, useSocketEvent, useSocketReducer, type SocketStore } from 'resilient-ws/react';
declare const store: SocketStore<{ state: string; n: number }>;
export const useN = (): number => useSocket(store, (s) => s.n);
// @ts-expect-error: the selector picks a number
export const useWrong = (): string => useSocket(store, (s) => s.n);
export { useSocketEvent, useSocketReducer };
`,
  },
  {
    spec: 'resilient-ws/vue',
    name: 'vue',
    names: ['useSocket', 'useSocketReducer'],
    marker: 'onScopeDispose',
    ts: `import { useSocket, useSocketReducer, type SocketStore } from 'resilient-ws/vue';
declare const store: SocketStore<{ state: string; n: number }>;
export const n: number = useSocket(store).n.value;
// @ts-expect-error: a Vue ref, not the value
export const wrong: number = useSocket(store).n;
export { useSocketReducer };
`,
  },
  {
    spec: 'resilient-ws/svelte',
    name: 'svelte',
    names: ['socketReducer', 'socketState'],
    ts: `import { socketReducer, socketState, type Readable, type SocketStore } from 'resilient-ws/svelte';
declare const store: SocketStore<{ n: number }>;
const state: Readable<{ n: number }> = socketState(store);
export const off: () => void = state.subscribe((s) => console.log(s.n + 1));
// @ts-expect-error: the store holds numbers
state.subscribe((s: { n: string }) => console.log(s));
export { socketReducer };
`,
  },
  {
    spec: 'resilient-ws/reliable',
    name: 'reliable',
    names: ['PROTOCOL', 'lanes', 'reliable'],
    marker: 'rws.v1',
    ts: `import { PROTOCOL, lanes, reliable, type Reliable } from 'resilient-ws/reliable';
import type { TabLanes } from 'resilient-ws/tabs';
export const plugin: Reliable = reliable();
export const multiplexed: TabLanes = lanes();
export const protocol: 'rws.v1' = PROTOCOL;
// @ts-expect-error: not an option of reliable()
reliable({ nonsense: true });
`,
  },
  {
    spec: 'resilient-ws/server',
    name: 'server',
    names: ['CloseCode', 'PROTOCOL', 'PROTOCOL_LANES', 'ReliableServerError', 'attach', 'memoryEngine', 'redisEngine'],
    marker: 'rws.v1',
    node: true,
    ts: `import { attach, memoryEngine, type ReliableServer } from 'resilient-ws/server';
import { WebSocketServer } from 'ws';
export const start = (wss: WebSocketServer): ReliableServer => attach(wss, { engine: memoryEngine(), lanes: true, maxLanes: 8 });
// @ts-expect-error: attach() wraps a WebSocketServer
attach('not a server');
`,
  },
  {
    spec: 'resilient-ws/tabs',
    name: 'tabs',
    names: ['tabs'],
    marker: 'tab leader changed',
    ts: `import { tabs, type Tabs } from 'resilient-ws/tabs';
export const shared: Tabs = tabs({ name: 'app', version: '1' });
export const laned: Tabs = tabs({ name: 'app', version: '1', lanes: { offer: (p) => p ?? [], accept: (p) => [p, p], out: (_lane, f) => f ?? '', in: () => undefined } });
// @ts-expect-error: version is required
tabs({ name: 'app' });
`,
  },
];

/** Packages a real app would install beside resilient-ws, linked from the repository. */
const LINKS = ['react', 'vue', 'ws', '@types/ws', '@types/node'];
/** What an app's bundler leaves to the runtime or to the app's own dependencies. */
const EXTERNAL = ['react', 'vue', 'svelte', 'ws', 'redis'];

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

interface Loaded {
  /** The file the specifier resolved to. */
  file: string;
  /** Each export's `typeof`. */
  types: Record<string, string>;
}

const ESM = `const out = {};
for (const spec of JSON.parse(process.argv[2])) {
  const m = await import(spec);
  out[spec] = { file: import.meta.resolve(spec), types: Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k]])) };
}
console.log(JSON.stringify(out));
`;
const CJS = `const out = {};
for (const spec of JSON.parse(process.argv[2])) {
  const m = require(spec);
  out[spec] = { file: require.resolve(spec), types: Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k]])) };
}
console.log(JSON.stringify(out));
`;

// A plain object: the app does not depend on vite, so the config imports nothing.
const VITE_CONFIG = `export default {
  logLevel: 'warn',
  build: {
    outDir: 'vite-out',
    emptyOutDir: true,
    lib: { entry: ${JSON.stringify(Object.fromEntries(SUBPATHS.map((s) => [s.name, `entries/${s.name}.js`])))}, formats: ['es'] },
    rolldownOptions: { external: [/^node:/, ${EXTERNAL.map((e) => JSON.stringify(e)).join(', ')}] },
  },
};
`;

let installed: InstalledApp;
let app: string;
/** The slow steps, started together in beforeAll; each test awaits its own. */
let jobs: {
  esm: Promise<Run>;
  cjs: Promise<Run>;
  bundler: Promise<Run>;
  node16: Promise<Run>;
  vite: Promise<Run>;
  esbuild: Promise<Record<string, string>>;
};
const took: Record<string, number> = {};

/** Records how long `p` took from now, for the timing line in afterAll. */
function timed<T>(label: string, p: Promise<T>): Promise<T> {
  const start = Date.now();
  const out = p.finally(() => {
    took[label] = Date.now() - start;
  });
  // Awaited by its test; until then a failure must not count as unhandled.
  out.catch(() => undefined);
  return out;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(join(app, file)), { recursive: true });
  writeFileSync(join(app, file), text);
}

const tsc = (name: string, compilerOptions: Record<string, unknown>, files: string[]): Promise<Run> => {
  const config = {
    compilerOptions: { target: 'ES2022', lib: ['ES2022', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, types: ['node'], ...compilerOptions },
    files,
  };
  write(`tsconfig.${name}.json`, JSON.stringify(config));
  return run(bin('tsc'), ['-p', `tsconfig.${name}.json`], app);
};

/** esbuild: the browser subpaths in one build, the server in a Node build; each entry self-contained. */
async function esbuildAll(): Promise<Record<string, string>> {
  const one = (subpaths: Subpath[], platform: 'browser' | 'node'): Promise<BuildResult<{ write: false }>> =>
    build({
      absWorkingDir: app,
      entryPoints: subpaths.map((s) => ({ in: `entries/${s.name}.js`, out: s.name })),
      outdir: 'esbuild-out',
      bundle: true,
      format: 'esm',
      platform,
      external: EXTERNAL,
      write: false,
      logLevel: 'silent',
    });
  const results = await Promise.all([one(SUBPATHS.filter((s) => !s.node), 'browser'), one(SUBPATHS.filter((s) => s.node), 'node')]);
  return Object.fromEntries(results.flatMap((r) => r.outputFiles.map((f) => [f.path.replace(/^.*\/|\.js$/g, ''), f.text])));
}

beforeAll(async () => {
  const installStart = Date.now();
  installed = await packAndInstall('rws-subpaths-', LINKS);
  took.install = Date.now() - installStart;
  app = installed.app;

  for (const s of SUBPATHS) {
    // Re-exporting keeps the names in any bundle's output, minified or not.
    write(`entries/${s.name}.js`, `export { ${s.names.join(', ')} } from '${s.spec}';\n`);
    write(`ts/${s.name}.ts`, s.ts);
    // The same module as CommonJS: its imports become require() calls, resolved through "require".
    write(`ts/${s.name}.cts`, s.ts);
  }
  write('load.mjs', ESM);
  write('load.cjs', CJS);
  write('vite.config.mjs', VITE_CONFIG);

  const specs = JSON.stringify(SUBPATHS.map((s) => s.spec));
  jobs = {
    esm: timed('esm', run(process.execPath, ['load.mjs', specs], app, {}, 30_000)),
    cjs: timed('cjs', run(process.execPath, ['load.cjs', specs], app, {}, 30_000)),
    bundler: timed('tsc bundler', tsc('bundler', { module: 'ESNext', moduleResolution: 'bundler' }, SUBPATHS.map((s) => `ts/${s.name}.ts`))),
    // This run also checks the shipped declaration files themselves (both .d.ts and .d.cts, with
    // the peers' types); the bundler run only resolves them, which is most of what it can break.
    node16: timed('tsc node16', tsc('node16', { module: 'Node16', moduleResolution: 'Node16', skipLibCheck: false }, SUBPATHS.flatMap((s) => [`ts/${s.name}.ts`, `ts/${s.name}.cts`]))),
    vite: timed('vite', run(bin('vite'), ['build', '--config', 'vite.config.mjs'], app)),
    esbuild: timed('esbuild', esbuildAll()),
  };
});

afterAll(async () => {
  // Let every started step end before its folder goes.
  if (jobs) await Promise.allSettled(Object.values(jobs));
  console.info(`[subpaths] ${Object.entries(took).map(([k, ms]) => `${k} ${ms} ms`).join(', ')}`);
  if (installed) rmSync(installed.work, { recursive: true, force: true });
});

it('covers every subpath of the exports map', () => {
  const subpaths = Object.keys(pkg.exports).filter((k) => k !== './package.json');
  expect(SUBPATHS.map((s) => s.spec.replace(/^resilient-ws/, '.')).sort()).toEqual(subpaths.sort());
});

describe('in Node', () => {
  it.each(['esm', 'cjs'] as const)('every subpath loads as %s, from its own build, with its exports', async (kind) => {
    const loaded = JSON.parse((await jobs[kind]).stdout) as Record<string, Loaded>;
    for (const s of SUBPATHS) {
      const { file, types } = loaded[s.spec]!;
      expect(file, s.spec).toMatch(kind === 'esm' ? /\/node_modules\/resilient-ws\/dist\/[\w-]+\.mjs$/ : /\/node_modules\/resilient-ws\/dist\/[\w-]+\.cjs$/);
      expect(Object.keys(types), s.spec).toEqual(expect.arrayContaining(s.names));
      for (const name of s.names) expect(types[name], `${s.spec} ${name}`).not.toBe('undefined');
    }
  });

  it('ESM and CJS expose the same names with the same kinds', async () => {
    const [esm, cjs] = await Promise.all([jobs.esm, jobs.cjs]);
    const kinds = (out: Run) => Object.fromEntries(Object.entries(JSON.parse(out.stdout) as Record<string, Loaded>).map(([spec, l]) => [spec, l.types]));
    expect(kinds(cjs)).toEqual(kinds(esm));
  });
});

describe('typechecks with the repository tsc', () => {
  it('with moduleResolution bundler', async () => {
    await expect(jobs.bundler).resolves.toBeDefined();
  });

  it('with moduleResolution node16, from ESM and from CJS', async () => {
    await expect(jobs.node16).resolves.toBeDefined();
  });
});

/** The output file and every chunk it imports, so a marker in a shared chunk counts. */
function withChunks(dir: string, file: string, seen = new Set<string>()): string {
  if (seen.has(file)) return '';
  seen.add(file);
  const code = readFileSync(join(dir, file), 'utf8');
  const chunks = [...code.matchAll(/from\s*["']\.\/([^"']+)["']/g)].map((m) => m[1]!);
  return code + chunks.map((c) => withChunks(dir, c, seen)).join('\n');
}

function expectBundled(label: string, code: string, s: Subpath): void {
  for (const name of s.names) expect(code, `${label} ${s.spec}: export ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
  if (s.marker) expect(code, `${label} ${s.spec}: marker`).toContain(s.marker);
  // Resolved and inlined: no import of the package itself is left for the runtime.
  expect(code, `${label} ${s.spec}`).not.toMatch(/(from\s*|import\(|require\()["']resilient-ws/);
}

describe('bundles', () => {
  it('with Vite (library mode, one entry per subpath)', async () => {
    await jobs.vite;
    const out = join(app, 'vite-out');
    for (const s of SUBPATHS) {
      const file = [`${s.name}.js`, `${s.name}.mjs`].find((f) => existsSync(join(out, f)));
      expect(file, `vite output for ${s.spec}`).toBeDefined();
      expectBundled('vite', withChunks(out, file!), s);
    }
  });

  it('with esbuild (--bundle, each entry self-contained)', async () => {
    const outputs = await jobs.esbuild;
    for (const s of SUBPATHS) {
      expect(outputs[s.name], `esbuild output for ${s.spec}`).toBeDefined();
      expectBundled('esbuild', outputs[s.name]!, s);
    }
  });
});
