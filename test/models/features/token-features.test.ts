import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, DataError } from '../../../src/core/errors.ts';
import { BinaryReader, BinaryWriter } from '../../../src/models/features/binary-io.ts';
import { FeatureConfigSchema } from '../../../src/models/features/feature-config.ts';
import { GAZ_BEGIN, GAZ_INSIDE, GAZ_OUTSIDE, Gazetteer } from '../../../src/models/features/gazetteer.ts';
import { parseModelConfig } from '../../../src/models/features/parse-config.ts';
import {
  loadFeatureResources,
  loadSavedFeatureResources,
  saveFeatureResources,
} from '../../../src/models/features/resources.ts';
import { TokenFeatureExtractor } from '../../../src/models/features/token-features.ts';
import { shortWordShape, tokenFlags, wordShape } from '../../../src/models/features/word-shape.ts';

const config = (over: Record<string, unknown> = {}) => FeatureConfigSchema.parse(over);

function namesOf(fx: TokenFeatureExtractor, words: string[]): string[][] {
  const seq = fx.compile(words);
  const out: string[][] = [];
  for (let t = 0; t < seq.length; t++) {
    const names: string[] = [];
    for (let q = seq.offsets[t]!; q < seq.offsets[t + 1]!; q++) names.push(fx.featureName(seq.ids[q]!));
    out.push(names.sort());
  }
  return out;
}

test('word shapes and flags', () => {
  assert.equal(wordShape("McDonald's"), "XxXxxxxx'x");
  assert.equal(shortWordShape("McDonald's"), "XxXx'x");
  assert.equal(shortWordShape('2024-05'), 'd-d');
  assert.equal(shortWordShape('Élodie'), 'Xx');
  assert.equal(wordShape('abcdefghijklmnopqrstuvwxyz').length, 17, 'long shapes are shortened');
  assert.deepEqual(tokenFlags('Paris'), ['initUpper', 'title']);
  assert.deepEqual(tokenFlags('NASA'), ['initUpper', 'upper']);
  assert.deepEqual(tokenFlags('iPhone'), ['mixedCase']);
  assert.deepEqual(tokenFlags('1984'), ['digit']);
  assert.deepEqual(tokenFlags('...'), ['punct']);
  assert.deepEqual(tokenFlags('@bob'), ['mention']);
  assert.deepEqual(tokenFlags('#tbt'), ['hashtag']);
  assert.ok(tokenFlags('well-known').includes('hyphen'));
  assert.ok(tokenFlags('https://x.org').includes('url'));
});

