// The libraries under comparison. `entry` is what a user writes to get the class the benchmark
// drives, so the size columns show what that user ships (tree-shaken, dependencies included).
// The page adapters in page.mjs read the same names from the `BenchLib` global.

/** @typedef {{ id: string, name: string, entry?: string, wholeEntry?: string }} Library */

/** @type {Library[]} */
export const LIBRARIES = [
  { id: 'raw', name: 'raw WebSocket' },
  {
    id: 'resilient-ws',
    name: 'resilient-ws',
    entry: "export { ResilientWebSocket } from 'resilient-ws';",
    wholeEntry: "export * from 'resilient-ws';",
  },
  {
    id: 'reconnecting-websocket',
    name: 'reconnecting-websocket',
    entry: "export { default as ReconnectingWebSocket } from 'reconnecting-websocket';",
    wholeEntry: "export { default } from 'reconnecting-websocket';",
  },
  {
    id: 'partysocket',
    name: 'partysocket',
    entry: "export { WebSocket } from 'partysocket';",
    wholeEntry: "export * from 'partysocket'; export { default } from 'partysocket';",
  },
  {
    id: 'sockette',
    name: 'sockette',
    entry: "export { default as Sockette } from 'sockette';",
    wholeEntry: "export { default } from 'sockette';",
  },
  {
    // websocket-ts reconnects only with a backoff; its quickstart uses these three.
    id: 'websocket-ts',
    name: 'websocket-ts',
    entry: "export { WebsocketBuilder, ConstantBackoff, ArrayQueue } from 'websocket-ts';",
    wholeEntry: "export * from 'websocket-ts';",
  },
];

/**
 * This package's own entries whose size the report shows next to the peers: every
 * .size-limit.json entry that imports the client class from an ESM file, named by the subpath
 * the package.json `exports` map gives that file. The constant below is added when the budget
 * file does not list it yet, so a new entry shows up (as "not built" until it exists). Edit it
 * when an entry is renamed.
 */
export const OWN_ENTRIES = [
  { specifier: 'resilient-ws', path: 'dist/resilient-ws.mjs' },
  { specifier: 'resilient-ws/core', path: 'dist/core.mjs' },
];
const CLASS = 'ResilientWebSocket';

/** Every file an `exports` value points at (conditions nest). */
const targets = (value) => (typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(targets) : []);

/** `[{ specifier, path, entry, wholeEntry, built }]`, the full entry first. */
export async function ownEntries(root) {
  const { readFile } = await import('node:fs/promises');
  const { existsSync } = await import('node:fs');
  const read = async (file) => JSON.parse(await readFile(`${root}/${file}`, 'utf8'));
  const pkg = await read('package.json');
  const limits = await read('.size-limit.json').catch(() => []);
  const specifierOf = (path) => {
    const key = Object.entries(pkg.exports ?? {}).find(([, value]) => targets(value).includes(`./${path}`))?.[0];
    return key === undefined ? undefined : key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`;
  };
  const found = limits
    .filter((e) => typeof e.import === 'string' && e.import.includes(CLASS) && /\.m?js$/.test(e.path) && !/umd/.test(e.path))
    .map((e) => ({ specifier: specifierOf(e.path) ?? e.path, path: e.path }));
  const all = [...found];
  for (const e of OWN_ENTRIES) if (!all.some((f) => f.specifier === e.specifier || f.path === e.path)) all.push(e);
  const unique = all.filter((e, i) => all.findIndex((f) => f.specifier === e.specifier) === i);
  unique.sort((a, b) => (a.specifier === pkg.name ? -1 : b.specifier === pkg.name ? 1 : 0));
  return unique.map((e) => ({
    ...e,
    entry: `export { ${CLASS} } from '${e.specifier}';`,
    wholeEntry: `export * from '${e.specifier}';`,
    built: existsSync(`${root}/${e.path}`),
  }));
}

/** The version of an installed package, for the report. */
export async function versionOf(root, id) {
  if (id === 'raw') return '';
  const { readFile } = await import('node:fs/promises');
  const path = id === 'resilient-ws' ? `${root}/package.json` : `${root}/node_modules/${id}/package.json`;
  return JSON.parse(await readFile(path, 'utf8')).version;
}
