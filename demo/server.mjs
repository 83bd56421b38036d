// The resilient-ws chat demo: one Node.js process serves the page, the built library and the
// chat WebSocket endpoint on one port, plus fault endpoints that break the connection on
// purpose so a person can watch the client recover. `npm run demo` runs this file.
//
// The chat endpoint speaks two ways on one path. The page uses `reliable()` and `tabs()` with
// lanes: the leader tab offers `rws.v2`, and the server companion (`attach()` from
// resilient-ws/server, memory engine) carries every tab's session in a lane of that one
// connection, numbering, acknowledging and replaying its messages; the chat fans out through the
// companion's `chat` topic. A tab without Web Locks has its own `rws.v1` connection, the same
// protocol with one session. Plain connections (the React page) get the same chat as plain JSON
// frames.
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { buildReactDemo } from './react/build.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC = join(ROOT, 'demo', 'public');
const DIST = join(ROOT, 'dist');
const SRC = join(ROOT, 'src');
const BUNDLES = ['resilient-ws.umd.min.js', 'resilient-ws.mjs', 'reliable.mjs', 'tabs.mjs', 'server.mjs'];

const PROTOCOL = 'chat.v1';
const HISTORY_SIZE = 50;
// Message ids remembered for de-duplication (and for received()).
const SEEN_IDS = 10_000;
const MAX_NAME = 40;
const MAX_TEXT = 500;
const MAX_ID = 64;
// A client that opened but has not authenticated by then holds a socket for nothing.
const AUTH_DEADLINE_MS = 10_000;
// A stalled connection is cut after this long, as a real server's own liveness check would do:
// the client's heartbeat has given up on it long before (5 s + 3 s), but the server, reading
// nothing, would never see the client leave.
const STALL_LIMIT_MS = 20_000;
// The companion's fan-out topic for the chat.
const TOPIC = 'chat';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// URL path → file. The ESM bundle imports `mitt` by its bare name (a bundler resolves it);
// a page without a bundler maps that name to this file with an import map.
const ROUTES = [
  ['/dist/', DIST],
  ['/vendor/mitt.mjs', join(ROOT, 'node_modules', 'mitt', 'dist', 'mitt.mjs')],
  // The React page (demo/react/), bundled on start by buildReactDemo().
  ['/react/', join(DIST, 'demo-react')],
  ['/', PUBLIC],
];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const t = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/**
 * Runs `npm run build` when a bundle the page loads is missing or older than a file in `src/`,
 * so a fresh clone (or an edited source) never shows a stale library.
 */
