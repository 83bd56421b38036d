// Shared by the package tests: pack the built package the way `npm publish` would, and install
// the tarball into a throwaway app, so a test sees exactly what a user's `npm install` gets.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A binary of the repository's `node_modules/.bin`. */
export const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it fails or outlives `timeout`. */
export function run(file: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}, timeout = 120_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout, env: { ...process.env, ...extraEnv }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface InstalledApp {
  /** The temporary folder holding the tarball and the app; remove it when done. */
  work: string;
  tarball: string;
  /** An ESM app (`"type": "module"`) with `resilient-ws` installed from the tarball. */
  app: string;
}

/**
 * Packs the package (from the existing `dist/`, no lifecycle scripts) and installs the tarball
 * into a fresh app. `links` are repository packages (e.g. `vue`, `@types/ws`) symlinked into
 * the app's `node_modules`, standing in for the peer dependencies an app would install itself;
 * Node, TypeScript and the bundlers all follow the link to the repository's copy, whose own
 * dependencies then resolve from the repository.
 */
export async function packAndInstall(prefix: string, links: readonly string[] = []): Promise<InstalledApp> {
  if (!existsSync(join(ROOT, 'dist/resilient-ws.mjs'))) throw new Error('dist/ is missing: run `npm run build` first');
  const work = mkdtempSync(join(tmpdir(), prefix));
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT);
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }];
  const tarball = join(work, filename);

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'rws-smoke', private: true, type: 'module' }));
  const install = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball];
  // `mitt` normally comes from the npm cache; the registry is the fallback for a cold cache.
  await run('npm', [...install, '--offline'], app).catch(() => run('npm', install, app));
  // After the install: npm would prune links it did not make.
  for (const name of links) {
    const target = join(app, 'node_modules', name);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), target, 'dir');
  }
  return { work, tarball, app };
}
