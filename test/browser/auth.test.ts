// Token authentication and subprotocols in headless Chromium against the fault server (SPEC.md
// §5). The page's token provider asks the test process through `page.exposeFunction`, so the
// test rotates tokens the way an auth backend would, and the server accepts only current ones.
import { describe, expect, it } from 'vitest';
import { FaultServer, type FaultServerOptions, type TokenCarrier } from '../server/fault-server.js';
import { BUNDLES, browserFixture, sleep, type Bundle, type PageEvent, type TestPage } from './harness.js';

const fx = browserFixture();


interface TokenRequest {
  attempt: number;
  reason: string;
}

/** The test's auth backend: hands the page the current token and records every request. */
class TokenDesk {
  readonly requests: Array<TokenRequest & { at: number }> = [];
  /** Answers a `'rejected'` request this late, as a real token endpoint would: the outage lasts. */
  rejectedDelayMs = 0;

  constructor(public current: string) {}

  async issue(request: TokenRequest): Promise<string> {
    this.requests.push({ attempt: request.attempt, reason: request.reason, at: Date.now() });
    if (request.reason === 'rejected' && this.rejectedDelayMs > 0) await sleep(this.rejectedDelayMs);
    return this.current;
  }
}

/**
 * A page with `window.rwsToken(request)` wired to `desk`. For `via: 'protocol'` the page encodes
 * the token with the library's `base64url` (the fault server decodes it), so tokens with spaces,
 * slashes and non-ASCII letters travel as legal subprotocol tokens.
 */
async function setup(
  bundle: Bundle,
  desk: TokenDesk,
  serverOptions: FaultServerOptions,
): Promise<{ t: TestPage; s: FaultServer }> {
  fx.server = await FaultServer.start(serverOptions);
  fx.tp = await fx.harness.newPage(bundle);
  await fx.tp.page.exposeFunction('rwsToken', (request: TokenRequest) => desk.issue(request));
  return { t: fx.tp, s: fx.server };
}

/** Page-side options (a JS expression) for a client that authenticates `via`. */
function authOptionsJs(via: TokenCarrier, extra = ''): string {
  const token =
    via === 'protocol' ? '(r) => window.rwsToken(r).then((t) => ResilientWS.base64url(t))' : '(r) => window.rwsToken(r)';
  const ready = via === 'message' ? "ready: (d) => d === 'auth-ok'," : '';
  return `({ reconnect: { minDelay: 200, maxDelay: 1000 }, ${ready} auth: { via: '${via}', token: ${token} ${extra} } })`;
}

const b64 = (token: string): string => Buffer.from(token, 'utf8').toString('base64url');

/** Every form in which `token` could show up in the page's view. */
const leakForms = (token: string): string[] => [token, encodeURIComponent(token), b64(token)];

async function expectNoLeak(t: TestPage, c: number, tokens: string[]): Promise<void> {
  const view = JSON.stringify({ info: await t.info(c), events: await t.events(c) });
  for (const token of tokens) for (const form of leakForms(token)) expect(view).not.toContain(form);
}

const VIAS: TokenCarrier[] = ['query', 'protocol', 'message'];
/** The expiry scenario on the full ES module and on core + `tokenAuth()`, for every carrier. */
const EXPIRY: Array<[TokenCarrier, Bundle]> = VIAS.flatMap((via) => [[via, 'esm'], [via, 'core']] as Array<[TokenCarrier, Bundle]>);

