// One server instance as its own process, for the crash tests: `node redis-instance.mjs <name>
// <redis url> [port]` (bundled from this file by the test). Prints `READY <port>` once it
// listens; it is meant to be ended with SIGKILL, so it keeps nothing that only a clean exit
// would save.
import { startApp } from './redis-app.js';

const [name = 'X', url = 'redis://127.0.0.1:6379', port = '0'] = process.argv.slice(2);
const app = await startApp(name, url, Number(port));
await app.engine.ready();
process.stdout.write(`READY ${app.port}\n`);
process.on('SIGTERM', () => void app.stop().then(() => process.exit(0)));
