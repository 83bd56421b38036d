// The chat UI, shared by index.html (UMD <script>) and esm.html (ESM import): each page loads
// the library its own way and hands it to startChat(). No framework; every piece of user data
// reaches the DOM through text nodes, never as HTML.
/* global crypto, sessionStorage, URLSearchParams, ResizeObserver */

const PROTOCOL = 'chat.v1';
const EVENT_LOG_SIZE = 40;
// The close codes with which the demo's server refuses a token (see auth.failCodes below).
const TOKEN_REFUSED = [4001];
// What a close without a reason meant, for the "Last close" field.
const CLOSE_CODES = {
  1000: '(normal closure)',
  1001: '(going away)',
  1006: '(link lost, no close frame)',
  1011: '(server error)',
  1012: '(server restarting)',
};

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
        h('a', { href: other[0] + location.search }, `switch to ${other[1]}`), ' · ',
        h('a', { href: '/react/' }, 'React version'))),
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
            stat('attempt', 'Attempt', 'first try'),
            stat('queued', 'Queued', '0 messages · 0 B'),
            stat('drops', 'Dropped', '0'),
            stat('protocol', 'Subprotocol'),
            stat('online', 'In this chat', 'unknown'),
            h('div', {}, h('dt', {}, 'Last close'),
              h('dd', {}, h('span', { id: 'last-close' }, '—'), ' ', h('time', { id: 'last-close-at', class: 'muted' })))),
          h('p', { class: 'muted small explain' },
            'Retry #n follows n failed tries since the last stable connection. ',
            'A refused token is fetched again at once, without a retry number.'),
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
    state: $('state'), attempt: $('attempt'), queued: $('queued'), drops: $('drops'), lastClose: $('last-close'),
    lastCloseAt: $('last-close-at'), protocol: $('protocol'), online: $('online'), announcer: $('announcer'), events: $('events'),
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
      // Named here (it is the default's 4001) because the panel tells a refresh from a retry by it.
      failCodes: TOKEN_REFUSED,
    },
    // Queued messages wait until the server has accepted the token.
    ready: (msg) => msg?.type === 'welcome',
    heartbeat: { interval: 5000, timeout: 3000 },
    reconnect: { maxDelay: 10_000 },
  });

  const view = {
    generation: 0,
    // The library's attempt number of the current or the scheduled try (see attemptText()).
    attempt: 0,
    retryAt: undefined,
    // The scheduled try is a token refresh (the server refused the token), not a backoff retry.
    refreshing: false,
    // How the open connection was reached, for the panel: 'first', 'retry' or 'token'.
    openedBy: 'first',
    drops: 0,
    connection: undefined,
    // The server's last presence count; it is only current while this page is connected.
    online: undefined,
    announced: 'connecting',
  };
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

  // One numbering everywhere, the library's: `connecting {attempt}` and `reconnecting
  // {attempt}` both count the failed tries since the last stable connection, so the try a
  // `reconnecting #2` announces is the one `connecting` later reports as 2.
  const tryName = (n) => (n === 0 ? 'first try' : `retry #${n}`);
  const seconds = (ms) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;

  function attemptText() {
    switch (ws.state) {
      case 'connecting':
        return view.refreshing ? 'connecting with a fresh token' : `${tryName(view.attempt)}, connecting`;
      case 'reconnecting':
        if (view.refreshing) return 'refreshing token';
        return view.retryAt === undefined
          ? `${tryName(view.attempt)} waits for the network`
          : `${tryName(view.attempt)} in ${seconds(view.retryAt - Date.now())}`;
      case 'open':
        return view.openedBy === 'token' ? 'open, with a fresh token' : `open, on ${view.attempt === 0 ? 'the first try' : `retry #${view.attempt}`}`;
      default:
        return 'stopped (no retry)';
    }
  }

  function onlineText() {
    if (view.online === undefined) return 'unknown';
    // Presence arrives over the socket: while it is down the count can be anything.
    if (ws.state !== 'open') return `unknown until reconnected (was ${view.online})`;
    return `${plural(view.online, 'page')}, yours included`;
  }

  // One render for everything that changes without an event of its own (the countdown, the
  // queue size), so the panel never shows a stale number.
  function render() {
    setText(ui.state, ws.state);
    ui.state.dataset.state = ws.state;
    setText(ui.attempt, attemptText());
    setText(ui.queued, `${plural(ws.queuedMessages, 'message')} · ${formatBytes(ws.queuedAmount)}`);
    setText(ui.drops, String(view.drops));
    setText(ui.online, onlineText());
    ui.online.dataset.fresh = String(ws.state === 'open' && view.online !== undefined);
    ui.empty.hidden = ui.messages.children.length > 0;
  }

  // The list follows the newest message while the reader is at (or near) the bottom, also when
  // a message grows after it was shown (its status pill or the server's timestamp changes) and
  // when the list itself changes size (a phone turned, the window resized).
  let pinned = true;
  const stickToBottom = () => {
    if (pinned) ui.log.scrollTop = ui.log.scrollHeight;
  };
  ui.log.addEventListener('scroll', () => {
    pinned = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
  }, { passive: true });
  const resized = new ResizeObserver(stickToBottom);
  resized.observe(ui.messages);
  resized.observe(ui.log);

  function showMessage(msg, { own = false, status } = {}) {
    const known = rendered.get(msg.id);
    if (known) {
      // Our own message coming back, or one we already have replayed from the history.
      if (known.dataset.status && known.dataset.status !== 'delivered') setStatus(known, 'delivered', msg.at);
      return;
    }
    const li = h('li', { 'data-id': msg.id, class: own ? 'own' : undefined },
      h('div', { class: 'meta' }, h('strong', {}, msg.name), ' ', h('time', {}, clock(msg.at ?? Date.now()))),
      h('p', {}, msg.text));
    if (own) li.querySelector('.meta').append(' ', h('span', { class: 'pill' }));
    rendered.set(msg.id, li);
    ui.messages.append(li);
    if (own) setStatus(li, status);
    // Whoever sends a message wants to see it, wherever the list was scrolled to.
    if (own) pinned = true;
    stickToBottom();
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
    else if (msg?.type === 'presence') view.online = msg.online;
    else if (msg?.type === 'welcome') {
      view.connection = msg.connection;
      view.online = msg.online;
      for (const m of msg.history ?? []) showMessage(m);
      resendUnconfirmed();
    }
    render();
  }

  // The state changes are logged through the typed events below, which say why; the
  // statechange listener keeps the badge and the screen reader up to date.
  ws.on('statechange', ({ to }) => {
    if (to === 'open') view.generation++;
    if (to === 'open' || to === 'closed' || (to === 'reconnecting' && view.announced === 'open')) {
      announce(to === 'open' ? 'Connected.' : to === 'closed' ? 'Disconnected; the client stopped trying.' : 'Connection lost; reconnecting.');
      view.announced = to;
    }
    if (to === 'closed') logEvent('closed', 'the client stopped');
    render();
  });
  ws.on('connecting', ({ attempt }) => {
    view.attempt = attempt;
    view.retryAt = undefined;
    logEvent('connecting', view.refreshing ? 'with a fresh token' : tryName(attempt));
    render();
  });
  ws.on('reconnecting', ({ attempt, delay, closeEvent }) => {
    view.attempt = attempt;
    // A refused token is fetched again and retried at once, outside the backoff: it is not a
    // retry of its own, so it gets no number and no countdown.
    view.refreshing = TOKEN_REFUSED.includes(closeEvent?.code);
    view.retryAt = delay === null ? undefined : Date.now() + delay;
    if (view.refreshing) logEvent('refreshing token', `after ${closeEvent.code}`);
    else logEvent('reconnecting', delay === null ? `${tryName(attempt)} waits for the network` : `${tryName(attempt)} in ${seconds(delay)}`);
    render();
  });
  ws.on('open', ({ protocol }) => {
    view.openedBy = view.refreshing ? 'token' : view.attempt === 0 ? 'first' : 'retry';
    view.refreshing = false;
    setText(ui.protocol, protocol || '(none)');
    logEvent('open', protocol);
    render();
  });
  // The welcome that passed the gate also arrives as a `message`, handled there.
  ws.on('ready', ({ data }) => logEvent('ready', data?.connection ? `as ${data.connection}` : ''));
  ws.on('message', ({ data }) => onServerMessage(data));
  ws.on('close', ({ code, reason, willReconnect }) => {
    // The latest close has a field of its own: the log scrolls, this stays.
    setText(ui.lastClose, `${code} ${reason || CLOSE_CODES[code] || ''}`.trim());
    setText(ui.lastCloseAt, `at ${clock(Date.now(), true)}`);
    logEvent('close', `${code}${reason ? ` “${reason}”` : ''}${willReconnect ? '' : ', no retry'}`);
    render();
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
  // A v2 client publishes a snapshot after every change of its state or queue; the panel
  // follows it at once (the interval below still runs the countdown).
  if (typeof ws.subscribe === 'function') ws.subscribe(render);

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