describe.each(EXPIRY)("via '%s' (%s bundle)", (via, bundle) => {
  // Spaces, a slash and a non-ASCII letter: only base64url makes them a legal subprotocol.
  const OLD = via === 'protocol' ? 'sess 1/ä old' : 'tok-old-7f3a';
  const NEW = via === 'protocol' ? 'sess 2/ö new' : 'tok-new-91c4';

  it('recovers from a token expiry (close 4001) with a fresh token, losing no message sent during the outage', async () => {
    const desk = new TokenDesk(OLD);
    const { t, s } = await setup(bundle, desk, {
      mode: 'sink',
      protocols: ['v1.chat'],
      auth: { via, tokens: [OLD] },
      hello: via === 'message' ? 'auth-ok' : undefined,
    });
    const c = await t.create(s.url, { protocols: ['v2.chat', 'v1.chat'], optionsJs: authOptionsJs(via) });
    await s.waitForOpen(1);
    await t.waitForEvent(c, 'ready');

    // The token reached the server by the chosen route, and the app protocol was negotiated.
    const first = s.connections[0]!;
    expect(first.token).toBe(OLD);
    if (via === 'query') expect(new URL(first.url, 'http://x').searchParams.get('token')).toBe(OLD);
    if (via === 'protocol') expect(first.offered).toEqual(['v2.chat', 'v1.chat', `bearer.${b64(OLD)}`]);
    if (via !== 'query') expect(first.url).toBe('/');
    expect(first.protocol).toBe('v1.chat');
    expect((await t.info(c)).protocol).toBe('v1.chat');

    await t.startSequence(c, 20, { burstOnClose: 3 });
    await s.waitForMessages(10);

    // Rotation: the backend issues NEW, the server stops accepting OLD and drops its users.
    desk.current = NEW;
    desk.rejectedDelayMs = 300;
    s.allowToken(NEW);
    const expiredAt = Date.now();
    s.expireToken(OLD, 4001, 'token expired');

    await s.waitForConnections(2, 8000);
    await t.waitForEvent(c, 'ready', 2, 8000);
    await s.waitFor(() => s.received.filter((m) => m.connection === 2).length >= 10, 5000, '10 messages on the new connection');
    const sends = await t.stopSequence(c);
    const last = sends[sends.length - 1]!.seq;
    await s.waitFor(() => s.seqs.includes(last), 5000, `the last message (#${last})`);

    expect(s.connections[0]!.code).toBe(4001);
    expect(s.connections[1]!.token).toBe(NEW);
    expect(s.connections[1]!.protocol).toBe('v1.chat');
    expect(s.upgrades.every((u) => u.accepted)).toBe(true);
    expect(desk.requests.map((r) => r.reason)).toEqual(['initial', 'rejected']);
    expect(desk.requests[1]!.at).toBeGreaterThanOrEqual(expiredAt);
    expect(await t.events(c, 'reconnecting')).toMatchObject([{ delay: 0, code: 4001 }]);
    expect(await t.events(c, 'error')).toEqual([]);
    expect(await t.events(c, 'giveup')).toEqual([]);

    const report = s.sequenceReport(sends.map((r) => r.seq));
    const duringOutage = sends.filter((r) => r.state !== 'open');
    console.info(
      `[expiry/${via}/${bundle}] sent ${sends.length} (${duringOutage.length} during the outage), received ${report.received}, ` +
        `lost ${report.lost.length}, duplicates ${report.duplicates.length}; reopened ${s.connections[1]!.openedAt - expiredAt} ms after the expiry`,
    );
    expect(duringOutage.length).toBeGreaterThanOrEqual(3);
    expect(sends.every((r) => r.result === 'sent' || r.result === 'queued')).toBe(true);
    expect(report.lost).toEqual([]);
    expect(report.duplicates).toEqual([]);
    expect(report.reordered).toEqual([]);

    await expectNoLeak(t, c, [OLD, NEW]);
    expect(await t.events(c, 'warning')).toEqual([]);
    expect(t.errors).toEqual([]);
  });
});

describe('a provider that only has a bad token (esm bundle)', () => {
  const refusals: Array<[TokenCarrier, FaultServerOptions['auth']]> = [
    // Browsers hide the HTTP status of a refused handshake (it looks like 1006), so the server
    // accepts and closes with an auth code, which the client can see.
    ['query', { via: 'query', tokens: ['good'], refuse: { closeCode: 4001, reason: 'invalid token' } }],
    ['message', { via: 'message', tokens: ['good'], messageRefusalCode: 4401 }],
  ];

  it.each(refusals)("via '%s': at most maxFailures + 1 attempts, then AUTH_FAILED and silence", async (via, auth) => {
    const desk = new TokenDesk('bad-token-x1');
    const { t, s } = await setup('esm', desk, { mode: 'sink', auth });
    const maxFailures = 3;
    // A backoff of 5 s or more: if refusals were retried with backoff, the give-up would not come in time.
    const optionsJs = authOptionsJs(via, `, maxFailures: ${maxFailures}`).replace('minDelay: 200, maxDelay: 1000', 'minDelay: 5000, maxDelay: 10000');
    const c = await t.create(s.url, { optionsJs });
    const [giveup] = await t.waitForEvent(c, 'giveup', 1, 4000);
    expect(giveup).toMatchObject({ reason: 'auth', error: { name: 'ResilientWebSocketError', code: 'AUTH_FAILED' } });
    expect(await t.state(c)).toBe('closed');

    // Nothing more may happen: no further attempt for a while after the give-up.
    await sleep(1500);
    const connecting = await t.events(c, 'connecting');
    console.info(`[bad token/${via}] ${s.upgrades.length} upgrades, ${connecting.length} attempts, gave up ${Math.round(giveup!.t - connecting[0]!.t)} ms after the first`);
    expect(s.upgrades.length).toBeLessThanOrEqual(maxFailures + 1);
    expect(connecting.length).toBeLessThanOrEqual(maxFailures + 1);
    expect(s.upgrades).toHaveLength(connecting.length);
    expect(s.connections.every((r) => r.code === (via === 'query' ? 4001 : 4401))).toBe(true);
    expect(desk.requests.map((r) => r.reason)).toEqual(['initial', ...Array<string>(connecting.length - 1).fill('rejected')]);
    expect((await t.events(c, 'error')).map((e: PageEvent) => (e.error as { code: string }).code)).toEqual(['AUTH_FAILED']);
    expect(await t.events(c, 'close')).toMatchObject(connecting.map((_, i) => ({ willReconnect: i < connecting.length - 1 })));
    // As the native send() after close: no throw; the message is reported as dropped.
    expect(await t.send(c, 'late')).toBe('dropped');
    expect((await t.events(c, 'drop')).at(-1)).toMatchObject({ reason: 'closed' });
    await expectNoLeak(t, c, ['bad-token-x1']);
  });
});

