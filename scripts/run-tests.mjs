#!/usr/bin/env node
// Runs every test/**/*.test.ts (or the files/folders given) through node's test runner with tsx.
// Node 20's `--test` does not expand globs itself, so this script finds the files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));

function collect(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { recursive: true })
    .map((f) => join(path, f))
    .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'));
}

const files = (roots.length ? roots : ['test']).flatMap((r) => collect(join(root, r))).sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...flags, ...files.map((f) => relative(root, f))],
  { cwd: root, stdio: 'inherit' },
);
process.exit(run.status ?? 1);
