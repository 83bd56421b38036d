// Lets TypeScript (npm run typecheck) read the fixtures' `.svelte` imports.
declare module '*.svelte' {
  import type { Component } from 'svelte';
  const component: Component<any>;
  export default component;
}
