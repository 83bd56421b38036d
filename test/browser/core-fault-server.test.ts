// The fault server alone, driven by a Node `ws` client: each control method does what its
// TSDoc promises, so a browser scenario that fails points at the library, not at the server.
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { analyzeSequence, FaultServer, parseSeq, waitUntil, type FaultServerOptions } from '../server/fault-server.js';

let server: FaultServer | undefined;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await server?.close();
  server = undefined;
});

const boot = async (options: FaultServerOptions = {}): Promise<FaultServer> => (server = await FaultServer.start(options));

interface Client {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects a Node client; resolves once open, or with the HTTP status of a refused upgrade. */
function connect(url: string, protocols?: string[]): Promise<Client> {
  const ws = new WebSocket(url, protocols);
  clients.push(ws);
  const messages: string[] = [];
  ws.on('message', (d, binary) => messages.push(binary ? `<binary ${(d as Buffer).length}>` : d.toString()));
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((ok) => ws.on('close', (code, reason) => ok({ code, reason: reason.toString() })));
  return new Promise((ok, fail) => {
    ws.once('open', () => ok({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => fail(new Error(`status ${res.statusCode}`)));
    ws.once('error', fail);
  });
}

describe('fault server', () => {
  it('parses and analyses sequence numbers', () => {
    expect([parseSeq('42'), parseSeq('{"seq":7,"x":1}'), parseSeq('hi'), parseSeq('{"seq":"1"}')]).toEqual([42, 7, undefined, undefined]);
    expect(analyzeSequence([0, 2, 1, 2], [0, 1, 2, 3])).toEqual({ received: 4, lost: [3], duplicates: [2], reordered: [1] });
    expect(analyzeSequence([0, 1, 2])).toEqual({ received: 3, lost: [], duplicates: [], reordered: [] });
  });

  it('echoes text and binary, and records connections and upgrades', async () => {
    const s = await boot();
    const c = await connect(s.url);
    c.ws.send('hello');
    c.ws.send(Buffer.from([1, 2, 3]));
    await waitUntil(() => c.messages.length === 2, 2000, 'two echoes');
    expect(c.messages).toEqual(['hello', '<binary 3>']);
    c.ws.close(1000, 'bye');
    await s.waitForNoneOpen();
    expect(s.connections[0]).toMatchObject({ id: 1, code: 1000, reason: 'bye', messages: 2 });
    expect(s.upgrades).toMatchObject([{ accepted: true }]);
  });

  it('stops (1006, refused) and starts again on the same port', async () => {
    const s = await boot({ mode: 'sink' });
    const port = s.port;
    const c = await connect(s.url);
    await s.stop();
    expect((await c.closed).code).toBe(1006);
    await expect(connect(s.url)).rejects.toThrow(/ECONNREFUSED/);
    await s.start();
    expect(s.port).toBe(port);
    await connect(s.url);
    expect(s.connections.map((r) => r.code)).toEqual([1006, undefined]);
  });

  it('drops while listening, and closes with a code and reason', async () => {
    const s = await boot();
    const a = await connect(s.url);
    s.drop();
    expect((await a.closed).code).toBe(1006);
    const b = await connect(s.url);
    s.closeAll(1012, 'restart');
    expect(await b.closed).toEqual({ code: 1012, reason: 'restart' });
  });

  it('rejects upgrades with a status until told otherwise, and stalls them', async () => {
    const s = await boot();
    s.rejectUpgrades(403);
    await expect(connect(s.url)).rejects.toThrow('status 403');
    await expect(connect(s.url)).rejects.toThrow('status 403');
    s.acceptUpgrades();
    await connect(s.url);
    s.rejectUpgrades(401, 1);
    await expect(connect(s.url)).rejects.toThrow('status 401');
    await connect(s.url);
    expect(s.upgrades.map((u) => u.status ?? 'ok')).toEqual([403, 403, 'ok', 401, 'ok']);

    s.stallUpgrades();
    const stalled = connect(s.url);
    await s.waitForUpgrades(6);
    s.acceptUpgrades();
    await expect(stalled).rejects.toThrow();
    expect(s.upgrades[5]).toMatchObject({ accepted: false, refusal: 'stalled' });
  });

  it('goes half-open: reads nothing, sends nothing, does not close', async () => {
    const s = await boot({ mode: 'push', push: { intervalMs: 10 } });
    const c = await connect(s.url);
    await waitUntil(() => c.messages.length >= 3, 2000, 'pushed messages');
    s.halfOpen();
    const heard = c.messages.length;
    const received = s.received.length;
    c.ws.send('ping');
    c.ws.send('1');
    // Half-open means nothing happens: there is no event to wait for, so give it 200 ms.
    await new Promise((ok) => setTimeout(ok, 200));
    expect(c.messages.length).toBeLessThanOrEqual(heard + 1);
    expect(s.received.length).toBe(received);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    s.heal();
    await s.waitForMessages(received + 1);
    expect(s.connections[0]!.pings).toBe(1);
  });

  it('is a slow consumer: the client buffer grows, then drains on resume', async () => {
    const s = await boot({ mode: 'sink' });
    const c = await connect(s.url);
    s.pauseReading();
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 32; i++) c.ws.send(chunk);
    await waitUntil(() => c.ws.bufferedAmount > 1024 * 1024, 5000, 'a growing client buffer');
    s.resumeReading();
    await s.waitForMessages(32, 10_000);
    await waitUntil(() => c.ws.bufferedAmount === 0, 5000, 'the buffer to drain');
  });

  it('picks subprotocols from its list, or none', async () => {
    const s = await boot({ protocols: ['v2', 'v1'] });
    const c = await connect(s.url, ['v1', 'v2']);
    expect(c.ws.protocol).toBe('v2');
    await expect(connect(s.url, ['v3'])).rejects.toThrow(/protocol/i);
  });

  it('checks tokens from the query, a subprotocol or the first message, and expires them', async () => {
    const q = await boot({ auth: { tokens: ['good'] } });
    await expect(connect(q.urlWith('/', { token: 'bad' }))).rejects.toThrow('status 401');
    const a = await connect(q.urlWith('/', { token: 'good' }));
    expect(q.connections[0]!.token).toBe('good');
    q.expireToken('good', 4401, 'expired');
    expect(await a.closed).toEqual({ code: 4401, reason: 'expired' });
    await expect(connect(q.urlWith('/', { token: 'good' }))).rejects.toThrow('status 401');
    await q.close();

    const p = await boot({ auth: { via: 'protocol', tokens: ['t1'], refuse: { closeCode: 4403 } } });
    const b = await connect(p.url, ['app', `bearer.${Buffer.from('t1').toString('base64url')}`]);
    expect(b.ws.protocol).toBe('app');
    expect(p.connections[0]!.token).toBe('t1');
    const refused = await connect(p.url, ['app', `bearer.${Buffer.from('nope').toString('base64url')}`]);
    expect((await refused.closed).code).toBe(4403);
    await p.close();

    const m = await boot({ auth: { via: 'message', tokens: ['m1'] }, hello: 'welcome' });
    const d = await connect(m.url);
    d.ws.send(JSON.stringify({ type: 'auth', token: 'm1' }));
    d.ws.send('hi');
    await waitUntil(() => d.messages.length === 2, 2000, 'hello and echo');
    expect(d.messages).toEqual(['welcome', 'hi']);
    expect(m.received.map((r) => r.data)).toEqual(['hi']);
    const e = await connect(m.url);
    e.ws.send(JSON.stringify({ type: 'auth', token: 'x' }));
    expect((await e.closed).code).toBe(4401);
  });

  it('sinks numbered messages and reports loss, duplicates and reordering', async () => {
    const s = await boot({ mode: 'sink' });
    const c = await connect(s.url);
    for (const seq of [0, 1, 3, 2, 3]) c.ws.send(seq % 2 ? String(seq) : JSON.stringify({ seq }));
    await s.waitForMessages(5);
    expect(c.messages).toEqual([]);
    expect(s.sequenceReport([0, 1, 2, 3, 4])).toEqual({ received: 5, lost: [4], duplicates: [3], reordered: [2] });
  });

  it('times out waits with a description of its state', async () => {
    const s = await boot();
    await expect(s.waitForConnections(1, 50)).rejects.toThrow(/1 accepted connections[\s\S]*upgrades=0/);
  });
});
