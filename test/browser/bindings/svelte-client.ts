// Browser entry of the Svelte fixture.
import { hydrate, mount, unmount } from 'svelte';
import App from './App.svelte';
import { installPageApi } from './page.js';

let app: Record<string, any> | undefined;

installPageApi({
  mount(el, n) {
    app = mount(App, { target: el, props: { n } });
  },
  hydrate(el, n) {
    app = hydrate(App, { target: el, props: { n } });
  },
  unmount() {
    if (app) void unmount(app);
    app = undefined;
  },
});
