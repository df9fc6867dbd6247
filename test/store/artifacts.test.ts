import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { ArtifactFolder, sha256Hex } from '../../src/store/artifacts.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function folder(): Promise<ArtifactFolder> {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-artifacts-'));
  dirs.push(dir);
  return new ArtifactFolder(join(dir, 'artifacts'));
}

test('blobs are stored under their sha256, with no temporary files left', async () => {
  const artifacts = await folder();
  const bytes = new TextEncoder().encode('hello');
  const hash = await artifacts.put(bytes);
  assert.equal(hash, sha256Hex('hello'));
  assert.equal(artifacts.pathOf(hash), join(artifacts.root, hash.slice(0, 2), hash));
  assert.deepEqual(await readdir(join(artifacts.root, hash.slice(0, 2))), [hash]);
  assert.equal(new TextDecoder().decode(await artifacts.get(hash)), 'hello');
});

test('a damaged blob is detected on read and replaced by the next put', async () => {
  const artifacts = await folder();
  const hash = await artifacts.put(new TextEncoder().encode('precious'));
  await writeFile(artifacts.pathOf(hash), 'prec');
  await assert.rejects(
    artifacts.get(hash),
    (err: unknown) => err instanceof SapphireError && /corrupted/.test(err.message),
  );
  await artifacts.put(new TextEncoder().encode('precious'));
  assert.equal(new TextDecoder().decode(await artifacts.get(hash)), 'precious');
});

test('hashes that are not sha256 hex are refused before touching the disk', async () => {
  const artifacts = await folder();
  for (const bad of ['../../etc/passwd', 'ABC', 'a'.repeat(63), 'A'.repeat(64)]) {
    await assert.rejects(
      artifacts.get(bad),
      (err: unknown) => err instanceof SapphireError && err.code === 'BAD_INPUT',
    );
  }
});