export function ensureBuilt({ log = console.log } = {}) {
  const src = newestMtime(SRC);
  const stale = BUNDLES.filter((name) => {
    const file = join(DIST, name);
    return !existsSync(file) || statSync(file).mtimeMs < src;
  });
  if (stale.length === 0) return;
  log(`Building resilient-ws (${stale.join(', ')} missing or older than src/)…`);
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status ?? r.signal})`);
}

function sendFile(res, path) {
  const file = (() => {
    for (const [prefix, target] of ROUTES) {
      if (path === prefix && !prefix.endsWith('/')) return target;
      if (!prefix.endsWith('/') || !path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length) || 'index.html';
      const full = resolve(target, rest);
      // Refuse `..` tricks: only files inside the mapped folder are served.
      return full.startsWith(target + sep) ? full : undefined;
    }
    return undefined;
  })();
  if (!file || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    // The demo rebuilds the library in place; a cached bundle would hide the change.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(readFileSync(file));
}

const text = (res, status, body) =>
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(body);

const isShortString = (v, max) => typeof v === 'string' && v.length > 0 && v.length <= max;

/**
 * Starts the demo on `host:port` (port 0 picks a free one).
 *
 * @param {object} [options]
 * @param {number} [options.port=8080]
 * @param {string} [options.host='127.0.0.1'] The demo's fault endpoints are unauthenticated: keep it on loopback.
 * @param {number} [options.tokenTtlMs=60000] How long a token from `GET /token` stays valid.
 * @param {number} [options.restartDowntimeMs=2000] How long `/fault/restart` refuses new connections.
 * @param {(line: string) => void} [options.log] Where to report faults and connections; silent by default.
 * @param {import('resilient-ws/server').Engine} [options.engine] The companion's engine (demo/cluster.mjs: Redis); default memory.
 * @param {string} [options.instance] This instance's name, sent in the welcome so the page shows it.
 * @param {{ tokens: Map<string, number>, history: object[], received: Map<string, number> }} [options.shared] App state shared between instances.
 * @returns {Promise<import('./server.d.mts').Demo>}
 */
export async function startDemo({
  port = 8080,
  host = '127.0.0.1',
  tokenTtlMs = 60_000,
  restartDowntimeMs = 2000,
  log = () => {},
  engine,
  instance,
  shared,
} = {}) {
  buildReactDemo();
  // The companion is the built library (ensureBuilt() makes it), imported by its package name
  // as an application would import it.
  const { attach } = await import('resilient-ws/server');
  // demo/cluster.mjs runs several instances in one process: they share the app's state (as
  // they would share a database) and the companion's engine state lives in Redis.
  const tokens = shared?.tokens ?? new Map();
  const history = shared?.history ?? [];
  const received = shared?.received ?? new Map();
  /** Authenticated connections (a shared one counts once, however many tabs it carries). @type {Set<import('ws').WebSocket>} */
  const members = new Set();
  let nextConnection = 1;
  let refuseUntil = 0;
  let resumeTimer;

  const accepting = () => Date.now() >= refuseUntil;
  // `rws.v1[.chat.v1]`: one session; `rws.v2[.chat.v1]`: a tabs leader's, a session per lane.
  const isReliable = (ws) => ws.protocol.startsWith('rws.v');
  const hasLanes = (ws) => ws.protocol.startsWith('rws.v2');

  function issueToken() {
    // Forget expired tokens so a page left open for days does not grow the map.
    for (const [t, expires] of tokens) if (expires <= Date.now()) tokens.delete(t);
    const token = randomBytes(18).toString('base64url');
    tokens.set(token, Date.now() + tokenTtlMs);
    return token;
  }

  // A token authorises one connection: the client asks for a fresh one before every attempt.
  function redeem(token) {
    const expires = typeof token === 'string' ? tokens.get(token) : undefined;
    if (expires === undefined) return 'invalid token';
    tokens.delete(token);
    return expires > Date.now() ? undefined : 'token expired';
  }

  // Presence, pongs and welcomes belong to one connection and are never replayed: plain frames,
  // also on rws.v1/v2 connections (the plug-in passes a frame without an envelope through as it
  // is). On a shared connection such a frame is in no lane: the leader tab hands it to every
  // tab, or to the one its `route` names.
  const tell = (ws, message) => {
    if (!ws.stalled && ws.readyState === ws.OPEN) ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  };
  const online = () => [...members].filter((ws) => !ws.stalled).length;
  const presence = () => {
    const message = JSON.stringify({ type: 'presence', online: online() });
    for (const ws of members) tell(ws, message);
  };
  // `tab` addresses the welcome to the tab that sent the token (resilient-ws/tabs' `route`);
  // `now` (server clock) lets the page tell replayed messages from new ones.
  const welcome = (ws, tab) =>
    tell(ws, {
      type: 'welcome',
      ...(isShortString(tab, MAX_ID) && { tab }),
      connection: ws.connection,
      ...(instance && { instance }),
      online: online(),
      now: Date.now(),
      history,
    });

  /**
   * An auth message: the first frame of a connection, or of each lane of a shared one (every tab
   * authenticates its own session). A valid token gets that tab a welcome, sent at once: before
   * the companion answers the tab's hello, so before any replay of the topic. A refused token
   * closes a connection with 4001; in a lane it only fails (the companion closes that lane with
   * 1008), since closing the connection would cut every tab off.
   */
  function admit(ws, msg) {
    const lane = hasLanes(ws);
    const refused = msg?.type === 'auth' ? redeem(msg.token) : 'no token sent';
    if (refused) {
      log(`${ws.connection} refused: ${refused}${lane ? ' (one tab; the connection stays)' : ''}`);
      if (!lane) ws.close(4001, refused);
      return false;
    }
    clearTimeout(ws.deadline);
    if (!members.has(ws)) {
      members.add(ws);
      presence();
    }
    welcome(ws, msg.tab);
    return true;
  }

  /** A chat message from either kind of connection: stored once, then fanned out. */
  async function chat(msg) {
    if (msg?.type !== 'chat' || !isShortString(msg.id, MAX_ID) || !isShortString(msg.name, MAX_NAME) || !isShortString(msg.text, MAX_TEXT)) {
      return;
    }
    const copies = (received.get(msg.id) ?? 0) + 1;
    received.set(msg.id, copies);
    // The message's own id is the idempotency key, stored with the effect (the history): the
    // companion delivers each numbered message once, but a page whose session was reset sends
    // its unacknowledged messages again, with the same ids, in a new session.
    if (copies > 1) return;
    if (received.size > SEEN_IDS) received.delete(received.keys().next().value);
    const entry = { type: 'chat', id: msg.id, name: msg.name, text: msg.text, at: Date.now() };
    history.push(entry);
    if (history.length > HISTORY_SIZE) history.shift();
    const wire = JSON.stringify(entry);
    for (const ws of members) if (!isReliable(ws)) tell(ws, wire);
    // The topic's log replays it to an rws.v1 page that is away now, once it is back. The
    // companion acknowledges the message only after this promise: a tick means it is stored.
    await rel.publish(TOPIC, wire);
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 16 * 1024,
    // The page offers `chat.v1`; a client that offers only other protocols is refused at the
    // handshake instead of being served a format it did not ask for. The companion wraps this
    // and answers `rws.v2.chat.v1` to a tabs leader with lanes, `rws.v1.chat.v1` to a page with
    // end-to-end delivery and its own connection.
    handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false),
  });

  const rel = attach(wss, {
    engine,
    // `auth.via: 'message'` sends the token as the first frame, before the plug-in's hello: of
    // the connection, or of each tab's lane on a shared one.
    authenticate(data, { socket }) {
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        // Not JSON: refused below like a missing token.
      }
      return admit(socket, msg);
    },
    onSession(session, { resumed, reset }) {
      // The session's own news goes in the session (numbered, in its tab's lane): onSession
      // cannot tell which tab of a shared connection the session is, the lane can. Replayed
      // after a drop only if it was not acknowledged, and then before the newer one.
      session.send(JSON.stringify({ type: 'session', resumed, ...(reset && { reset }) })).catch((err) => log(`session notice failed: ${err.message}`));
      // Idempotent: a resumed session keeps its position in the topic.
      session.subscribe(TOPIC).catch((err) => log(`subscribe failed: ${err.message}`));
    },
    onMessage(data, { session }) {
      const raw = data.toString();
      if (raw === 'ping') {
        if (session.socket) tell(session.socket, 'pong');
        return;
      }
      let msg;
      try {
        msg = JSON.parse(raw);
      } catch {
        return;
      }
      return chat(msg);
    },
    onError: (err) => log(`companion: ${err.message}`),
  });

  wss.on('connection', (ws) => {
    ws.connection = `c${nextConnection++}`;
    ws.stalled = false;
    ws.deadline = setTimeout(() => ws.close(4001, 'no token sent'), AUTH_DEADLINE_MS);
    log(`${ws.connection} connected (${ws.protocol})`);

    ws.on('message', (data, isBinary) => {
      // rws.v1/v2 connections are read by the companion (authenticate, onMessage above), which
      // shows the unwrapped messages here too.
      if (isReliable(ws)) return;
      const raw = isBinary ? '' : data.toString();
      if (raw === 'ping') return tell(ws, 'pong');
      let msg;
      try {
        msg = JSON.parse(raw);
      } catch {
        return;
      }
      // A plain connection is one client's: its first frame is its token.
      if (!members.has(ws)) return void admit(ws, msg);
      void chat(msg);
    });

    ws.on('close', (code) => {
      clearTimeout(ws.deadline);
      clearTimeout(ws.stallTimer);
      log(`${ws.connection} closed (${code})`);
      if (members.delete(ws)) presence();
    });
    ws.on('error', () => {});
  });

  const pick = (connection) => [...wss.clients].filter((ws) => !connection || ws.connection === connection);
  // Cutting a stalled connection loses what it had not read, as when a link dies with bytes in
  // the server's buffers. Node reads a little ahead into the socket's own buffer even while it
  // is paused, and ws would parse that on close: it is thrown away first, unread.
  const cutOff = (ws) => {
    if (ws.stalled) {
      ws.tcp.removeAllListeners('data');
      while (ws.tcp.read() !== null);
    }
    ws.terminate();
  };
  const faults = {
    restart(downtimeMs = restartDowntimeMs) {
      log(`fault: restart, refusing connections for ${downtimeMs} ms`);
      refuseUntil = Date.now() + downtimeMs;
      clearTimeout(resumeTimer);
      // Only to log the moment the server takes connections again; `accepting()` decides.
      if (Number.isFinite(downtimeMs)) resumeTimer = setTimeout(() => log('fault: accepting connections again'), downtimeMs);
      // terminate() destroys the TCP socket without a close frame: the client sees 1006, as
      // when a server process dies. The companion's sessions live on in this process, so the
      // pages resume them; a real restart with the memory engine would reset them.
      for (const ws of wss.clients) ws.terminate();
    },
    resume() {
      refuseUntil = 0;
      clearTimeout(resumeTimer);
      log('fault: accepting connections again');
    },
    drop() {
      log('fault: drop all connections');
      for (const ws of wss.clients) ws.close(1001, 'dropped by the fault panel');
    },
    expire() {
      log('fault: expire all sessions');
      tokens.clear();
      for (const ws of wss.clients) ws.close(4001, 'session expired');
    },
    stall(connection) {
      const stalled = pick(connection).filter((ws) => !ws.stalled);
      for (const ws of stalled) {
        // A link that silently stopped: nothing is read (what the page sends stays in the
        // kernel's buffer) and nothing is written (ws keeps what it sends in memory).
        ws.stalled = true;
        ws.pause();
        ws.tcp.cork();
        ws.stallTimer = setTimeout(() => cutOff(ws), STALL_LIMIT_MS);
      }
      log(`fault: stall ${connection ?? 'all connections'} (${stalled.length})`);
      if (stalled.length > 0) presence();
      return stalled.length;
    },
    cut(connection) {
      const cut = pick(connection);
      log(`fault: cut ${connection ?? 'all connections'} (${cut.length})`);
      // Whatever the kernel still held for a stalled connection is gone with it.
      for (const ws of cut) cutOff(ws);
      return cut.length;
    },
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const path = decodeURIComponent(url.pathname);
    if (path === '/token' && req.method === 'GET') return text(res, 200, issueToken());
    if (path.startsWith('/fault/')) {
      if (req.method !== 'POST') return text(res, 405, 'Use POST');
      const name = path.slice('/fault/'.length);
      if (name === 'restart') faults.restart();
      else if (name === 'drop') faults.drop();
      else if (name === 'expire') faults.expire();
      else if (name === 'stall') faults.stall(url.searchParams.get('connection') ?? undefined);
      else if (name === 'cut') faults.cut(url.searchParams.get('connection') ?? undefined);
      else return text(res, 404, 'Unknown fault');
      return text(res, 200, 'ok');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'Method not allowed');
    sendFile(res, path);
  });

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://demo').pathname;
    if (path !== '/chat' || !accepting()) {
      // While "restarting", refuse like a proxy whose backend is down; the browser reports a
      // failed handshake (1006) and the client backs off.
      socket.end(`HTTP/1.1 ${path === '/chat' ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Kept for the stall fault, which corks it.
      ws.tcp = socket;
      wss.emit('connection', ws, req);
    });
  });

  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const bound = server.address().port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${shownHost}:${bound}/`,
    port: bound,
    faults,
    received: (id) => received.get(id) ?? 0,
    connections: () => wss.clients.size,
    async close() {
      clearTimeout(resumeTimer);
      await rel.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

async function main() {
  // `npm run demo -- --instances 2` (with REDIS_URL): several instances on one Redis, demo/cluster.mjs.
  if (process.argv.includes('--instances')) return (await import('./cluster.mjs')).main(process.argv.slice(2), { ensureBuilt, startDemo });
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
    process.exit(1);
  }
  try {
    ensureBuilt();
  } catch (err) {
    console.error(err.message);
    process.exit(1);
  }
  let demo;
  try {
    demo = await startDemo({ port, log: (line) => console.log(`  ${line}`) });
  } catch (err) {
    if (err.code === 'EADDRINUSE') {
      console.error(`Port ${port} is in use; run PORT=${port + 1} npm run demo`);
      process.exit(1);
    }
    throw err;
  }
  console.log(`resilient-ws chat demo: http://localhost:${demo.port}/`);
  console.log(`  same chat with the ESM build: http://localhost:${demo.port}/esm.html`);
  console.log('  open it in two windows, then try the fault buttons; Ctrl+C stops the server');
  const stop = () => demo.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
