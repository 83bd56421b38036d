// Browser entry of the Vue fixture.
import { createApp, createSSRApp, h, type App as VueApp } from 'vue';
import { App } from './vue-app.js';
import { installPageApi } from './page.js';

let app: VueApp | undefined;

installPageApi({
  mount(el, n) {
    app = createApp({ render: () => h(App, { n }) });
    app.mount(el);
  },
  hydrate(el, n) {
    app = createSSRApp({ render: () => h(App, { n }) });
    app.mount(el);
  },
  unmount() {
    app?.unmount();
    app = undefined;
  },
});
