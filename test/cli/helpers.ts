import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The repository root. */
export const REPO = resolve(import.meta.dirname, '..', '..');

/** The shared datasets folder beside the checkout (absent on some machines). */
export const SHARED = resolve(REPO, '..', 'shared', 'datasets');

/** True when the shared datasets are available. */
export const HAVE_SHARED = existsSync(SHARED);

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `sapphire` binary in a folder and returns its exit code and output. */
export function sapphire(cwd: string, ...args: string[]): CliResult {
  const run = spawnSync(process.execPath, [join(REPO, 'bin', 'sapphire.js'), ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, SAPPHIRE_STORE: '' },
  });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** Runs the CLI with `--json` and parses stdout, failing with the stderr when the command failed. */
export function sapphireJson<T = unknown>(cwd: string, ...args: string[]): T {
  const run = sapphire(cwd, '--json', ...args);
  if (run.code !== 0) throw new Error(`sapphire ${args.join(' ')} failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

/** A new empty temporary folder. */
export function tempDir(prefix = 'sapphire-cli-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
