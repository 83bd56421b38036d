// Conformance pairs: the same page-side assertions (fixtures/conformance.js) run against the
// native WebSocket and against the built UMD with reconnect off and the native constructor passed
// in. A check that passes natively and fails for the library is a drop-in difference (issue 12);
// the native half failing means the check itself is wrong. The library-only checks cover the one
// deliberate difference (send() after close() reports a drop) and the error codes.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../support/chromium.js';
import { ConformanceServer } from './fixtures/conformance-server.js';
import { ensureBuilt } from './harness.js';

type Impl = 'native' | 'library';
type Outcome = { ok: true; data: Record<string, unknown> } | { ok: false; failure: string };

const PAIRS = [
  'close() while connecting',
  'error fires with readyState CLOSED',
  'send() after close() never throws',
  'close() without a code sends no status',
  'non-callable handlers read back null',
  'handler runs at the position of its first assignment',
  'send() with no argument throws TypeError',
  'URL argument is stringified and resolved',
  'bad arguments throw native errors',
  'WebIDL shape',
] as const;
const LIBRARY_ONLY = ['library: send() after close() returns dropped with a drop event', 'library: bad-argument errors carry a code'] as const;

let launched: LaunchedBrowser;
let server: ConformanceServer;
let context: BrowserContext | undefined;

beforeAll(async () => {
  ensureBuilt();
  server = await ConformanceServer.start();
  launched = await launchChromium();
});
afterAll(async () => {
  await launched?.close();
  await server?.close();
});
afterEach(async () => {
  await context?.close().catch(() => undefined);
  context = undefined;
});

async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.origin}/test/browser/fixtures/conformance.html`);
  await page.waitForFunction(() => (window as unknown as { conformance?: unknown }).conformance !== undefined, undefined, { timeout: 10_000 });
  return { page, errors };
}

async function run(check: string, impl: Impl): Promise<Outcome> {
  server.reset();
  const { page } = await openPage(launched.browser);
  return page.evaluate(([c, i]) => (window as unknown as { conformance: { run(c: string, i: string): Promise<Outcome> } }).conformance.run(c, i), [check, impl] as const);
}

/** Fails with the page's own message, which names the assertion, the expected and the actual value. */
function expectPass(outcome: Outcome): Record<string, unknown> {
  if (!outcome.ok) expect.fail(outcome.failure);
  return outcome.data;
}

describe.each(PAIRS)('%s', (check) => {
  it.each(['native', 'library'] as const)('%s', async (impl) => {
    const data = expectPass(await run(check, impl));
    if (check === 'close() without a code sends no status') {
      // What went over the wire, seen by the server: no status code is 1005, not 1000.
      for (const [tag, code] of Object.entries(data.tags as Record<string, number>)) {
        const seen = await server.waitFor(() => server.tagged(`tag=${tag}`).find((c) => c.code !== undefined), `the server-side close of ${tag}`);
        expect(seen.code, `${impl}: code the server received for ${tag}`).toBe(code);
      }
    }
  });
});

describe('library only', () => {
  it.each(LIBRARY_ONLY)('%s', async (check) => {
    const data = expectPass(await run(check, 'library'));
    if (check === 'library: bad-argument errors carry a code') {
      console.info(`[conformance] library error codes: ${(data.results as { what: string; name: string; code: string }[]).map((r) => `${r.what} → ${r.name}/${r.code}`).join('; ')}`);
    }
  });
});