describe.each(BUNDLES)('subprotocols (%s bundle)', (bundle) => {
  it("negotiates v1.chat when offered ['v2.chat', 'v1.chat'] to a v1-only server, and picks its codec", async () => {
    fx.server = await FaultServer.start({ mode: 'echo', protocols: ['v1.chat'] });
    const s = fx.server;
    const t = (fx.tp = await fx.harness.newPage(bundle));
    const c = await t.create(s.url, {
      protocols: ['v2.chat', 'v1.chat'],
      optionsJs: `({ codecs: { 'v1.chat': ResilientWS.jsonCodec, 'v2.chat': { encode: () => 'v2!', decode: () => 'v2!' } } })`,
    });
    const [open] = await t.waitForEvent(c, 'open');
    expect(open).toMatchObject({ protocol: 'v1.chat' });
    expect(await t.info(c)).toMatchObject({ protocol: 'v1.chat', state: 'open' });
    expect(s.connections[0]).toMatchObject({ offered: ['v2.chat', 'v1.chat'], protocol: 'v1.chat' });

    // The v1 codec (JSON) encodes what is sent and decodes the echo.
    const echoed = await t.page.evaluate(async (i) => {
      const ws = (window as any).rwsTest.ws(i);
      const reply = new Promise((resolve) => {
        const off = ws.on('message', ({ data }: { data: unknown }) => {
          off();
          resolve(data);
        });
      });
      ws.send({ type: 'hello', n: 1 });
      return reply;
    }, c);
    expect(echoed).toEqual({ type: 'hello', n: 1 });
    expect(s.received.map((m) => m.data)).toEqual(['{"type":"hello","n":1}']);

    // A frame the codec cannot decode is skipped with DECODE_ERROR; the connection survives.
    s.send('{not json');
    s.send('{"type":"after"}');
    await t.waitForEvent(c, 'error');
    const messages = await t.waitForEvent(c, 'message', 2);
    expect((await t.events(c, 'error')).map((e) => (e.error as { code: string }).code)).toEqual(['DECODE_ERROR']);
    expect(messages).toHaveLength(2);
    expect(await t.state(c)).toBe('open');
    expect(s.connections).toHaveLength(1);
    expect(t.errors).toEqual([]);
  });
});

describe('the auth carrier subprotocol (esm bundle)', () => {
  it('a server that picks the carrier gets PROTOCOL_MISMATCH: closed at once, no retry', async () => {
    const desk = new TokenDesk('carrier-secret-1');
    const { t, s } = await setup('esm', desk, {
      auth: { via: 'protocol', tokens: ['carrier-secret-1'] },
      // A misconfigured server that echoes the first offer, i.e. the token.
      pickProtocol: (offered) => offered.find((p) => p.startsWith('bearer.')) ?? false,
    });
    const c = await t.create(s.url, { optionsJs: authOptionsJs('protocol') });
    const [giveup] = await t.waitForEvent(c, 'giveup');
    expect(giveup).toMatchObject({ reason: 'protocol-mismatch', error: { code: 'PROTOCOL_MISMATCH' } });
    expect(await t.state(c)).toBe('closed');
    await s.waitForNoneOpen();
    await sleep(1000);
    expect(s.upgrades).toHaveLength(1);
    expect(await t.events(c, 'open')).toEqual([]);
    expect((await t.info(c)).protocol).toBe('');
    await expectNoLeak(t, c, ['carrier-secret-1']);
  });
});
