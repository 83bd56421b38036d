// React 19 fixture: N widgets on one client, plus two probes for the selector test. Written
// with createElement so the repository's tsconfig needs no JSX setting.
import { createElement as h, Fragment, useEffect } from 'react';
import { useSocket, useSocketEvent, useSocketReducer } from '../../../src/react.js';
import { collect, count, inOrder, socket } from './socket.js';

export const events = { message: 0 };

function Widget({ id }: { id: string }) {
  count(id, 'renders');
  const ws = socket();
  const state = useSocket(ws, (s) => s.state);
  const seqs = useSocketReducer(ws, collect, []);
  // A new handler every render: the hook calls the latest one and causes no render itself.
  useSocketEvent(ws, 'message', () => {
    events.message += 1;
  });
  useEffect(() => count(id, 'commits'));
  return h('div', { className: 'widget', 'data-id': id, 'data-state': state, 'data-count': seqs.length, 'data-ordered': String(inOrder(seqs)) }, `${state} ${seqs.length}`);
}

function StateProbe() {
  count('state-probe', 'renders');
  const state = useSocket(socket(), (s) => s.state);
  return h('p', { id: 'state-probe' }, state);
}

function BytesProbe() {
  count('bytes-probe', 'renders');
  const bytes = useSocket(socket(), (s) => s.queuedBytes);
  return h('p', { id: 'bytes-probe', 'data-bytes': bytes }, String(bytes));
}

export function App({ n, probes = false }: { n: number; probes?: boolean }) {
  const widgets = Array.from({ length: n }, (_, i) => h(Widget, { key: i, id: `w${i}` }));
  return h(Fragment, null, ...widgets, probes ? h(StateProbe) : null, probes ? h(BytesProbe) : null);
}
