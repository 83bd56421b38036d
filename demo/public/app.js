// The chat UI, shared by index.html (UMD <script>) and esm.html (ESM import): each page loads
// the library its own way and hands it to startChat(). No framework; every piece of user data
// reaches the DOM through text nodes, never as HTML.
/* global crypto, sessionStorage, URLSearchParams */

const PROTOCOL = 'chat.v1';
const EVENT_LOG_SIZE = 14;

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  // append() turns strings into text nodes, so markup in a message stays text.
  el.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

const randomId = () => Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('');

const formatBytes = (n) => (n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const clock = (t, seconds = false) =>
  new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(seconds && { second: '2-digit' }) });

function initialName() {
  const fromUrl = new URLSearchParams(location.search).get('name');
  return (fromUrl || sessionStorage.getItem('chat-name') || `Guest ${Math.floor(100 + Math.random() * 900)}`).slice(0, 40);
}

// The loader <script> elements of the page, shown as they are so the page documents itself.
function loaderSource() {
  return Array.from(document.querySelectorAll('script[data-loader]'), (s) =>
    s.outerHTML.replace(' data-loader=""', '').replace(/\n {4}/g, '\n'),
  ).join('\n');
}

function buildPage(build) {
  const field = (id, label, input) => h('div', { class: `field field-${id}` }, h('label', { for: id }, label), input);
  const stat = (id, label, value = '—') => h('div', {}, h('dt', {}, label), h('dd', { id }, value));
  const fault = (name, label, description) =>
    h('li', {}, h('button', { type: 'button', 'data-fault': name, 'aria-describedby': `fault-${name}` }, label),
      h('span', { id: `fault-${name}`, class: 'muted' }, description));
  const other = build === 'umd' ? ['/esm.html', 'ESM import'] : ['/', 'UMD <script>'];

  return h('div', { class: 'page' },
    h('header', { class: 'top' },
      h('h1', {}, 'resilient-ws ', h('span', { class: 'muted' }, 'chat demo')),
      h('p', { class: 'build' }, 'Library loaded with ',
        h('strong', {}, build === 'umd' ? 'the UMD <script>' : 'an ESM import'), ' · ',
        h('a', { href: other[0] + location.search }, `switch to ${other[1]}`))),
    h('main', { class: 'layout' },
      h('section', { class: 'chat panel', 'aria-labelledby': 'chat-title' },
        h('h2', { id: 'chat-title' }, 'Chat'),
        h('div', { id: 'log', class: 'log', role: 'log', 'aria-label': 'Messages' }, h('ol', { id: 'messages', class: 'messages' })),
        h('p', { id: 'empty', class: 'empty muted' }, 'No messages yet. Say hello, then open this page in a second window.'),
        h('form', { id: 'composer', class: 'composer' },
          field('name', 'Name', h('input', { id: 'name', name: 'name', maxlength: 40, autocomplete: 'nickname', required: true })),
          field('text', 'Message', h('input', { id: 'text', name: 'text', maxlength: 500, autocomplete: 'off', required: true })),
          h('button', { type: 'submit', class: 'primary' }, 'Send')),
        h('p', { class: 'muted small' }, 'Messages sent while the connection is down wait in the queue and go out, once, after it comes back.')),
      h('aside', { class: 'side' },
        h('section', { class: 'panel', 'aria-labelledby': 'status-title' },
          h('h2', { id: 'status-title' }, 'Connection'),
          h('p', { id: 'announcer', class: 'visually-hidden', role: 'status' }),
          h('dl', { class: 'status' },
            h('div', {}, h('dt', {}, 'State'), h('dd', {}, h('span', { id: 'state', class: 'badge', 'data-state': 'connecting' }, 'connecting'))),
            stat('attempt', 'Attempt', '0'),
            stat('retry', 'Next retry'),
            stat('queued', 'Queued', '0 messages · 0 B'),
            stat('drops', 'Dropped', '0'),
            stat('last-close', 'Last close'),
            stat('protocol', 'Subprotocol'),
            stat('online', 'Online')),
          h('button', { id: 'reconnect', type: 'button' }, 'Reconnect now')),
        h('section', { class: 'panel', 'aria-labelledby': 'faults-title' },
          h('h2', { id: 'faults-title' }, 'Break the connection'),
          h('ul', { class: 'faults' },
            fault('restart', 'Restart server', 'Kills all sockets (no close frame), refuses new ones for 2 s.'),
            fault('drop', 'Drop all', 'Closes every connection with 1001.'),
            fault('stall', 'Stall mine', 'The server goes silent; the heartbeat notices within 8 s.'),
            fault('expire', 'Expire sessions', 'Closes with 4001; the client gets a fresh token.'))),
        h('section', { class: 'panel', 'aria-labelledby': 'events-title' },
          h('h2', { id: 'events-title' }, 'Events'),
          h('ol', { id: 'events', class: 'events', 'aria-label': 'Recent connection events, newest first' })))),
    h('details', { class: 'source panel' },
      h('summary', {}, 'How this page loads resilient-ws'),
      h('pre', {}, h('code', {}, loaderSource()))));
}

