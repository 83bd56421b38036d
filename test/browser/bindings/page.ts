// The page side of the bindings test, shared by the three framework entries: `window.bt`
// creates the lazy client, mounts and unmounts the app, and reports what the DOM shows.
import { ResilientWebSocket, jsonCodec } from '../../../src/index.js';
import { setSocket, socket, stats, type Msg } from './socket.js';

export interface Mounter {
  mount(el: HTMLElement, n: number, probes: boolean): void;
  hydrate(el: HTMLElement, n: number): void;
  unmount(): void;
}

export interface WidgetView {
  id: string;
  state: string;
  count: number;
  ordered: boolean;
}

export function installPageApi(fw: Mounter, extra: Record<string, unknown> = {}): void {
  const root = (): HTMLElement => document.getElementById('root')!;
  const snapshots: unknown[] = [];
  (window as any).bt = {
    ...extra,
    init(url: string, lingerMs: number) {
      const ws = new ResilientWebSocket<string, Msg>(url, [], { codec: jsonCodec, lazy: { lingerMs } });
      setSocket(ws);
      // Not a subscriber (it would hold the connection): reads the snapshot on every event.
      for (const type of ['statechange', 'drain', 'drop'] as const) ws.on(type, () => snapshots.push(ws.getSnapshot()));
    },
    mount: (n: number, probes = false) => fw.mount(root(), n, probes),
    hydrate: (n: number) => fw.hydrate(root(), n),
    unmount: () => fw.unmount(),
    remount(n: number) {
      fw.unmount();
      fw.mount(root(), n, false);
    },
    state: () => socket().state,
    snapshot: () => {
      const s = socket().getSnapshot();
      return { state: s.state, queuedBytes: s.queuedBytes, queuedMessages: s.queuedMessages };
    },
    stats: () => structuredClone(stats),
    widgets: (): WidgetView[] =>
      [...document.querySelectorAll<HTMLElement>('.widget')].map((e) => ({
        id: e.dataset.id!,
        state: e.dataset.state!,
        count: Number(e.dataset.count),
        ordered: e.dataset.ordered === 'true',
      })),
    // Big messages sent in one go: the first ones fill the native buffer (1 MiB high-water
    // mark), the rest wait in the library's queue, so queuedBytes rises and falls while the
    // state stays `open`.
    flood(chunks: number, bytes: number) {
      const ws = socket();
      const text = 'x'.repeat(bytes);
      let maxQueued = 0;
      for (let i = 0; i < chunks; i++) {
        ws.send(text);
        maxQueued = Math.max(maxQueued, ws.getSnapshot().queuedBytes);
      }
      return maxQueued;
    },
    flushed: () => socket().flush().then(() => true),
  };
}
