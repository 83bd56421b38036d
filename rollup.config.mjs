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
const minify = () => terser({ ecma: 2020, module: false, compress: { passes: 2 }, mangle: true, keep_classnames: true });

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
  ...core(),
  ...bindings(),
  ...reliable(),
  ...tabs(),
];

// resilient-ws/tabs: one connection shared by the tabs of an app. It imports no client code
// (only the byte counter and the error helper), so the core is never bundled into it twice.
function tabs() {
  return [
    {
      input: 'src/tabs.ts',
      plugins: [ts()],
      output: [
        { file: 'dist/tabs.mjs', format: 'es', sourcemap: true },
        { file: 'dist/tabs.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
      ],
    },
    {
      input: 'src/tabs.ts',
      plugins: [dts()],
      output: [
        { file: 'dist/tabs.d.ts', format: 'es' },
        { file: 'dist/tabs.d.cts', format: 'es' },
      ],
    },
  ];
}

// resilient-ws/reliable (browser plug-in) and resilient-ws/server (the Node companion; `ws` and
// Node's built-ins stay external).
function reliable() {
  // `redis` is an optional peer, loaded only by redisEngine({ url }).
  const server = ['ws', 'redis', /^node:/];
  return [
    ['reliable', 'src/reliable.ts', []],
    ['server', 'src/server/index.ts', server],
  ].flatMap(([name, input, external]) => [
    {
      input,
      external,
      plugins: [ts()],
      output: [
        { file: `dist/${name}.mjs`, format: 'es', sourcemap: true },
        { file: `dist/${name}.cjs`, format: 'cjs', sourcemap: true, exports: 'named' },
      ],
    },
    {
      input,
      external,
      plugins: [dts()],
      output: [
        { file: `dist/${name}.d.ts`, format: 'es' },
        { file: `dist/${name}.d.cts`, format: 'es' },
      ],
    },
  ]);
}

// resilient-ws/core: the same class with no plug-in built in; the factories are exported beside it
// and tree-shaken away when not imported.
function core() {
  return [
    {
      input: 'src/core.ts',
      external: ['mitt'],
      plugins: [ts()],
      output: [
        { file: 'dist/core.mjs', format: 'es', sourcemap: true },
        { file: 'dist/core.cjs', format: 'cjs', sourcemap: true, exports: 'named' },
      ],
    },
    {
      input: 'src/core.ts',
      plugins: [dts()],
      output: [
        { file: 'dist/core.d.ts', format: 'es' },
        { file: 'dist/core.d.cts', format: 'es' },
      ],
    },
  ];
}

// resilient-ws/react, /vue, /svelte: one self-contained file per format, the framework left to
// the app's bundler (an optional peer dependency, never bundled), the client not imported at all.
function bindings() {
  return ['react', 'vue', 'svelte'].flatMap((name) => [
    {
      input: `src/${name}.ts`,
      external: ['react', 'vue', 'svelte'],
      plugins: [ts()],
      output: [
        { file: `dist/${name}.mjs`, format: 'es', sourcemap: true },
        { file: `dist/${name}.cjs`, format: 'cjs', sourcemap: true, exports: 'named' },
      ],
    },
    {
      input: `src/${name}.ts`,
      external: ['react', 'vue', 'svelte'],
      plugins: [dts()],
      output: [
        { file: `dist/${name}.d.ts`, format: 'es' },
        { file: `dist/${name}.d.cts`, format: 'es' },
      ],
    },
  ]);
}