/**
 * Starts the chat with a resilient-ws module namespace (`window.ResilientWS` from the UMD
 * build, or the ESM exports): `{ ResilientWebSocket, jsonCodec }` is all it needs.
 */
export function startChat(ResilientWS, { build = 'umd', root = document.body } = {}) {
  root.prepend(buildPage(build));
  const $ = (id) => document.getElementById(id);
  const ui = {
    log: $('log'), messages: $('messages'), empty: $('empty'), form: $('composer'), name: $('name'), text: $('text'),
    state: $('state'), attempt: $('attempt'), retry: $('retry'), queued: $('queued'), drops: $('drops'),
    lastClose: $('last-close'), protocol: $('protocol'), online: $('online'), announcer: $('announcer'), events: $('events'),
  };
  ui.name.value = initialName();

  const ws = new ResilientWS.ResilientWebSocket('/chat', PROTOCOL, {
    codec: ResilientWS.jsonCodec,
    auth: {
      // A fresh short-lived token before every attempt; the server accepts each one once.
      token: async () => {
        const res = await fetch('/token', { cache: 'no-store' });
        if (!res.ok) throw new Error(`GET /token answered ${res.status}`);
        return res.text();
      },
      via: 'message',
    },
    // Queued messages wait until the server has accepted the token.
    ready: (msg) => msg?.type === 'welcome',
    heartbeat: { interval: 5000, timeout: 3000 },
    reconnect: { maxDelay: 10_000 },
  });

  const view = { generation: 0, attempt: 0, retryAt: undefined, waitingFor: undefined, drops: 0, connection: undefined, announced: 'connecting' };
  const rendered = new Map();
  const unconfirmed = new Map();

  const logEvent = (label, detail = '') => {
    ui.events.prepend(h('li', {}, h('time', {}, clock(Date.now(), true)), ' ', h('strong', {}, label), detail ? ` ${detail}` : ''));
    while (ui.events.children.length > EVENT_LOG_SIZE) ui.events.lastElementChild.remove();
  };

  const announce = (text) => {
    ui.announcer.textContent = text;
  };

  const setText = (el, text) => {
    if (el.textContent !== text) el.textContent = text;
  };

  // One render for everything that changes without an event of its own (the countdown, the
  // queue size), so the panel never shows a stale number.
  function render() {
    setText(ui.state, ws.state);
    ui.state.dataset.state = ws.state;
    setText(ui.attempt, String(view.attempt));
    if (ws.state === 'reconnecting' && view.retryAt !== undefined) {
      setText(ui.retry, `in ${Math.max(0, (view.retryAt - Date.now()) / 1000).toFixed(1)} s`);
    } else setText(ui.retry, ws.state === 'reconnecting' ? view.waitingFor ?? 'waiting' : '—');
    setText(ui.queued, `${plural(ws.queuedMessages, 'message')} · ${formatBytes(ws.queuedAmount)}`);
    setText(ui.drops, String(view.drops));
    ui.empty.hidden = ui.messages.children.length > 0;
  }

  function showMessage(msg, { own = false, status } = {}) {
    const known = rendered.get(msg.id);
    if (known) {
      // Our own message coming back, or one we already have replayed from the history.
      if (known.dataset.status && known.dataset.status !== 'delivered') setStatus(known, 'delivered', msg.at);
      return;
    }
    const nearBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    const li = h('li', { 'data-id': msg.id, class: own ? 'own' : undefined },
      h('div', { class: 'meta' }, h('strong', {}, msg.name), ' ', h('time', {}, clock(msg.at ?? Date.now()))),
      h('p', {}, msg.text));
    if (own) li.querySelector('.meta').append(' ', h('span', { class: 'pill' }));
    rendered.set(msg.id, li);
    ui.messages.append(li);
    if (own) setStatus(li, status);
    if (nearBottom || own) ui.log.scrollTop = ui.log.scrollHeight;
    render();
  }

  function setStatus(li, status, at) {
    li.dataset.status = status;
    if (status === 'delivered' || status.startsWith('dropped')) unconfirmed.delete(li.dataset.id);
    li.querySelector('.pill').textContent = status === 'delivered' ? '✓ delivered' : status;
    if (at) li.querySelector('time').textContent = clock(at);
  }

  // A message the socket took just before the link died (a stalled link swallows it) may
  // never have reached the server, and no client library can know: its bytes had left
  // `bufferedAmount`. The server's history in `welcome` tells: what it lacks and went out on
  // an earlier connection is sent again with the same id, which the server ignores if the first
  // copy arrived after all. Messages flushed from the queue on this connection are not resent.
  function resendUnconfirmed() {
    let n = 0;
    for (const [id, entry] of unconfirmed) {
      if (entry.sentOn === undefined || entry.sentOn >= view.generation) continue;
      const result = ws.send(entry.msg);
      entry.sentOn = result === 'sent' ? view.generation : undefined;
      setStatus(rendered.get(id), result === 'sent' ? 'resent' : result);
      n++;
    }
    if (n > 0) logEvent('resent', plural(n, 'unconfirmed message'));
  }

  function onServerMessage(msg) {
    if (msg?.type === 'chat') showMessage(msg);
    else if (msg?.type === 'presence') setText(ui.online, String(msg.online));
    else if (msg?.type === 'welcome') {
      view.connection = msg.connection;
      setText(ui.online, String(msg.online));
      for (const m of msg.history ?? []) showMessage(m);
      resendUnconfirmed();
    }
  }

  ws.on('statechange', ({ from, to }) => {
    if (to === 'open') view.generation++;
    logEvent('statechange', `${from} → ${to}`);
    if (to === 'open' || to === 'closed' || (to === 'reconnecting' && view.announced === 'open')) {
      announce(to === 'open' ? 'Connected.' : to === 'closed' ? 'Disconnected; the client stopped trying.' : 'Connection lost; reconnecting.');
      view.announced = to;
    }
    render();
  });
  ws.on('connecting', ({ attempt }) => {
    view.attempt = attempt;
    view.retryAt = undefined;
    render();
  });
  ws.on('reconnecting', ({ attempt, delay }) => {
    view.retryAt = delay === null ? undefined : Date.now() + delay;
    view.waitingFor = delay === null ? 'waiting for the network' : undefined;
    logEvent('reconnecting', delay === null ? `#${attempt}, waiting for the network` : `#${attempt} in ${(delay / 1000).toFixed(1)} s`);
    render();
  });
  ws.on('open', ({ protocol }) => {
    setText(ui.protocol, protocol || '(none)');
    logEvent('open', protocol);
  });
  // The welcome that passed the gate also arrives as a `message`, handled there.
  ws.on('ready', ({ data }) => logEvent('ready', data?.connection ? `as ${data.connection}` : ''));
  ws.on('message', ({ data }) => onServerMessage(data));
  ws.on('close', ({ code, reason, willReconnect }) => {
    setText(ui.lastClose, `${code}${reason ? ` ${reason}` : ''}`);
    logEvent('close', `${code}${reason ? ` “${reason}”` : ''}${willReconnect ? '' : ', no retry'}`);
  });
  ws.on('drop', ({ data, reason }) => {
    view.drops++;
    const li = data?.id && rendered.get(data.id);
    if (li) setStatus(li, `dropped (${reason})`);
    logEvent('drop', reason);
    render();
  });
  ws.on('drain', () => {
    // The queue is empty: every queued message is now with the socket.
    for (const [id, entry] of unconfirmed) {
      if (entry.sentOn !== undefined) continue;
      entry.sentOn = view.generation;
      setStatus(rendered.get(id), 'sent');
    }
    logEvent('drain', 'queue empty');
  });
  ws.on('giveup', ({ reason, error }) => logEvent('giveup', `${reason}: ${error.code}`));
  ws.on('error', ({ error }) => logEvent('error', error.code));
  ws.on('warning', ({ message }) => logEvent('warning', message));

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    const name = ui.name.value.trim();
    if (!text || !name) return;
    const msg = { type: 'chat', id: randomId(), name, text };
    let result;
    try {
      result = ws.send(msg);
    } catch (error) {
      logEvent('send failed', error.code ?? String(error));
      return;
    }
    unconfirmed.set(msg.id, { msg, sentOn: result === 'sent' ? view.generation : undefined });
    showMessage(msg, { own: true, status: result });
    ui.text.value = '';
    ui.text.focus();
  });
  ui.name.addEventListener('change', () => sessionStorage.setItem('chat-name', ui.name.value.trim()));

  $('reconnect').addEventListener('click', () => {
    logEvent('reconnect()', 'requested');
    ws.reconnect();
  });
  for (const button of document.querySelectorAll('[data-fault]')) {
    button.addEventListener('click', async () => {
      const name = button.dataset.fault;
      // Without an id the server would stall every connection, not just this page's.
      if (name === 'stall' && !view.connection) {
        logEvent('fault failed', 'stall: not connected yet');
        return;
      }
      const query = name === 'stall' ? `?connection=${encodeURIComponent(view.connection)}` : '';
      logEvent('fault', name);
      try {
        const res = await fetch(`/fault/${name}${query}`, { method: 'POST' });
        if (!res.ok) logEvent('fault failed', `${name}: ${res.status}`);
      } catch (error) {
        logEvent('fault failed', `${name}: ${error.message}`);
      }
    });
  }

  setInterval(render, 100);
  render();
  return { ws };
}
