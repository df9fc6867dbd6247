#!/usr/bin/env node
// Builds the web UI (ui/src → ui/dist) with Vite and records the sources' fingerprint in ui/dist/build-info.json.
// The build is committed (ADR 0009): run this after changing anything under ui/ and commit ui/dist.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';
import { uiSourceHash } from './ui-source-hash.mjs';

const root = join(import.meta.dirname, '..');
await build({ configFile: join(root, 'ui', 'vite.config.ts'), logLevel: 'warn' });
const info = {
  sourceHash: uiSourceHash(root),
  note: 'made by `npm run build:ui`; test/ui/dist.test.ts checks sourceHash',
};
writeFileSync(join(root, 'ui', 'dist', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
console.log(`built ui/dist (sources ${info.sourceHash.slice(0, 12)})`);
