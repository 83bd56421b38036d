// Bundles the React page of the demo (demo/react/app.js, the hooks and the client from src/)
// into dist/demo-react/, next to a copy of its index.html. Synchronous, so the demo server can
// call it on start; esbuild takes well under a second.
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** Builds the page; returns the folder to serve at /react/. */
export function buildReactDemo() {
  const out = here('../../dist/demo-react/');
  mkdirSync(out, { recursive: true });
  buildSync({
    entryPoints: [here('./app.js')],
    outfile: `${out}app.js`,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    // Development React: StrictMode's checks run, as in an app under development.
    define: { 'process.env.NODE_ENV': '"development"' },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(here('./index.html'), `${out}index.html`);
  return out;
}
