// Server renders of components that use the bindings open no socket: react-dom/server's
// renderToString, Vue's renderToString (vue/server-renderer) and Svelte's render (svelte/server),
// each of the fixture app the browser tier hydrates (test/browser/bindings/), on a lazy client
// whose WebSocket constructor counts its calls.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildServer } from '../browser/bindings/build.js';
import type { Framework } from '../browser/bindings/server-entry.js';
import type { Msg } from '../browser/bindings/socket.js';
import { ResilientWebSocket, jsonCodec } from '../../src/index.js';

let renderApp: (framework: Framework, ws: ResilientWebSocket<string, Msg>, n: number) => Promise<string>;

beforeAll(async () => {
  ({ renderApp } = await import(/* @vite-ignore */ await buildServer()));
}, 60_000);

/** A lazy client whose WebSocket constructor records every call instead of connecting. */
function countingClient(): { ws: ResilientWebSocket<string, Msg>; made: string[] } {
  const made: string[] = [];
  class CountingWebSocket extends EventTarget {
    static readonly CONNECTING = 0;
    static readonly OPEN = 1;
    static readonly CLOSING = 2;
    static readonly CLOSED = 3;
    readyState = 0;
    bufferedAmount = 0;
    protocol = '';
    extensions = '';
    binaryType = 'blob';
    constructor(url: string) {
      super();
      made.push(url);
    }
    send(): void {}
    close(): void {
      this.readyState = 3;
    }
  }
  const ws = new ResilientWebSocket<string, Msg>('ws://127.0.0.1:9/', [], { codec: jsonCodec, lazy: true, WebSocket: CountingWebSocket as any });
  return { ws, made };
}

const macrotask = () => new Promise((resolve) => setTimeout(resolve, 0));

describe.each(['react', 'vue', 'svelte'] as const)('%s server render', (framework) => {
  it('opens no socket and renders the idle snapshot', async () => {
    const { ws, made } = countingClient();
    const html = await renderApp(framework, ws, 3);
    await macrotask(); // nothing deferred either
    expect(made).toEqual([]);
    expect(ws.state).toBe('closed');
    expect(html.match(/data-state="closed"/g)).toHaveLength(3);
    expect(html.match(/data-count="0"/g)).toHaveLength(3);
    ws.close();
  });
});

it('the counting constructor does count: a subscriber outside a server render connects', async () => {
  const { ws, made } = countingClient();
  const off = ws.subscribe(() => undefined);
  // The attempt starts after the URL and token providers resolved, a few microtasks later.
  await vi.waitFor(() => expect(made).toHaveLength(1), { timeout: 5_000 });
  off();
  ws.close();
});
