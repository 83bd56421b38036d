// Type tests of resilient-ws/react, /vue and /svelte: the message type comes from the client's
// generics (`ResilientWebSocket<TSend, TReceive>`), event payloads from the event name, the
// snapshot from getSnapshot(). `npm run typecheck` checks these lines; none of them runs a hook.
import { describe, expectTypeOf, it } from 'vitest';
import type { ShallowRef } from 'vue';
import { ResilientWebSocket, jsonCodec, type ResilientWebSocketError, type State } from '../../src/index.js';
import * as react from '../../src/react.js';
import * as vue from '../../src/vue.js';
import * as svelte from '../../src/svelte.js';

type Out = { type: 'say'; text: string };
type In = { type: 'chat'; id: string; text: string } | { type: 'presence'; online: number };

/** Type-checks `check` without running it. */
const compileOnly = (_check: () => unknown): void => undefined;

describe('binding types', () => {
  it('infer messages, events and selections from the client', () => {
    compileOnly(() => {
      const ws = new ResilientWebSocket<Out, In>('wss://example.com/chat', [], { codec: jsonCodec, lazy: true });
      expectTypeOf(react.useSocket(ws, (s) => s.state)).toEqualTypeOf<State>();
      expectTypeOf(react.useSocket(ws).queuedBytes).toEqualTypeOf<number>();
      expectTypeOf(react.useSocket(ws, (s) => ({ q: s.queuedMessages }), (a, b) => a.q === b.q)).toEqualTypeOf<{ q: number }>();

      const lines = react.useSocketReducer(ws, (all: string[], m) => (m.type === 'chat' ? [...all, m.text] : all), []);
      expectTypeOf(lines).toEqualTypeOf<string[]>();
      react.useSocketReducer(ws, (n: number, m) => {
        expectTypeOf(m).toEqualTypeOf<In>();
        return n + 1;
      }, 0);

      react.useSocketEvent(ws, 'message', ({ data }) => expectTypeOf(data).toEqualTypeOf<In>());
      react.useSocketEvent(ws, 'drop', ({ data, reason }) => {
        expectTypeOf(data).toEqualTypeOf<Out>();
        expectTypeOf(reason).toEqualTypeOf<'overflow' | 'expired' | 'closed' | 'volatile'>();
      });
      react.useSocketEvent(ws, 'giveup', ({ error }) => expectTypeOf(error).toEqualTypeOf<ResilientWebSocketError>());
      // @ts-expect-error: no such event
      react.useSocketEvent(ws, 'nope', () => undefined);
      // @ts-expect-error: a message is an In, not a string
      react.useSocketReducer(ws, (s: string, m: string) => s + m, '');

      const { state, queuedBytes, snapshot } = vue.useSocket(ws);
      expectTypeOf(state).toEqualTypeOf<Readonly<ShallowRef<State>>>();
      expectTypeOf(queuedBytes.value).toEqualTypeOf<number>();
      expectTypeOf(snapshot.value.lastError).toEqualTypeOf<ResilientWebSocketError | null>();
      expectTypeOf(vue.useSocketReducer(ws, (n: number, m) => n + (m.type === 'chat' ? 1 : 0), 0).value).toEqualTypeOf<number>();

      expectTypeOf(svelte.socketReducer(ws, (all: In[], m) => [...all, m], [])).toEqualTypeOf<svelte.Readable<In[]>>();
      expectTypeOf(svelte.socketState(ws)).toEqualTypeOf<svelte.Readable<ReturnType<typeof ws.getSnapshot>>>();
    });
  });
});
