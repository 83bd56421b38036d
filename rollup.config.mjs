import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';

const input = 'src/index.ts';
const ts = () =>
  typescript({
    tsconfig: './tsconfig.build.json',
  });
// Private `#fields` are mangled; public names are the API and stay.
const minify = () => terser({ ecma: 2020, module: false, compress: { passes: 2 }, mangle: true });

export default [
  {
    input,
    external: ['mitt'],
    plugins: [ts()],
    output: [
      { file: 'dist/resilient-ws.mjs', format: 'es', sourcemap: true },
      { file: 'dist/resilient-ws.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
    ],
  },
  {
    input,
    plugins: [nodeResolve({ browser: true }), ts()],
    output: [
      { file: 'dist/resilient-ws.umd.js', format: 'umd', name: 'ResilientWS', sourcemap: true, exports: 'named' },
      {
        file: 'dist/resilient-ws.umd.min.js',
        format: 'umd',
        name: 'ResilientWS',
        sourcemap: true,
        exports: 'named',
        plugins: [minify()],
      },
    ],
  },
  {
    input,
    plugins: [dts()],
    // One declaration file per module system, or TypeScript's node16 resolution reads the ESM
    // types for a require() ("masquerading as ESM", reported by attw and publint).
    output: [
      { file: 'dist/resilient-ws.d.ts', format: 'es' },
      { file: 'dist/resilient-ws.d.cts', format: 'es' },
    ],
  },
];
