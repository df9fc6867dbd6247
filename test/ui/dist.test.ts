/** The committed web app build (ui/dist) must match its sources (ADR 0010): no build runs in the test. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error: a plain .mjs build script without type declarations
import { uiSourceHash } from '../../scripts/ui-source-hash.mjs';

const DIST = join(import.meta.dirname, '..', '..', 'ui', 'dist');

test('ui/dist is built from the current ui/ sources (else: npm run build:ui and commit ui/dist)', () => {
  const info = JSON.parse(readFileSync(join(DIST, 'build-info.json'), 'utf8')) as { sourceHash: string };
  assert.equal(
    info.sourceHash,
    uiSourceHash(),
    'ui/dist is older than ui/src: run `npm run build:ui` and commit ui/dist',
  );
});

test('index.html loads only files that are in ui/dist, under /ui/, and nothing from other hosts', () => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1]!)
    .filter((r) => !r.startsWith('data:'));
  assert.ok(refs.length >= 2, `script and stylesheet: ${refs.join(', ')}`);
  for (const ref of refs) {
    assert.match(ref, /^\/ui\/assets\//, `${ref} is served by sapphire itself`);
    assert.ok(existsSync(join(DIST, ref.slice('/ui/'.length))), `${ref} exists in ui/dist`);
  }
  assert.doesNotMatch(html, /https?:\/\//, 'no external fonts or CDNs');
});
