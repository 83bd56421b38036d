#!/usr/bin/env node
// `npm test`: every check, in the order that fails fastest. Each step is an npm script
// (`test:*`), so a single tier can be run alone. The closing line sums the vitest results
// of every tier that ran.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';

const steps = [
  ['lint', ['npm', 'run', 'lint']],
  ['typecheck', ['npm', 'run', 'typecheck']],
  ['unit', ['npx', 'vitest', 'run', '--project', 'unit'], 'unit'],
  ['build', ['npm', 'run', 'build']],
  ['size', ['npm', 'run', 'size']],
  ['package', ['npx', 'vitest', 'run', '--project', 'package'], 'package'],
  ['browser', ['npx', 'vitest', 'run', '--project', 'browser'], 'browser'],
];

const only = process.argv.slice(2);
mkdirSync('test-results', { recursive: true });
let passed = 0;
let failed = 0;
const failedSteps = [];
const t0 = Date.now();
for (const [name, argv, report] of steps) {
  if (only.length && !only.includes(name)) continue;
  console.log(`\n▶ ${name}: ${argv.join(' ')}`);
  const out = `test-results/${name}.json`;
  const args = report ? [...argv.slice(1), '--reporter=default', '--reporter=json', `--outputFile=${out}`] : argv.slice(1);
  if (report && existsSync(out)) rmSync(out);
  const started = Date.now();
  const r = spawnSync(argv[0], args, { stdio: 'inherit', env: process.env });
  if (report && existsSync(out)) {
    const json = JSON.parse(readFileSync(out, 'utf8'));
    passed += json.numPassedTests;
    failed += json.numFailedTests;
  }
  console.log(`◀ ${name}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (r.status !== 0) {
    failedSteps.push(name);
    if (!report) failed += 1;
    break;
  }
}
console.log(`\nnpm test finished in ${((Date.now() - t0) / 1000).toFixed(0)} s${failedSteps.length ? `; failed step: ${failedSteps.join(', ')}` : ''}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failedSteps.length ? 1 : 0);
