// Turns the raw measurements into the results table, bench/RESULTS.md and bench/storm.svg.

export const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** The value below which `p` (0..1) of the samples fall, nearest-rank. */
export const percentile = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};

/** The most timestamps (ms) inside any window of `width` ms. */
export function peakInWindow(times, width) {
  const s = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; j < s.length; j++) {
    while (s[j] - s[i] >= width) i++;
    peak = Math.max(peak, j - i + 1);
  }
  return peak;
}

const int = (n) => (Number.isFinite(n) ? String(Math.round(n)) : '—');
const kib = (bytes) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : '—');

const signed = (bytes) => `${bytes >= 0 ? '+' : ''}${kib(bytes)}`;

/** The heap sample taken halfway through the cycles. */
export const halfway = (m) => m.samples[Math.floor((m.samples.length - 1) / 2)];

function timing(ms, rawMs) {
  if (!Number.isFinite(ms)) return '—';
  return Number.isFinite(rawMs) && rawMs > 0 ? `${int(ms)} (×${(ms / rawMs).toFixed(2)})` : int(ms);
}

function micro(us, rawUs) {
  if (!Number.isFinite(us)) return '—';
  return Number.isFinite(rawUs) && rawUs > 0 ? `${us.toFixed(2)} (×${(us / rawUs).toFixed(2)})` : us.toFixed(2);
}

/** "200000" when every run delivered all; else the worst run, e.g. "26384 of 200000". */
function delivered(runs) {
  if (!runs?.length) return '—';
  const worst = runs.reduce((a, b) => (b.delivered < a.delivered || (b.delivered === a.delivered && b.outOfOrder > a.outOfOrder) ? b : a));
  const order = worst.outOfOrder ? `, ${worst.outOfOrder} out of order` : '';
  return worst.delivered === worst.sent ? `${worst.delivered}${order}` : `${worst.delivered} of ${worst.sent}${order}`;
}

const HEADER = [
  'library',
  'min B',
  'gzip B',
  'brotli B',
  'send paced ms (×raw)',
  'send() call µs (×raw)',
  'unpaced burst delivered',
  'unpaced burst ms (×raw)',
  'stalled server chunks delivered',
  'stalled server ms (×raw)',
  'receive ms (×raw)',
  'storm reconnect p50 / p95 ms',
  'storm peak attempts / 100 ms',
  'storm attempts',
  'heap before → after KiB',
  'heap growth KiB: all / 2nd half',
];

/** One row per library, plus a size-only row for the minified UMD. */
export function tableRows(results) {
  const raw = results.find((r) => r.id === 'raw');
  const rows = [];
  for (const r of results) {
    const s = r.size;
    const st = r.storm;
    const m = r.memory;
    rows.push([
      r.id === 'raw' ? 'raw WebSocket¹' : `${r.name} ${r.version}`,
      s ? int(s.min) : '0',
      s ? int(s.gzip) : '0',
      s ? int(s.brotli) : '0',
      timing(median(r.send), median(raw?.send ?? [])),
      micro(median(r.sendCall ?? []), median(raw?.sendCall ?? [])),
      delivered(r.burst),
      timing(median((r.burst ?? []).map((x) => x.ms)), median((raw?.burst ?? []).map((x) => x.ms))),
      delivered(r.stall),
      timing(median((r.stall ?? []).map((x) => x.ms)), median((raw?.stall ?? []).map((x) => x.ms))),
      timing(median(r.receive), median(raw?.receive ?? [])),
      st?.error ? 'error' : st ? `${int(percentile(st.reconnectMs, 0.5))} / ${int(percentile(st.reconnectMs, 0.95))}${st.reconnected < st.instances ? ` (${st.reconnected}/${st.instances} back)` : ''}` : '—',
      st && !st.error ? int(peakInWindow(st.attempts, 100)) : '—',
      st && !st.error ? int(st.attempts.length) : '—',
      m?.error ? 'error' : m ? `${kib(m.before)} → ${kib(m.after)}` : '—',
      m?.error ? 'error' : m ? `${signed(m.after - m.before)} / ${signed(m.after - halfway(m))}` : '—',
    ]);
    const blank = (n) => new Array(n).fill('');
    if (r.umdSize) {
      rows.push([`${r.name} UMD²`, int(r.umdSize.min), int(r.umdSize.gzip), int(r.umdSize.brotli), ...blank(HEADER.length - 4)]);
    }
    for (const e of r.entries ?? []) {
      const size = e.size;
      rows.push([`${e.specifier}³`, size ? int(size.min) : 'not built', size ? int(size.gzip) : '', size ? int(size.brotli) : '', ...blank(HEADER.length - 4)]);
    }
  }
  return rows;
}

