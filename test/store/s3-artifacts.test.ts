/** The S3 artifact store against a real local S3-compatible server (s3rver, an npm devDependency). */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { SapphireError } from '../../src/core/errors.ts';
import { sha256Hex } from '../../src/store/artifacts.ts';
import { ARTIFACTS_ROOT_SETTING, openStore } from '../../src/store/open-store.ts';
import { parseS3Uri, S3Artifacts } from '../../src/store/s3-artifacts.ts';

const BUCKET = 'sapphire-test';
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
let server: S3rver;
let endpoint = '';
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sapphire-s3-'));
  server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(dir, 's3'),
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const address = (await server.run()) as AddressInfo;
  endpoint = `http://127.0.0.1:${address.port}`;
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

test('s3:// locations parse into bucket and prefix; malformed ones are refused with a hint', () => {
  assert.deepEqual(parseS3Uri('s3://models/team/sapphire/'), { bucket: 'models', prefix: 'team/sapphire' });
  assert.deepEqual(parseS3Uri('s3://models'), { bucket: 'models', prefix: '' });
  for (const bad of ['s3://', 's3://A_B/x', 'https://bucket/x', 's3://x']) {
    assert.throws(
      () => parseS3Uri(bad),
      (err: unknown) => err instanceof SapphireError && err.code === 'CONFIG_INVALID' && !!err.hint,
      bad,
    );
  }
});

test('S3 artifacts: content-addressed put/get, idempotent puts, hash-checked reads, missing and deleted blobs', async () => {
  const s3 = new S3Artifacts(`s3://${BUCKET}/unit`, { endpoint, credentials });
  try {
    const bytes = new TextEncoder().encode('hello s3');
    const hash = await s3.put(bytes);
    assert.equal(hash, sha256Hex(bytes));
    assert.equal(s3.pathOf(hash), `s3://${BUCKET}/unit/${hash.slice(0, 2)}/${hash}`);
    assert.equal(await s3.put(bytes), hash, 'a second put of the same bytes is a no-op');
    assert.deepEqual(Buffer.from(await s3.get(hash)).toString(), 'hello s3');

    // Someone overwrote the object: the read is refused, not returned.
    const raw = new S3Client({ endpoint, credentials, forcePathStyle: true, region: 'us-east-1' });
    const other = sha256Hex('other');
    await raw.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `unit/${other.slice(0, 2)}/${other}`, Body: 'tampered' }),
    );
    raw.destroy();
    await assert.rejects(
      s3.get(other),
      (err: unknown) =>
        err instanceof SapphireError && err.code === 'STORE_ERROR' && /corrupted/.test(err.message),
    );

    assert.equal(await s3.delete(hash), bytes.length);
    assert.equal(await s3.delete(hash), 0, 'deleting a missing blob is a no-op');
    await assert.rejects(
      s3.get(hash),
      (err: unknown) =>
        err instanceof SapphireError && err.code === 'NOT_FOUND' && /missing/.test(err.message),
    );
    assert.throws(() => s3.pathOf('nope'), SapphireError);
  } finally {
    s3.close();
  }
});

test('a store whose artifacts root is s3://… keeps dataset blobs in the bucket and records the root', async () => {
  const previous = { ...process.env };
  process.env.SAPPHIRE_S3_ENDPOINT = endpoint;
  process.env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
  const projectDir = await mkdtemp(join(dir, 'project-'));
  try {
    const store = await openStore({ projectDir, artifactsDir: `s3://${BUCKET}/store` });
    try {
      const { version } = await store.putDatasetVersion({
        name: 'tiny',
        examples: [{ id: 'a', text: 'hello world', labels: ['x'], meta: {} }],
        operation: { kind: 'import', params: {} },
      });
      assert.equal(await store.getSetting(ARTIFACTS_ROOT_SETTING), `s3://${BUCKET}/store`);
      assert.equal(store.artifacts.pathOf(version.blob).startsWith(`s3://${BUCKET}/store/`), true);
    } finally {
      await store.close();
    }
    // Reopened without naming the root: the recorded s3:// root is used.
    const again = await openStore({ projectDir });
    try {
      const examples = await again.loadExamples('tiny');
      assert.equal(examples[0]?.text, 'hello world');
    } finally {
      await again.close();
    }
  } finally {
    for (const key of ['SAPPHIRE_S3_ENDPOINT', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'])
      if (previous[key] === undefined) delete process.env[key];
      else process.env[key] = previous[key];
  }
});
