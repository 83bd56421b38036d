// SPEC §8/§9: an entry's bundle holds none of the code of the plug-ins it does not import.
// Each plug-in module has a marker string no other module uses; bundling an import of the
// built entry with esbuild (as an app's bundler would) must leave the markers of the plug-ins
// the import does not name out of the output.
import { build } from 'esbuild';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execSync } from 'node:child_process';

const ROOT = resolve(import.meta.dirname, '../..');
const MARKERS = {
  tokenAuth: 'the auth token would travel unencrypted', // src/auth.ts
  heartbeat: 'heartbeat timeout', // src/heartbeat.ts
  pageLife: 'page entered the back/forward cache', // src/page.ts
} as const;
type Name = keyof typeof MARKERS;

let dir: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/core.mjs'))) execSync('npm run build', { cwd: ROOT, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'rws-core-bundle-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(entry: string, names: string[]): Promise<string> {
  const file = join(dir, `${names.join('-')}.mjs`);
  writeFileSync(file, `import { ${names.join(', ')} } from ${JSON.stringify(join(ROOT, entry))};\nconsole.log(${names.join(', ')});\n`);
  const out = await build({ entryPoints: [file], bundle: true, minify: true, format: 'esm', write: false, platform: 'browser' });
  return out.outputFiles[0]!.text;
}

describe('resilient-ws/core tree-shakes its plug-ins', () => {
  it('the core class alone holds none of the plug-ins', async () => {
    const code = await bundle('dist/core.mjs', ['ResilientWebSocket']);
    expect(code).toContain('resilient-ws.client');
    for (const marker of Object.values(MARKERS)) expect(code).not.toContain(marker);
  });

  it.each(Object.keys(MARKERS) as Name[])('the core class with %s holds that plug-in and no other', async (name) => {
    const code = await bundle('dist/core.mjs', ['ResilientWebSocket', name]);
    for (const [other, marker] of Object.entries(MARKERS)) {
      if (other === name) expect(code).toContain(marker);
      else expect(code).not.toContain(marker);
    }
  });

  it('the full entry holds every plug-in', async () => {
    const code = await bundle('dist/resilient-ws.mjs', ['ResilientWebSocket']);
    for (const marker of Object.values(MARKERS)) expect(code).toContain(marker);
  });
});
