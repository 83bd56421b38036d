// Server renders of the three fixtures, bundled by esbuild for Node (the Svelte components
// compiled with generate: 'server'), so the SSR test and the hydration test render exactly the
// components the browser runs.
import { createElement, StrictMode } from 'react';
import { renderToString as renderReact } from 'react-dom/server';
import { createSSRApp, h } from 'vue';
import { renderToString as renderVue } from 'vue/server-renderer';
import { render as renderSvelte } from 'svelte/server';
import { App as ReactApp } from './react-app.js';
import { App as VueApp } from './vue-app.js';
import SvelteApp from './App.svelte';
import { setSocket, type Client } from './socket.js';

export type Framework = 'react' | 'vue' | 'svelte';

export async function renderApp(framework: Framework, ws: Client, n: number): Promise<string> {
  setSocket(ws);
  if (framework === 'react') return renderReact(createElement(StrictMode, null, createElement(ReactApp, { n })));
  if (framework === 'vue') return renderVue(createSSRApp({ render: () => h(VueApp, { n }) }));
  return renderSvelte(SvelteApp, { props: { n } }).body;
}