test('compiled ids are exactly the feature strings of each token after training', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.array(fc.constantFrom('The', 'cat', 'sat', 'on', 'Mat', '42', '.', 'New-York', '@x'), {
          minLength: 1,
          maxLength: 8,
        }),
        {
          minLength: 1,
          maxLength: 5,
        },
      ),
      (sentences) => {
        const fx = new TokenFeatureExtractor(config(), {});
        fx.fitIndex(sentences);
        for (const s of sentences) {
          const want = fx.featureStrings(s).map((names) => [...names].sort());
          assert.deepEqual(namesOf(fx, s), want);
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('feature templates: word, affixes, window with padding, bigrams', () => {
  const fx = new TokenFeatureExtractor(config({ window: 1, prefixes: 2, suffixes: 2 }), {});
  const names = fx.featureStrings(['Big', 'cats'])[0]!;
  for (const n of ['bias', 'w=Big', 'l=big', 's=Xxx', 'ss=Xx', 'p1=b', 'p2=bi', 'x1=g', 'x2=ig', 'f=title']) {
    assert.ok(names.includes(n), `has ${n}`);
  }
  for (const n of ['-1:<S>', '+1:l=cats', '+1:ss=x', 'b-1=<S> big', 'b+1=big cats']) {
    assert.ok(names.includes(n), `has ${n}`);
  }
  assert.ok(fx.featureStrings(['Big', 'cats'])[1]!.includes('+1:<S>'));
});

test('unknown features are dropped at predict time and minCount prunes rare ones', () => {
  const fx = new TokenFeatureExtractor(config({ minCount: 2 }), {});
  fx.fitIndex([
    ['red', 'apple'],
    ['red', 'pear'],
  ]);
  const [red, pear] = namesOf(fx, ['red', 'kiwi']);
  assert.ok(red!.includes('w=red'));
  assert.ok(!red!.includes('+1:l=apple'), 'seen once: pruned');
  assert.ok(!pear!.some((n) => n.includes('kiwi')));
  assert.ok(pear!.includes('bias'));
});

test('an extractor rebuilt from its feature names compiles identically', () => {
  const cfg = config({ gazetteers: [{ name: 'city', phrases: ['New York'] }] });
  const fx = new TokenFeatureExtractor(cfg, {});
  const train = [
    ['I', 'love', 'New', 'York', '.'],
    ['new', 'york', 'is', 'big'],
  ];
  fx.fitIndex(train);
  const copy = new TokenFeatureExtractor(cfg, {}, fx.featureNames());
  for (const s of [...train, ['Unseen', 'New', 'York', 'words']])
    assert.deepEqual(copy.compile(s), fx.compile(s));
});

test('gazetteers mark B/I of the longest listed phrase, with case options', () => {
  const g = new Gazetteer('city', ['New York', 'New York City', 'York'], false);
  assert.deepEqual(Array.from(g.match(['in', 'new', 'York', 'City', 'and', 'York'])), [
    GAZ_OUTSIDE,
    GAZ_BEGIN,
    GAZ_INSIDE,
    GAZ_INSIDE,
    GAZ_OUTSIDE,
    GAZ_BEGIN,
  ]);
  const cased = new Gazetteer('city', ['York'], true);
  assert.deepEqual(Array.from(cased.match(['york', 'York'])), [GAZ_OUTSIDE, GAZ_BEGIN]);
  const fx = new TokenFeatureExtractor(config({ gazetteers: [{ name: 'city', phrases: ['New York'] }] }), {});
  const names = fx.featureStrings(['New', 'York']);
  assert.ok(names[0]!.includes('g:city=B') && names[1]!.includes('g:city=I'));
});

test('clusters and word vectors become features (vectors as real values)', () => {
  const resources = {
    clusters: new Map([['paris', '0110']]),
    vectors: new Map([['paris', Float32Array.from([0.5, -2])]]),
  };
  const cfg = config({
    clusters: { map: { paris: '0110' }, prefixes: [2] },
    vectors: { map: { paris: [0.5, -2] }, scale: 2 },
    windowFeatures: ['lower', 'cluster'],
  });
  const fx = new TokenFeatureExtractor(cfg, resources);
  fx.fitIndex([['Paris', 'rocks']]);
  assert.equal(fx.denseDimensions, 2);
  const names = fx.featureStrings(['Paris', 'rocks']);
  assert.ok(names[0]!.includes('c=0110') && names[0]!.includes('c2=01'));
  assert.ok(names[1]!.includes('-1:c=0110'));
  const seq = fx.compile(['Paris', 'rocks']);
  assert.deepEqual(Array.from(seq.dense![0]!), [1, -4]);
  assert.equal(seq.dense![1], null);
  assert.equal(fx.featureName(fx.denseBase), 'v:0');
});

test('resources load from files and survive a save/load round trip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-res-'));
  try {
    await writeFile(join(dir, 'paths'), '0110\tparis\t10\n0111\tlondon\t4\n');
    await writeFile(join(dir, 'vec.txt'), '2 3\nparis 1 2 3\nlondon 4 5 6\n');
    await writeFile(join(dir, 'vec.json'), JSON.stringify({ paris: [1, 2], rome: [3, 4] }));
    const fromText = loadFeatureResources(
      config({ clusters: { path: join(dir, 'paths') }, vectors: { path: join(dir, 'vec.txt') } }),
    );
    assert.equal(fromText.clusters!.get('london'), '0111');
    assert.deepEqual(Array.from(fromText.vectors!.get('london')!), [4, 5, 6]);
    const fromJson = loadFeatureResources(config({ vectors: { path: join(dir, 'vec.json') } }));
    assert.deepEqual(Array.from(fromJson.vectors!.get('rome')!), [3, 4]);

    await saveFeatureResources(dir, fromText);
    const back = await loadSavedFeatureResources(dir);
    assert.deepEqual(back, fromText);

    assert.throws(
      () => loadFeatureResources(config({ vectors: { path: join(dir, 'missing.txt') } })),
      ConfigError,
    );
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ a: [1, 2], b: [1] }));
    assert.throws(
      () => loadFeatureResources(config({ vectors: { path: join(dir, 'bad.json') } })),
      /dimensions/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('binary files round-trip and fail clearly when truncated', () => {
  const w = new BinaryWriter();
  w.ascii('TEST');
  w.u32(3);
  w.f32([1.5, -2, 0.1]);
  w.i32([-1, 7]);
  w.strings(['a', 'ümlaut', '']);
  const bytes = w.bytes();
  const r = new BinaryReader(bytes, 'x.bin');
  r.expectAscii('TEST');
  assert.equal(r.u32(), 3);
  assert.deepEqual(Array.from(r.f32(3)), [1.5, -2, Math.fround(0.1)]);
  assert.deepEqual(Array.from(r.i32(2)), [-1, 7]);
  assert.deepEqual(r.strings(), ['a', 'ümlaut', '']);
  r.expectEnd();
  const cut = new BinaryReader(bytes.subarray(0, 10), 'x.bin');
  cut.expectAscii('TEST');
  cut.u32();
  assert.throws(
    () => cut.f32(3),
    (e: DataError) => e instanceof DataError && /x\.bin/.test(e.message),
  );
  assert.throws(() => new BinaryReader(bytes, 'y.bin').expectAscii('NOPE'), /not a Sapphire weights file/);
});

test('feature config validation names every bad path', () => {
  assert.throws(
    () =>
      parseModelConfig(
        FeatureConfigSchema,
        { window: -1, extra: 1, clusters: { prefixes: [2] } },
        'features',
      ),
    (e: ConfigError) => {
      const paths = (e.details.problems ?? []).map((p) => p.path);
      assert.deepEqual(paths.sort(), ['clusters', 'extra', 'window']);
      return true;
    },
  );
});
