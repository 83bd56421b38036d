// The chat UI, shared by index.html (UMD <script>) and esm.html (ESM import): each page loads
// the library its own way and hands it to startChat(), with the plug-ins (ES modules). No
// framework; every piece of user data reaches the DOM through text nodes, never as HTML.
//
// One client does both: reliable() for end-to-end delivery (a tick means the server
// acknowledged the message; a page that was away gets what it missed on its return) and
// tabs({ lanes: lanes() }) for one connection across the tabs of a browser (the leader tab
// owns it; every tab keeps its own session, in a lane of it, so a handover loses nothing).
/* global crypto, sessionStorage, URLSearchParams, ResizeObserver */

const PROTOCOL = 'chat.v1';
// Tabs of one version share a connection. Pages from before lanes spoke another wire on it.
const TABS_VERSION = `${PROTOCOL}+lanes`;
const EVENT_LOG_SIZE = 40;
// The close codes with which the demo's server refuses a token (see auth.failCodes below):
// 4001 closes a connection; 1008 is the companion's close of one tab's lane on a shared one.
const TOKEN_REFUSED = [4001, 1008];
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
        h('p', { class: 'muted small' },
          'Messages sent while the connection is down wait in the queue; the plug-in numbers each one and sends it again until the server acknowledges it.')),
      h('aside', { class: 'side' },
        h('section', { class: 'panel', 'aria-labelledby': 'status-title' },
          h('h2', { id: 'status-title' }, 'Connection'),
          h('p', { id: 'announcer', class: 'visually-hidden', role: 'status' }),
          h('dl', { class: 'status' },
            h('div', {}, h('dt', {}, 'State'), h('dd', {}, h('span', { id: 'state', class: 'badge', 'data-state': 'connecting' }, 'connecting'))),
            stat('attempt', 'Attempt', 'first try'),
            stat('queued', 'Queued', '0 messages · 0 B'),
            stat('unacked', 'Awaiting ack', '0 messages'),
            stat('drops', 'Dropped', '0'),
            stat('protocol', 'Subprotocol'),
            stat('session', 'Session'),
            stat('tab', 'This tab', 'joining…'),
            stat('online', 'Server', 'unknown'),
            h('div', {}, h('dt', {}, 'Last close'),
              h('dd', {}, h('span', { id: 'last-close' }, '—'), ' ', h('time', { id: 'last-close-at', class: 'muted' })))),
          h('p', { class: 'muted small explain' },
            'Retry #n follows n failed tries since the last stable connection. ',
            'A refused token is fetched again at once, without a retry number.'),
          h('div', { class: 'actions' },
            h('button', { id: 'reconnect', type: 'button' }, 'Reconnect now')),
          h('p', { id: 'tabs-note', class: 'muted small tabs-note' },
            '✓ means the server acknowledged the message. Open this page in another tab of this browser: ',
            'the tabs share one connection, which the leader tab owns, and each keeps its own session. ',
            'Close the leader tab to watch another take over.')),
        h('section', { class: 'panel', 'aria-labelledby': 'faults-title' },
          h('h2', { id: 'faults-title' }, 'Break the connection'),
          h('ul', { class: 'faults' },
            fault('restart', 'Restart server', 'Kills all sockets (no close frame), refuses new ones for 2 s.'),
            fault('drop', 'Drop all', 'Closes every connection with 1001.'),
            fault('stall', 'Stall mine', 'The server goes silent; the heartbeat notices within 8 s.'),
            fault('stall-drop', 'Stall, then drop', 'The server stops reading, this page sends a message, then the link is cut with it in the kernel buffer.'),
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
 * build, or the ESM exports): `{ ResilientWebSocket, jsonCodec }`, plus the plug-in factories
 * `reliable` and `lanes` (resilient-ws/reliable) and `tabs` (resilient-ws/tabs).
 */
export function startChat(ResilientWS, { build = 'umd', root = document.body, reliable, lanes, tabs } = {}) {
  root.prepend(buildPage(build));
  const $ = (id) => document.getElementById(id);
  const ui = {
    log: $('log'), messages: $('messages'), empty: $('empty'), form: $('composer'), name: $('name'), text: $('text'),
    state: $('state'), attempt: $('attempt'), queued: $('queued'), unacked: $('unacked'), drops: $('drops'),
    lastClose: $('last-close'), lastCloseAt: $('last-close-at'), protocol: $('protocol'), session: $('session'),
    tab: $('tab'), online: $('online'), announcer: $('announcer'), events: $('events'),
  };
  ui.name.value = initialName();

  // End-to-end delivery; this tab's session survives a reload of it (sessionStorage).
  const rel = reliable({ storageKey: 'resilient-ws-demo.session' });
  // One connection for all tabs of this app version, each tab's session in a lane of it. What
  // the server writes in a lane reaches that tab alone; frames in no lane (presence, pongs)
  // reach every tab, except the welcome, which the server sends for one tab's token and the
  // leader hands to that tab.
  const tab = tabs({
    name: 'resilient-ws-demo',
    version: TABS_VERSION,
    lanes: lanes(),
    route: (data) => (typeof data === 'string' && data.startsWith('{"type":"welcome"') ? JSON.parse(data).tab : undefined),
  });

  const options = {
    codec: ResilientWS.jsonCodec,
    auth: {
      // A fresh short-lived token before every attempt; the server accepts each one once.
      token: async () => {
        const res = await fetch('/token', { cache: 'no-store' });
        if (!res.ok) throw new Error(`GET /token answered ${res.status}`);
        return res.text();
      },
      // The first frame of this tab's lane, never the URL: the companion's `authenticate` option
      // reads it before the plug-in's hello. The tab id lets the server answer this tab alone.
      via: 'message',
      message: (token) => JSON.stringify({ type: 'auth', token, tab: tab.id }),
      // Named here because the panel tells a refresh from a retry by them.
      failCodes: TOKEN_REFUSED,
    },
    // Queued messages wait until the server has accepted the token.
    ready: (msg) => msg?.type === 'welcome',
    heartbeat: { interval: 5000, timeout: 3000 },
    reconnect: { maxDelay: 10_000 },
    plugins: [rel],
  };
  const ws = new ResilientWS.ResilientWebSocket('/chat', PROTOCOL, tab.options(options));

  const view = {
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
    // The server's clock when it welcomed this connection: chat messages older than that,
    // arriving after it, are the topic's replay of what this page missed.
    welcomedAt: undefined,
    hadHistory: false,
    session: '—',
    leader: undefined,
    // This connection began with a reset (the server could not resume the session).
    reset: false,
  };
  const rendered = new Map();
  /** Own messages not handed to the socket yet (status 'queued'). */
  const queued = new Set();

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
        if (ws.getSnapshot().leader === false) return 'waits for the leader tab';
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
    if (ws.state !== 'open') return `unknown until reconnected (was ${plural(view.online, 'connection')})`;
    const where = view.instance ? `instance ${view.instance}, ` : '';
    return `${where}${plural(view.online, 'connection')}`;
  }

  function tabText() {
    const { leader, shared } = ws.getSnapshot();
    if (!shared) return 'own connection (no Web Locks here)';
    return leader ? 'leader: owns the connection' : 'follower: sends through the leader';
  }

  // One render for everything that changes without an event of its own (the countdown, the
  // queue size), so the panel never shows a stale number.
  function render() {
    setText(ui.state, ws.state);
    ui.state.dataset.state = ws.state;
    setText(ui.attempt, attemptText());
    setText(ui.queued, `${plural(ws.queuedMessages, 'message')} · ${formatBytes(ws.queuedAmount)}`);
    setText(ui.unacked, plural(rel.unacked, 'message'));
    setText(ui.drops, String(view.drops));
    setText(ui.session, view.session);
    setText(ui.tab, tabText());
    const { leader, shared } = ws.getSnapshot();
    ui.tab.dataset.role = !shared ? 'own' : leader ? 'leader' : 'follower';
    setText(ui.online, onlineText());
    ui.online.dataset.fresh = String(ws.state === 'open' && view.online !== undefined);
    ui.online.dataset.count = ws.state === 'open' && view.online !== undefined ? String(view.online) : '';
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

  /**
   * Shows a message once. `copy`: it came from the server's fan-out (not the history), and is
   * counted in `data-copies`, so a duplicate would show (and the tests would see it).
   */
  function showMessage(msg, { own = false, status, copy = false } = {}) {
    const known = rendered.get(msg.id);
    if (known) {
      if (copy) known.dataset.copies = String(Number(known.dataset.copies) + 1);
      // Our own message coming back: the server's timestamp replaces ours (the tick is the ack's).
      if (copy && msg.at) known.querySelector('time').textContent = clock(msg.at);
      return known;
    }
    const li = h('li', { 'data-id': msg.id, 'data-copies': copy ? 1 : 0, class: own ? 'own' : undefined },
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
    return li;
  }

  const PILL = { delivered: '✓ acknowledged', sent: 'sent, awaiting ack' };
  function setStatus(li, status) {
    li.dataset.status = status;
    if (status !== 'queued') queued.delete(li.dataset.id);
    li.querySelector('.pill').textContent = PILL[status] ?? status;
  }

  function onServerMessage(msg) {
    if (msg?.type === 'chat') {
      const replayed = view.welcomedAt !== undefined && msg.at < view.welcomedAt && !rendered.has(msg.id);
      const li = showMessage(msg, { copy: true });
      if (replayed) {
        li.dataset.replayed = 'true';
        logEvent('missed while away', `${msg.name}: ${msg.text.slice(0, 40)}`);
      }
    } else if (msg?.type === 'presence') view.online = msg.online;
    else if (msg?.type === 'welcome') {
      view.connection = msg.connection;
      view.online = msg.online;
      // Set by demo/cluster.mjs (several instances on one Redis): which one this page reached.
      view.instance = msg.instance;
      view.welcomedAt = msg.now;
      // The history fills a new page only: what a returning page missed comes as the topic's replay.
      if (!view.hadHistory) for (const m of msg.history ?? []) showMessage(m);
      view.hadHistory = true;
    } else if (msg?.type === 'session') {
      // In this tab's session (the server's onSession). After a reset the new session is
      // announced by the reset event, which came first.
      if (!view.reset) view.session = msg.resumed ? 'resumed: nothing lost' : 'new';
    }
    render();
  }

  // The state changes are logged through the typed events below, which say why; the
  // statechange listener keeps the badge and the screen reader up to date.
  ws.on('statechange', ({ to }) => {
    if (to === 'open' || to === 'closed' || (to === 'reconnecting' && view.announced === 'open')) {
      announce(to === 'open' ? 'Connected.' : to === 'closed' ? 'Disconnected; the client stopped trying.' : 'Connection lost; reconnecting.');
      view.announced = to;
    }
    if (to !== 'open') view.welcomedAt = undefined;
    else view.reset = false;
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
    else if (closeEvent?.reason === 'tab leader changed') logEvent('reconnecting', 'at once: the leader tab changed');
    else if (ws.getSnapshot().leader === false) logEvent('reconnecting', 'with the leader tab');
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
    for (const id of queued) setStatus(rendered.get(id), 'sent');
    logEvent('drain', 'queue empty');
  });
  // The server could not resume the session (expired, evicted, restarted): the plug-in
  // rejected the unacknowledged messages, and send() below sends each one again (same id).
  ws.on('reset', ({ reason, topic, lost }) => {
    // A topic reset ('trimmed') keeps the session: only older chat messages are gone.
    if (!topic) {
      view.reset = true;
      view.session = `reset (${reason}): a new session`;
    }
    logEvent('reset', `${reason}${topic ? ` ${topic}` : ''}, ${plural(lost, 'unacknowledged message')}`);
    render();
  });
  ws.on('giveup', ({ reason, error }) => logEvent('giveup', `${reason}: ${error.code}`));
  ws.on('error', ({ error }) => logEvent('error', error.code));
  ws.on('warning', ({ message }) => logEvent('warning', message));
  // A v2 client publishes a snapshot after every change of its state, queue or plug-in fields
  // (the tab's role); the panel follows it at once (the interval below runs the countdown).
  ws.subscribe(() => {
    const { leader } = ws.getSnapshot();
    if (leader !== view.leader) {
      if (leader && view.leader === false) {
        logEvent('handover', 'this tab leads now and owns the connection');
        announce('This tab took over the connection.');
      } else logEvent(leader ? 'leader' : 'follower', leader ? 'this tab owns the connection' : 'this tab sends through the leader tab');
      view.leader = leader;
    }
    render();
  });

  /** Sends a chat message; its pill turns to ✓ on the server's ack. */
  function send(msg, li, again = false) {
    const before = ws.queuedMessages;
    rel.sendReliable(msg).then(
      () => {
        setStatus(li, 'delivered');
        // An ack changes no field of the snapshot: "Awaiting ack" follows the tick here.
        render();
      },
      (error) => {
        // Once: the server keeps the id, so a second copy would be harmless, but a loop is not.
        if (error.code === 'SESSION_RESET' && !again) {
          logEvent('resent', 'after the session reset');
          send(msg, li, true);
          setStatus(li, queued.has(msg.id) ? 'queued' : 'resent');
        } else setStatus(li, `not sent (${error.code})`);
        render();
      },
    );
    const result = ws.state === 'open' && ws.queuedMessages <= before ? 'sent' : 'queued';
    if (result === 'queued') queued.add(msg.id);
    return result;
  }

  function say(text) {
    const name = ui.name.value.trim() || 'Guest';
    const msg = { type: 'chat', id: randomId(), name, text };
    const li = showMessage(msg, { own: true, status: 'queued' });
    let result;
    try {
      result = send(msg, li);
    } catch (error) {
      logEvent('send failed', error.code ?? String(error));
      setStatus(li, `not sent (${error.code ?? 'error'})`);
      return li;
    }
    setStatus(li, result);
    render();
    return li;
  }

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = ui.text.value.trim();
    if (!text || !ui.name.value.trim()) return;
    say(text);
    ui.text.value = '';
    ui.text.focus();
  });
  ui.name.addEventListener('change', () => sessionStorage.setItem('chat-name', ui.name.value.trim()));

  $('reconnect').addEventListener('click', () => {
    logEvent('reconnect()', 'requested');
    ws.reconnect();
  });

  const fault = async (name, query = '') => {
    const res = await fetch(`/fault/${name}${query}`, { method: 'POST' });
    if (!res.ok) throw new Error(`${name}: ${res.status}`);
  };
  // Waits (bounded) until the browser handed everything to the operating system.
  const flushed = () =>
    new Promise((resolve) => {
      const until = Date.now() + 2000;
      const poll = () => (ws.bufferedAmount === 0 || Date.now() > until ? resolve() : setTimeout(poll, 10));
      poll();
    });
  // The kernel-buffer case no client library can see on its own: the server stops reading, this
  // page sends (the bytes leave the browser and wait in the server's receive buffer), then the
  // server destroys the socket and those bytes with it. The plug-in still has the message
  // unacknowledged and sends it again after the reconnect.
  async function stallThenDrop(connection) {
    await fault('stall', `?connection=${encodeURIComponent(connection)}`);
    say('Sent while the server had stopped reading, then the link was cut: re-sent once the page was back.');
    await flushed();
    logEvent('fault', 'cut, with the message in the kernel buffer');
    await fault('cut', `?connection=${encodeURIComponent(connection)}`);
  }
  for (const button of document.querySelectorAll('[data-fault]')) {
    button.addEventListener('click', async () => {
      const name = button.dataset.fault;
      const one = name === 'stall' || name === 'stall-drop';
      // Without an id the server would stall every connection, not just this page's.
      if (one && (!view.connection || ws.state !== 'open')) {
        logEvent('fault failed', `${name}: not connected`);
        return;
      }
      logEvent('fault', name);
      try {
        if (name === 'stall-drop') await stallThenDrop(view.connection);
        else await fault(name, one ? `?connection=${encodeURIComponent(view.connection)}` : '');
      } catch (error) {
        logEvent('fault failed', `${name}: ${error.message}`);
      }
    });
  }

  setInterval(render, 100);
  render();
  return { ws, rel, tab };
}
