// The chat demo scaled out: `REDIS_URL=redis://127.0.0.1:6379 npm run demo -- --instances 2`.
// Several demo server instances share one Redis through the companion's Redis engine, behind
// a small round-robin TCP proxy on PORT (8080): each new connection goes to the next instance
// that is up, so a page's reconnect usually lands on another one and resumes its session there.
// The page shows which instance it reached ("Server: instance B, …").
//
// The instances run in this one process and share the app's own state (tokens, history) as
// they would share a database; the companion's sessions and topic live in Redis only. Send
// SIGUSR2 (`kill -USR2 <pid>`, printed at start) to restart instance A: its connections drop,
// the pages move to another instance, and no message is lost.
// demo/server.mjs calls main() and hands in its own functions: importing it from here would wait
// on its top-level await, which is waiting on us.
import { createServer, connect } from 'node:net';

/** Round-robin over `backends()`; a backend that refuses is skipped for the next one. */
function roundRobin(port, backends, log) {
  let next = 0;
  const server = createServer((client) => {
    client.on('error', () => undefined);
    client.pause();
    const list = backends();
    const tryAt = (tries) => {
      if (tries >= list.length) return client.destroy();
      const target = list[next++ % list.length];
      const upstream = connect(target.port, '127.0.0.1');
      upstream.once('error', () => {
        upstream.destroy();
        tryAt(tries + 1);
      });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryAt(0);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      log(`round-robin proxy on ${server.address().port}`);
      resolve(server);
    });
  });
}

export async function main(argv, { ensureBuilt, startDemo }) {
  const at = argv.indexOf('--instances');
  const count = Number(argv[at + 1] ?? 2);
  const url = process.env.REDIS_URL;
  if (!url) {
    console.error('--instances needs REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379 npm run demo -- --instances 2)');
    process.exit(1);
  }
  if (!Number.isInteger(count) || count < 1 || count > 26) {
    console.error(`--instances must be 1 to 26, got ${JSON.stringify(argv[at + 1])}`);
    process.exit(1);
  }
  const port = process.env.PORT === undefined || process.env.PORT === '' ? 8080 : Number(process.env.PORT);
  ensureBuilt();
  const { redisEngine } = await import('resilient-ws/server');
  const shared = { tokens: new Map(), history: [], received: new Map() };
  const instances = [];
  const start = async (name, instancePort = 0) => {
    const engine = redisEngine({ url, onHealth: (ok, err) => console.log(`  ${name}: redis ${ok ? 'ok' : `unavailable (${err?.code})`}`) });
    const demo = await startDemo({ port: instancePort, engine, instance: name, shared, log: (line) => console.log(`  ${name}: ${line}`) });
    return { name, engine, demo, port: demo.port };
  };
  for (let i = 0; i < count; i++) instances.push(await start(String.fromCharCode(65 + i)));
  const proxy = await roundRobin(port, () => instances, (line) => console.log(`  ${line}`));

  console.log(`resilient-ws chat demo, ${count} instances on ${url.replace(/\/\/[^@]*@/, '//…@')}: http://localhost:${proxy.address().port}/`);
  for (const x of instances) console.log(`  instance ${x.name} on port ${x.port}`);
  console.log(`  restart instance A: kill -USR2 ${process.pid}; Ctrl+C stops everything`);

  process.on('SIGUSR2', async () => {
    const a = instances[0];
    console.log(`  restarting instance ${a.name}`);
    await a.demo.close();
    await a.engine.close();
    instances[0] = await start(a.name, a.port);
    console.log(`  instance ${a.name} is back on port ${a.port}`);
  });
  const stop = async () => {
    proxy.close();
    for (const x of instances) {
      await x.demo.close();
      await x.engine.close();
    }
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
