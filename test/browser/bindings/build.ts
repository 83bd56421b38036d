// Builds the fixture apps with esbuild, inside the tests: a browser bundle per framework and a
// Node bundle of the server renders. Output goes to test-results/bindings/ (ignored by git).
import { build, type Plugin } from 'esbuild';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Framework } from './server-entry.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const OUT = resolve(HERE, '../../../test-results/bindings');

// Compiles `.svelte` files with the real Svelte 5 compiler (what vite-plugin-svelte does).
function svelte(generate: 'client' | 'server'): Plugin {
  return {
    name: 'svelte',
    setup(b) {
      b.onLoad({ filter: /\.svelte$/ }, async (args) => {
        const { compile } = await import('svelte/compiler');
        const out = compile(readFileSync(args.path, 'utf8'), { filename: args.path, generate, dev: true });
        return { contents: out.js.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

// Development builds: StrictMode's double mount and the frameworks' hydration warnings exist
// only there.
const DEFINE = {
  'process.env.NODE_ENV': '"development"',
  __VUE_OPTIONS_API__: 'true',
  __VUE_PROD_DEVTOOLS__: 'false',
  __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'true',
};

/** The browser bundle of one framework's fixture: `test-results/bindings/<framework>.js`. */
export async function buildClient(framework: Framework): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${framework}.js`);
  await build({
    entryPoints: [join(HERE, `${framework}-client.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['development'],
    define: DEFINE,
    sourcemap: 'linked',
    logLevel: 'silent',
    plugins: [svelte('client')],
  });
  return outfile;
}

/** The Node bundle of the server renders (frameworks left as imports of node_modules). */
export async function buildServer(): Promise<string> {
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, 'server.mjs');
  await build({
    entryPoints: [join(HERE, 'server-entry.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node18',
    packages: 'external',
    define: { 'process.env.NODE_ENV': '"development"' },
    logLevel: 'silent',
    plugins: [svelte('server')],
  });
  return outfile;
}