export function markdownTable(rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(HEADER), line(HEADER.map((h, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function textTable(rows) {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  return all.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ')).join('\n');
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Small multiples: one histogram of connection attempts per 100 ms per library, outage shaded. */
export function stormSvg(results, binMs = 100) {
  const storms = results.filter((r) => r.storm && !r.storm.error);
  const span = Math.max(1000, ...storms.map((r) => Math.max(r.storm.elapsed ?? 0, ...r.storm.attempts)));
  const bins = Math.ceil(span / binMs);
  const left = 190;
  const plotW = 760;
  const panelH = 80;
  const gap = 26;
  const top = 40;
  const width = left + plotW + 20;
  const axisY = top + storms.length * (panelH + gap) - gap + 14;
  const height = axisY + 10;
  const x = (ms) => left + (ms / (bins * binMs)) * plotW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Reconnect storm: connection attempts per ${binMs} ms, ${esc(storms[0]?.storm.instances ?? '')} clients, server down for the shaded time</text>`,
  ];
  storms.forEach((r, i) => {
    const y0 = top + i * (panelH + gap);
    const counts = new Array(bins).fill(0);
    for (const t of r.storm.attempts) counts[Math.min(bins - 1, Math.max(0, Math.floor(t / binMs)))]++;
    const max = Math.max(1, ...counts);
    out.push(`<rect x="${x(0)}" y="${y0}" width="${x(r.storm.restartedAt) - x(0)}" height="${panelH}" fill="#f3d6d6"/>`);
    out.push(`<line x1="${left}" y1="${y0 + panelH}" x2="${left + plotW}" y2="${y0 + panelH}" stroke="#888"/>`);
    counts.forEach((c, b) => {
      if (!c) return;
      const h = (c / max) * panelH;
      out.push(`<rect x="${x(b * binMs).toFixed(1)}" y="${(y0 + panelH - h).toFixed(1)}" width="${Math.max(1, plotW / bins - 0.5).toFixed(2)}" height="${h.toFixed(1)}" fill="#3366aa"/>`);
    });
    out.push(`<text x="${left - 10}" y="${y0 + panelH / 2}" text-anchor="end" font-weight="bold">${esc(r.id === 'raw' ? 'raw WebSocket (naive)' : r.name)}</text>`);
    out.push(`<text x="${left - 10}" y="${y0 + panelH / 2 + 15}" text-anchor="end" fill="#555">${r.storm.attempts.length} attempts, peak ${peakInWindow(r.storm.attempts, binMs)}</text>`);
    out.push(`<text x="${left - 4}" y="${y0 + 10}" text-anchor="end" fill="#555" font-size="10">${max}</text>`);
  });
  const step = span > 20000 ? 5000 : span > 8000 ? 2000 : 1000;
  for (let t = 0; t <= bins * binMs; t += step) {
    out.push(`<text x="${x(t)}" y="${axisY}" text-anchor="middle" fill="#555" font-size="10">${t / 1000} s</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/**
 * Other benchmarks write sections of their own into bench/RESULTS.md between
 * `<!-- bench:name -->` and `<!-- /bench:name -->` (bench/reliable.mjs does). A new report keeps
 * them, after its own text, instead of wiping them.
 */
export function keepForeignSections(previous, next) {
  const sections = previous.match(/<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g) ?? [];
  const kept = sections.filter((section) => !next.includes(section.slice(0, section.indexOf('-->') + 3)));
  return kept.length ? `${next.trimEnd()}\n\n${kept.join('\n\n')}\n` : next;
}
