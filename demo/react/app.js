// The chat demo as a React 19 app on resilient-ws/react: the same server, protocol and token
// auth as the plain page (demo/public/app.js), with the connection panel and the message list
// driven by the hooks. demo/react/build.mjs bundles it (esbuild) when the demo server starts.
/* global crypto, sessionStorage */
import { createElement as h, StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { ResilientWebSocket, jsonCodec } from '../../src/index.ts';
import { useSocket, useSocketEvent, useSocketReducer } from '../../src/react.ts';

// One client for the whole app, outside every component. `lazy`: it connects when the first
// component subscribes; StrictMode's double mount reuses that one connection.
const ws = new ResilientWebSocket('/chat', 'chat.v1', {
  codec: jsonCodec,
  lazy: true,
  auth: {
    token: async () => {
      const res = await fetch('/token', { cache: 'no-store' });
      if (!res.ok) throw new Error(`GET /token answered ${res.status}`);
      return res.text();
    },
    via: 'message',
    failCodes: [4001],
  },
  ready: (msg) => msg?.type === 'welcome',
  heartbeat: { interval: 5000, timeout: 3000 },
  reconnect: { maxDelay: 10_000 },
});

const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');
const formatBytes = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
const clock = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

// Every server message folds into this state, one by one (a burst is never cut to its last one).
const EMPTY = { lines: [], online: undefined, connection: undefined };
function chat(state, msg) {
  const add = (lines, m) => (lines.some((l) => l.id === m.id) ? lines : [...lines, m].slice(-200));
  switch (msg?.type) {
    case 'welcome':
      return { lines: (msg.history ?? []).reduce(add, state.lines), online: msg.online, connection: msg.connection };
    case 'chat':
      return { ...state, lines: add(state.lines, msg) };
    case 'presence':
      return { ...state, online: msg.online };
    default:
      return state;
  }
}

function Status() {
  // The whole snapshot: this panel shows most of its fields.
  const s = useSocket(ws);
  const close = s.lastClose ? `${s.lastClose.code}${s.lastClose.reason ? ` ${s.lastClose.reason}` : ''}` : '—';
  return h('section', { className: 'panel', 'aria-labelledby': 'status-title' },
    h('h2', { id: 'status-title' }, 'Connection'),
    h('dl', { className: 'status' },
      h('div', null, h('dt', null, 'State'), h('dd', null, h('span', { id: 'state', className: 'badge', 'data-state': s.state }, s.state))),
      h('div', null, h('dt', null, 'Attempt'), h('dd', null, s.attempt === 0 ? 'first try' : `retry #${s.attempt}`)),
      h('div', null, h('dt', null, 'Queued'), h('dd', { id: 'queued' }, `${s.queuedMessages} · ${formatBytes(s.queuedBytes)}`)),
      h('div', null, h('dt', null, 'Subprotocol'), h('dd', null, s.protocol || '—')),
      h('div', { className: 'wide' }, h('dt', null, 'Last close'), h('dd', null, close))),
    h('button', { type: 'button', onClick: () => ws.reconnect() }, 'Reconnect now'));
}

function Events() {
  const [log, setLog] = useState([]);
  const push = (type, text) => setLog((l) => [{ key: randomId(), type, text, at: Date.now() }, ...l].slice(0, 30));
  // Each handler is the one of the latest render; none of them re-subscribes.
  useSocketEvent(ws, 'open', ({ protocol }) => push('open', protocol));
  useSocketEvent(ws, 'ready', () => push('ready', 'queue flows'));
  useSocketEvent(ws, 'close', ({ code, willReconnect }) => push('close', `${code}${willReconnect ? ', will reconnect' : ''}`));
  useSocketEvent(ws, 'reconnecting', ({ attempt, delay }) => push('reconnecting', delay === null ? 'waiting' : `#${attempt} in ${delay} ms`));
  useSocketEvent(ws, 'drop', ({ reason }) => push('drop', reason));
  return h('section', { className: 'panel', 'aria-labelledby': 'events-title' },
    h('h2', { id: 'events-title' }, 'Events'),
    h('ol', { id: 'events', className: 'events' }, log.map((e) => h('li', { key: e.key }, h('strong', null, e.type), ' ', e.text))));
}

function Chat() {
  const { lines, online, connection } = useSocketReducer(ws, chat, EMPTY);
  const [name, setName] = useState(() => sessionStorage.getItem('chat-name') || `Guest ${Math.floor(100 + Math.random() * 900)}`);
  const [text, setText] = useState('');
  const [mine, setMine] = useState({}); // id → what send() returned, until the server echoes it
  const submit = (event) => {
    event.preventDefault();
    if (!text.trim() || !name.trim()) return;
    const msg = { type: 'chat', id: randomId(), name: name.trim(), text: text.trim() };
    setMine((m) => ({ ...m, [msg.id]: ws.send(msg) }));
    setText('');
  };
  const shown = new Set(lines.map((l) => l.id));
  const pending = Object.entries(mine).filter(([id]) => !shown.has(id));
  return h('section', { className: 'chat panel', 'aria-labelledby': 'chat-title' },
    h('h2', { id: 'chat-title' }, 'Chat ', h('span', { className: 'muted' }, online === undefined ? '' : `· ${online} online${connection ? ` · you are ${connection}` : ''}`)),
    h('div', { className: 'log', role: 'log' },
      h('ol', { id: 'messages', className: 'messages' },
        lines.map((m) => h('li', { key: m.id, 'data-status': 'delivered' }, h('strong', null, m.name), ' ', m.text, ' ', h('time', { className: 'muted' }, m.at ? clock(m.at) : ''))),
        pending.map(([id, result]) => h('li', { key: id, 'data-status': result, className: 'muted' }, `(${result}) …`)))),
    h('form', { className: 'composer', onSubmit: submit },
      h('div', { className: 'field' }, h('label', { htmlFor: 'name' }, 'Name'),
        h('input', { id: 'name', value: name, maxLength: 40, onChange: (e) => { setName(e.target.value); sessionStorage.setItem('chat-name', e.target.value); } })),
      h('div', { className: 'field' }, h('label', { htmlFor: 'text' }, 'Message'),
        h('input', { id: 'text', value: text, maxLength: 500, autoComplete: 'off', onChange: (e) => setText(e.target.value) })),
      h('button', { type: 'submit', className: 'primary' }, 'Send')));
}

function App() {
  return h('div', { className: 'page' },
    h('header', { className: 'top' },
      h('h1', null, 'resilient-ws ', h('span', { className: 'muted' }, 'chat demo · React')),
      h('p', { className: 'build' }, 'Hooks from ', h('code', null, 'resilient-ws/react'), ' · ', h('a', { href: '/' }, 'plain page'))),
    h('main', { className: 'layout' }, h(Chat), h('aside', { className: 'side' }, h(Status), h(Events))));
}

createRoot(document.getElementById('root')).render(h(StrictMode, null, h(App)));
