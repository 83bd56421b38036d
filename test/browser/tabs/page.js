/* global URLSearchParams */
// One tab of the cross-tab tests: a core client shared through resilient-ws/tabs, both loaded
// from the built bundles. The query string says where to connect and how the tabs are scoped.
import { ResilientWebSocket } from '/dist/core.mjs';
import { tabs } from '/dist/tabs.mjs';

const q = new URLSearchParams(location.search);
const tab = tabs({ name: q.get('name') || 'tabs-test', version: q.get('version') || '1', stealAfter: Number(q.get('steal') || 1000) });
// `max` bounds this tab's queue (the drop tests).
const queue = q.get('max') ? { maxMessages: Number(q.get('max')) } : undefined;
const ws = new ResilientWebSocket(q.get('ws'), [], tab.options({ reconnect: { minDelay: 200, maxDelay: 1000 }, queue }));
const log = { received: [], sends: [], drops: [], leads: [] };
ws.on('message', ({ data }) => log.received.push(String(data)));
ws.on('drop', ({ data, reason }) => log.drops.push({ data: String(data), reason }));
// Every change of leadership, with the time, for the handover figures.
let was;
ws.subscribe((s) => {
  if (s.leader !== was) log.leads.push({ leader: s.leader, at: Date.now() });
  was = s.leader;
});
let seq = 0;
let timer;
window.tabsTest = {
  id: tab.id,
  log,
  snapshot: () => {
    const s = ws.getSnapshot();
    return { state: s.state, leader: s.leader, shared: s.shared, queued: s.queuedMessages };
  },
  send: (data) => ws.send(data),
  close: () => ws.close(),
  reconnect: () => ws.reconnect(),
  start(ms) {
    timer = setInterval(() => {
      const n = seq++;
      log.sends.push({ n, result: ws.send(`${tab.id}:${n}`) });
    }, ms);
  },
  stop() {
    clearInterval(timer);
    return log.sends;
  },
};
