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

/** The version of an installed package, for the report. */
export async function versionOf(root, id) {
  if (id === 'raw') return '';
  const { readFile } = await import('node:fs/promises');
  const path = id === 'resilient-ws' ? `${root}/package.json` : `${root}/node_modules/${id}/package.json`;
  return JSON.parse(await readFile(path, 'utf8')).version;
}
