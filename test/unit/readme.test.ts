// The README's options table must say what the code does (partysocket's README default drifted
// from its code). Every default in DEFAULTS has a row with the same value, and every row names
// an option that exists.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('## Options'), readme.indexOf('### Close codes'));
// Cells split on pipes that are not escaped as `\|`.
const rows = new Map(
  section
    .split('\n')
    .map((line) => line.split(/(?<!\\)\|/).map((cell) => cell.trim()))
    .filter((cells) => /^`[\w.]+`$/.test(cells[1] ?? ''))
    .map((cells) => [cells[1]!.slice(1, -1), cells[2]!]),
);

const flatten = (o: object, prefix = ''): Array<[string, unknown]> =>
  Object.entries(o).flatMap(([k, v]): Array<[string, unknown]> =>
    v && typeof v === 'object' && !Array.isArray(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]],
  );

const show = (v: unknown): string =>
  typeof v === 'string' ? `\`'${v}'\`` : Array.isArray(v) ? `\`[${v.join(', ')}]\`` : `\`${String(v)}\``;

// Options without a value default in DEFAULTS (required, off unless given, a plug-in) and the option groups.
const NO_DEFAULT = ['reconnect', 'reconnect.shouldReconnect', 'auth.token', 'heartbeat', 'codec', 'codecs', 'ready', 'WebSocket', 'lazy', 'plugins', 'page'];
// Options of v1 that v2 removed: tests fake the clock and Math.random instead.
const REMOVED = ['now', 'random'];

describe('README options table', () => {
  it('has a row for every option in DEFAULTS, with the same default', () => {
    for (const [path, value] of flatten(DEFAULTS)) {
      expect(rows.has(path), `README has no row for ${path}`).toBe(true);
      if (typeof value !== 'function') expect(rows.get(path), path).toBe(show(value));
    }
  });

  it('names only options that exist', () => {
    const known = new Set([...flatten(DEFAULTS).map(([p]) => p), ...NO_DEFAULT]);
    for (const path of rows.keys()) expect(known.has(path), `README documents unknown option ${path}`).toBe(true);
  });

  it('documents every option of v2 and none that v2 removed', () => {
    for (const path of ['lazy', 'lazy.lingerMs', 'plugins', 'page']) expect(rows.has(path), `README has no row for ${path}`).toBe(true);
    for (const path of REMOVED) expect(rows.has(path), `README still documents ${path}`).toBe(false);
  });

  it('parsed the whole table', () => {
    expect(rows.size).toBeGreaterThan(30);
  });
});
