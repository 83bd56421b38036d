// What an entry adds to an app that already imports the core: the core and the entry bundled
// together (esbuild, minified, as size-limit measures), gzipped, minus the core alone. The
// entries' own sizes, each bundled alone, are budgeted in .size-limit.json; this is the second
// figure for entries that are only ever used next to the core (resilient-ws/tabs).
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

const CHECKS = [{ name: 'resilient-ws/tabs on top of resilient-ws/core', add: "import { tabs } from './dist/tabs.mjs'; use(tabs);", limit: 2000 }];
const CORE = "import { ResilientWebSocket } from './dist/core.mjs'; use(ResilientWebSocket);";

async function gzipped(code) {
  const out = await build({ stdin: { contents: `const use = (x) => globalThis.keep = x;\n${code}`, resolveDir: process.cwd(), loader: 'js' }, bundle: true, minify: true, format: 'esm', write: false, logLevel: 'silent' });
  return gzipSync(out.outputFiles[0].contents, { level: 9 }).length;
}

let failed = false;
const core = await gzipped(CORE);
for (const { name, add, limit } of CHECKS) {
  const added = (await gzipped(`${CORE}\n${add}`)) - core;
  const ok = added <= limit;
  failed ||= !ok;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${added} B min+gzip (limit ${limit} B; core alone ${core} B)`);
}
if (failed) process.exit(1);
