// The benchmark's two servers, both on 127.0.0.1 with a free port:
// - an HTTP server for the page, the bundles, the page's results (POST /result/<job>) and its
//   requests to the WebSocket server (GET /ctl/...);
// - a `ws` server whose behaviour is chosen by the path the page connects to.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { WebSocketServer } from 'ws';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json' };

/**
 * Counts what an unpaced producer delivers and says `done <count> <outOfOrder> <idleMs>` once all
 * `n` arrived, or once nothing arrived for `quietMs` (a library that dropped some never reaches
 * `n`). `idleMs` is how long the server waited after the last message, for the page to subtract.
 * Each message starts with its index, so duplicates and reordering are counted (`outOfOrder`).
 */
function countBurst(ws, n, quietMs, read) {
  let count = 0;
  let expected = 0;
  let outOfOrder = 0;
  let lastAt = Date.now();
  let quiet;
  const finish = () => {
    clearTimeout(quiet);
    if (ws.readyState === ws.OPEN) ws.send(`done ${count} ${outOfOrder} ${count === n ? 0 : Date.now() - lastAt}`);
  };
  const arm = (ms = quietMs) => {
    clearTimeout(quiet);
    quiet = setTimeout(finish, ms);
  };
  // Before the first message the page is still opening; give it longer.
  arm(quietMs + 5000);
  ws.on('message', (data) => {
    const index = read(data);
    // A gap is a drop (the count shows it); only a step back is a duplicate or a reordering.
    if (index < expected) outOfOrder++;
    else expected = index + 1;
    lastAt = Date.now();
    if (++count === n) finish();
    else arm();
  });
  ws.on('close', () => clearTimeout(quiet));
}

/**
 * The ws server. `/send?n=`, `/recv?n=`, `/burst?n=`, `/stall?n=&pauseMs=`, `/storm`, `/cycle`:
 * see each handler.
 */
async function startWsServer() {
  const http = createServer((_req, res) => res.writeHead(426).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'ws://x');
    const n = Number(url.searchParams.get('n'));
    switch (url.pathname) {
      case '/send': {
        // Counts what the page sends and says `done` once all n arrived.
        let count = 0;
        ws.on('message', () => {
          if (++count === n) ws.send('done');
        });
        break;
      }
      case '/burst':
        // The unpaced producer: n text messages in one synchronous loop.
        countBurst(ws, n, 2000, (data) => Number(data.toString('latin1', 0, 8)));
        break;
      case '/stall': {
        // n binary chunks; at the first one the server stops reading for pauseMs (the kernel's
        // buffers fill, then the browser's), then reads on. The quiet time covers the pause.
        const pauseMs = Number(url.searchParams.get('pauseMs'));
        ws.once('message', () => {
          ws.pause();
          setTimeout(() => ws.resume(), pauseMs);
        });
        countBurst(ws, n, pauseMs + 3000, (data) => data.readUInt32LE(0));
        break;
      }
      case '/recv': {
        // On `go`, n messages of 64 bytes. One string is shared: the cost measured is the page's.
        const payload = 'r'.repeat(64);
        ws.once('message', () => {
          for (let i = 0; i < n; i++) ws.send(payload);
        });
        break;
      }
      case '/cycle':
        // One reconnect cycle: a message out, the page's reply back, then the socket is dropped.
        ws.send('c'.repeat(64));
        ws.once('message', () => ws.terminate());
        break;
      default:
        break;
    }
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', ok));
  const { port } = http.address();
  return {
    port,
    /** Drops every client, refuses connections for `downMs`, then listens on the same port again. */
    async outage(downMs) {
      const closed = new Promise((ok) => http.close(ok));
      for (const client of wss.clients) client.terminate();
      await closed;
      await new Promise((ok) => setTimeout(ok, downMs));
      await new Promise((ok, fail) => {
        http.once('error', fail);
        http.listen(port, '127.0.0.1', () => {
          http.off('error', fail);
          ok();
        });
      });
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise((ok) => (http.listening ? http.close(ok) : ok()));
    },
  };
}

/**
 * Starts both servers. `files` maps URL paths to files on disk (only these are served);
 * `page(job)` returns the HTML for `/job/<id>`.
 */
export async function startServers({ root, files, page }) {
  const wsServer = await startWsServer();
  const waiting = new Map();
  const http = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, kind, id] = url.pathname.split('/');
      if (req.method === 'POST' && kind === 'result' && waiting.has(id)) {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        res.writeHead(204).end();
        waiting.get(id)(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        waiting.delete(id);
        return;
      }
      if (kind === 'job' && id) {
        res.writeHead(200, { 'content-type': TYPES['.html'], 'cache-control': 'no-store' }).end(page(id));
        return;
      }
      if (kind === 'ctl' && id === 'outage') {
        await wsServer.outage(Number(url.searchParams.get('ms')));
        res.writeHead(204, { 'cache-control': 'no-store' }).end();
        return;
      }
      const file = files[url.pathname];
      const abs = file && resolve(root, file);
      if (!abs || !abs.startsWith(resolve(root) + sep)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': TYPES[extname(abs)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(await readFile(abs));
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${http.address().port}`;
  return {
    origin,
    wsOrigin: `ws://127.0.0.1:${wsServer.port}`,
    /** Resolves with what the page of job `id` POSTs to /result/<id>. */
    result(id) {
      return new Promise((ok) => waiting.set(id, ok));
    },
    forget(id) {
      waiting.delete(id);
    },
    async close() {
      http.closeAllConnections();
      await new Promise((ok) => http.close(ok));
      await wsServer.close();
    },
  };
}
