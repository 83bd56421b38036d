// The full entry: everything of `resilient-ws/core`, with the class that builds the plug-ins in
// from the v1 option objects (an explicit export wins over the star export of the same name).
export * from './core.js';
export { ResilientWebSocket, DEFAULTS, type Options } from './full.js';
