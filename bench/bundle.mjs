// Bundles each library the way an app would ship it (rollup, browser resolution, CommonJS
// interop, terser) and measures the result: minified, gzip -9 and brotli (quality 11) bytes.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';

const ENTRY = '\0bench-entry';

/** gzip level 9 and brotli quality 11, as size-limit measures. */
export function measure(code) {
  const buf = Buffer.from(code);
  return {
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

// This checkout's own entries by import specifier (`resilient-ws`, `resilient-ws/core`, …), set
// by bundleLibraries() from bench/libraries.mjs `ownEntries()`.
let own = { 'resilient-ws': 'dist/resilient-ws.mjs' };

async function build(root, source, format) {
  const bundle = await rollup({
    input: ENTRY,
    onwarn: (warning, warn) => {
      if (warning.code !== 'CIRCULAR_DEPENDENCY') warn(warning);
    },
    plugins: [
      {
        name: 'bench-entry',
        // The entry is a one-line module; `resilient-ws` (and its subpaths) mean this checkout's built ESM.
        resolveId: (id) => (id === ENTRY ? ENTRY : own[id] ? join(root, own[id]) : null),
        load: (id) => (id === ENTRY ? source : null),
      },
      nodeResolve({ browser: true, rootDir: root }),
      commonjs(),
    ],
  });
  try {
    const { output } = await bundle.generate({
      format,
      name: 'BenchLib',
      plugins: [terser({ ecma: 2020, module: format === 'es', compress: { passes: 2 }, mangle: true })],
    });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

/**
 * For every library with an entry: the sizes of its import and of its whole entry point, and
 * (where `iife(lib)`) an IIFE bundle with the global `BenchLib` in `outDir` for the benchmark page.
 */
export async function bundleLibraries(root, libraries, outDir, { iife = () => true, ownEntries = [] } = {}) {
  await mkdir(outDir, { recursive: true });
  if (ownEntries.length) own = Object.fromEntries(ownEntries.map((e) => [e.specifier, e.path]));
  const sizes = {};
  for (const lib of libraries) {
    if (!lib.entry) continue;
    const esm = await build(root, lib.entry, 'es');
    const whole = await build(root, lib.wholeEntry ?? lib.entry, 'es');
    await writeFile(join(outDir, `${lib.id}.min.mjs`), esm);
    await writeFile(join(outDir, `${lib.id}.whole.min.mjs`), whole);
    if (iife(lib)) await writeFile(join(outDir, `${lib.id}.iife.js`), await build(root, lib.entry, 'iife'));
    sizes[lib.id] = { ...measure(esm), wholeGzip: measure(whole).gzip };
  }
  return sizes;
}

/**
 * The sizes of this package's own entries (`ownEntries()` in bench/libraries.mjs): the class
 * import and the whole entry, as for the peers; `undefined` for an entry not built yet.
 */
export async function measureOwnEntries(root, entries, outDir) {
  await mkdir(outDir, { recursive: true });
  own = Object.fromEntries(entries.map((e) => [e.specifier, e.path]));
  const sizes = {};
  for (const e of entries) {
    if (!e.built) continue;
    const esm = await build(root, e.entry, 'es');
    const whole = await build(root, e.wholeEntry, 'es');
    const name = e.specifier.replace(/\//g, '+');
    await writeFile(join(outDir, `${name}.min.mjs`), esm);
    sizes[e.specifier] = { ...measure(esm), wholeGzip: measure(whole).gzip };
  }
  return sizes;
}

/** The sizes of a file as shipped, e.g. the minified UMD. */
export async function measureFile(path) {
  return measure(await readFile(path));
}
