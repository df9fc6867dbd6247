// The fingerprint of the web UI's sources: what `npm run build:ui` records in ui/dist/build-info.json and what
// test/ui/dist.test.ts recomputes to catch a committed build that is older than its sources (ADR 0009).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The packages whose locked versions change the built output. */
export const UI_PACKAGES = ['vite', 'preact', 'uplot', '@preact/preset-vite'];

const root = join(import.meta.dirname, '..');

function files(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? files(path) : [path];
    })
    .sort();
}

/** SHA-256 over ui/src/**, ui/index.html, ui/vite.config.ts (paths and bytes, line endings normalised) and the locked UI package versions. */
export function uiSourceHash(base = root) {
  const hash = createHash('sha256');
  const ui = join(base, 'ui');
  for (const path of [...files(join(ui, 'src')), join(ui, 'index.html'), join(ui, 'vite.config.ts')]) {
    hash.update(relative(base, path).split('\\').join('/'));
    hash.update('\0');
    hash.update(readFileSync(path, 'utf8').replace(/\r\n/g, '\n'));
    hash.update('\0');
  }
  const lock = JSON.parse(readFileSync(join(base, 'package-lock.json'), 'utf8'));
  for (const name of UI_PACKAGES)
    hash.update(`${name}@${lock.packages?.[`node_modules/${name}`]?.version ?? '?'}\n`);
  return hash.digest('hex');
}
