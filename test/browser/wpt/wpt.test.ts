// The WPT-style files (websockets/*.js, each modelled on named web-platform-tests files) run in
// Chromium twice: against the native WebSocket, and with window.WebSocket replaced by the built
// library (reconnect off, native constructor). The native run must pass every subtest (else the
// port is wrong); the library must pass every subtest the native passes, except the documented
// deliberate differences below. Per-file counts are printed and written to test-results/.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../../support/chromium.js';
import { ConformanceServer } from '../fixtures/conformance-server.js';
import { REPO_ROOT, ensureBuilt } from '../harness.js';

interface SubtestResult {
  name: string;
  status: 'PASS' | 'FAIL' | 'TIMEOUT';
  message: string;
}
type Impl = 'native' | 'library';

/**
 * Subtests the library fails on purpose, as `file › subtest`. Keep this list short: each entry
 * is a documented difference (README, "Drop-in").
 */
export const DELIBERATE: Readonly<Record<string, string>> = {
  // The library queues what is sent before the connection opens (and while it reconnects):
  // that is its purpose. Native code that relied on the exception has nothing to catch.
  'Send-before-open › send() while connecting throws InvalidStateError': 'queues instead of throwing while not open',
  // send(undefined) is nearly always a bug (a missing field, a forgotten return): the library
  // throws INVALID_DATA instead of sending the text "undefined".
  'send-interfaces › send(undefined) sends the text "undefined"': 'refuses undefined, Symbols, functions and plain objects without a codec',
};

const FILES = readdirSync(resolve(REPO_ROOT, 'test/browser/wpt/websockets'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort();

let launched: LaunchedBrowser;
let server: ConformanceServer;
const results = new Map<string, Record<Impl, SubtestResult[] | undefined>>();

beforeAll(async () => {
  ensureBuilt();
  server = await ConformanceServer.start();
  launched = await launchChromium();
});
afterAll(async () => {
  await launched?.close();
  await server?.close();
  const summary = FILES.map((file) => {
    const r = results.get(file);
    const count = (impl: Impl): string => {
      const list = r?.[impl];
      return list ? `${list.filter((s) => s.status === 'PASS').length}/${list.length}` : 'not run';
    };
    return { file, native: count('native'), library: count('library') };
  });
  console.info(`[wpt] per-file passes (native, library):\n${summary.map((s) => `  ${s.file}: ${s.native}, ${s.library}`).join('\n')}`);
  mkdirSync(resolve(REPO_ROOT, 'test-results'), { recursive: true });
  writeFileSync(resolve(REPO_ROOT, 'test-results/wpt-summary.json'), JSON.stringify({ summary, results: Object.fromEntries(results) }, null, 2));
});

async function runFile(file: string, impl: Impl): Promise<SubtestResult[]> {
  const context = await launched.browser.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.origin}/test/browser/wpt/run.html?file=${encodeURIComponent(file)}&impl=${impl}`);
    // Every subtest is bounded by the harness (5 s), so the whole file is too.
    await page.waitForFunction(() => (window as unknown as { __wpt?: { done: boolean } }).__wpt?.done === true, undefined, { timeout: 50_000, polling: 50 }).catch((e: unknown) => {
      throw new Error(`${file} (${impl}) did not finish: ${errors.join('; ') || String(e)}`, { cause: e });
    });
    return await page.evaluate(() => (window as unknown as { __wpt: { results: SubtestResult[] } }).__wpt.results);
  } finally {
    await context.close().catch(() => undefined);
  }
}

const describeFailures = (list: SubtestResult[]): string =>
  list.map((s) => `  ${s.status} ${s.name}: ${s.message}`).join('\n');

describe.each(FILES)('%s', (file) => {
  it('native: every subtest passes (the port is faithful)', async () => {
    const native = await runFile(file, 'native');
    results.set(file, { native, library: undefined });
    expect(native.length).toBeGreaterThan(0);
    const failed = native.filter((s) => s.status !== 'PASS');
    expect(failed, `native failures in ${file}:\n${describeFailures(failed)}`).toEqual([]);
  });

  it('library: passes what the native passes, except the deliberate differences', async () => {
    const library = await runFile(file, 'library');
    const entry = results.get(file) ?? { native: undefined, library: undefined };
    entry.library = library;
    results.set(file, entry);
    const nativePassed = new Set((entry.native ?? []).filter((s) => s.status === 'PASS').map((s) => s.name));
    const differences = library.filter((s) => s.status !== 'PASS' && nativePassed.has(s.name) && !(`${file} › ${s.name}` in DELIBERATE));
    expect(differences, `library differs from native in ${file}:\n${describeFailures(differences)}`).toEqual([]);
    // A deliberate difference that disappeared is worth knowing: the list must stay true.
    const stale = Object.keys(DELIBERATE).filter((k) => k.startsWith(`${file} › `) && library.some((s) => `${file} › ${s.name}` === k && s.status === 'PASS'));
    expect(stale, 'deliberate differences that the library now passes').toEqual([]);
  });
});
