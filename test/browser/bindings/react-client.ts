// Browser entry of the React fixture: StrictMode on, as apps run in development.
import { createElement as h, StrictMode } from 'react';
import { createRoot, hydrateRoot, type Root } from 'react-dom/client';
import { App, events } from './react-app.js';
import { installPageApi } from './page.js';

let root: Root | undefined;
const recoverable: string[] = [];
const tree = (n: number, probes: boolean) => h(StrictMode, null, h(App, { n, probes }));

installPageApi(
  {
    mount(el, n, probes) {
      root = createRoot(el);
      root.render(tree(n, probes));
    },
    hydrate(el, n) {
      root = hydrateRoot(el, tree(n, false), { onRecoverableError: (e) => recoverable.push(String(e)) });
    },
    unmount() {
      root?.unmount();
      root = undefined;
    },
  },
  { events: () => ({ ...events }), recoverable: () => [...recoverable] },
);
