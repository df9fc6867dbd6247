import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, NotFittedError, SapphireError } from '../../../src/core/errors.ts';
import type { Example } from '../../../src/data/types.ts';
import type { PredictedSpan } from '../../../src/models/model.ts';
import { createModel, listModels, loadModel } from '../../../src/models/registry.ts';
import { RulesNerModel } from '../../../src/models/rules/index.ts';
import { runModelChecks } from '../model-checks.ts';
import { fixture, marked, NER_PROBE, NER_TRAIN, sharedDataset } from './tiny-data.ts';

runModelChecks('rules-ner.v1 (learnPhrases)', () => createModel('rules-ner.v1', { learnPhrases: true }), {
  train: NER_TRAIN,
  probe: NER_PROBE,
});

/** Spans as `text/LABEL` strings, in text order. */
function found(model: RulesNerModel, text: string): string[] {
  const spans = model.predict([{ text }])[0]!.spans!;
  return spans.map((s: PredictedSpan) => `${text.slice(s.start, s.end)}/${s.label}`);
}

function configError(pattern: RegExp, path?: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    assert.match(e.message, pattern);
    if (path !== undefined) assert.equal(e.details.path, path);
    assert.ok(e.hint, 'a hint says what to do');
    return true;
  };
}

describe('rules-ner.v1 phrase lists', () => {
  test('match on token boundaries, case-insensitively by default', () => {
    const model = new RulesNerModel({ phrases: [{ label: 'CITY', phrases: ['New York', 'York'] }] });
    assert.deepEqual(found(model, 'From NEW YORK to york, not Yorkshire.'), ['NEW YORK/CITY', 'york/CITY']);
  });

  test('caseSensitive lists only match the exact case', () => {
    const model = new RulesNerModel({
      phrases: [{ label: 'ORG', phrases: ['Apple'], caseSensitive: true }],
    });
    assert.deepEqual(found(model, 'Apple sells apple pies'), ['Apple/ORG']);
  });

  test('phrases are tokenized like the text (clitics, punctuation)', () => {
    const model = new RulesNerModel({ phrases: [{ label: 'BRAND', phrases: ["Levi's", 'H&M'] }] });
    assert.deepEqual(found(model, "I love Levi's jeans and H&M."), ["Levi's/BRAND", 'H&M/BRAND']);
  });

  test('a phrase file (one per line) is read, and explanations give its file:line', () => {
    const file = fixture('brands.txt');
    const model = new RulesNerModel({ phrases: [{ label: 'BRAND', file, score: 0.8 }] });
    const text = 'naked and famous jeans from topshop';
    assert.deepEqual(found(model, text), ['naked and famous/BRAND', 'topshop/BRAND']);
    assert.equal(model.predict([{ text }])[0]!.spans![0]!.score, 0.8);
    const [first, second] = model.explain({ text });
    assert.equal(first!.target, 'BRAND "naked and famous" [0, 16)');
    assert.equal(first!.contributions[0]!.feature, `phrase "naked and famous" of list phrases.0 (${file}:4)`);
    assert.match(second!.contributions[0]!.feature, /brands\.txt:3\)$/);
  });

  test('a missing phrase file is a config error naming the field', () => {
    assert.throws(
      () => new RulesNerModel({ phrases: [{ label: 'X', file: '/no/such/file.txt' }] }),
      configError(/cannot find the rule file \/no\/such\/file\.txt/, 'phrases.0.file'),
    );
  });

  test('a phrase list needs phrases or a file', () => {
    assert.throws(() => new RulesNerModel({ phrases: [{ label: 'X' }] }), configError(/needs "phrases"/));
  });

  test('a 100k-phrase gazetteer is built and matched', () => {
    const phrases = Array.from({ length: 100_000 }, (_, i) => `brand ${i.toString(36)} co`);
    const model = new RulesNerModel({ phrases: [{ label: 'BRAND', phrases }] });
    const text = `We met Brand ${(99_999).toString(36)} Co and brand ${(12_345).toString(36)} co, not brand zzzzz co.`;
    assert.deepEqual(
      model.predict([{ text }])[0]!.spans!.map((s) => text.slice(s.start, s.end)),
      [`Brand ${(99_999).toString(36)} Co`, `brand ${(12_345).toString(36)} co`],
    );
  });
});

describe('rules-ner.v1 token patterns', () => {
  test('string patterns are exact phrases, case-sensitive unless phraseMatcherAttr is lower', () => {
    const patterns = [{ label: 'BRAND', pattern: 'Ann Taylor' }];
    assert.deepEqual(found(new RulesNerModel({ patterns }), 'ann taylor vs Ann Taylor'), [
      'Ann Taylor/BRAND',
    ]);
    assert.deepEqual(found(new RulesNerModel({ patterns, phraseMatcherAttr: 'lower' }), 'ann taylor'), [
      'ann taylor/BRAND',
    ]);
  });

  test('token-list patterns with attributes and quantifiers', () => {
    const model = new RulesNerModel({
      patterns: [
        {
          label: 'MONEY',
          pattern: [{ orth: '$' }, { like_num: true }, { lower: { IN: ['k', 'million'] }, OP: '?' }],
        },
        { label: 'PRODUCT', pattern: [{ is_title: true, OP: '+' }, { lower: 'jacket' }] },
      ],
    });
    assert.deepEqual(found(model, 'the Blue Denim jacket costs $ 40 , or $ 2 million used.'), [
      'Blue Denim jacket/PRODUCT',
      '$ 40/MONEY',
      '$ 2 million/MONEY',
    ]);
  });

  test('a patterns file in the spaCy JSONL shape loads, with file:line in explanations', () => {
    const file = fixture('patterns.jsonl');
    const model = new RulesNerModel({ patternFiles: [file] });
    const text = "Ann Taylor and Levi's sell a Warm Wool jacket , 30 cm long";
    assert.deepEqual(found(model, text), [
      'Ann Taylor/FASHION_BRAND',
      "Levi's/FASHION_BRAND",
      'Warm Wool jacket/PRODUCT',
      '30 cm/SIZE',
    ]);
    const size = model.explain({ text }).find((e) => e.target.startsWith('SIZE'))!;
    assert.match(size.contributions[0]!.feature, /^pattern patternFiles\.0 id=size .*patterns\.jsonl:4\)$/);
  });

  test('every bad line of a patterns file is reported with file:line (and the attribute)', () => {
    const file = fixture('bad-patterns.jsonl');
    assert.throws(
      () => new RulesNerModel({ patternFiles: [{ file }] }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const lines = e.message.split('\n');
        assert.match(lines[0]!, /^5 problems in /);
        assert.ok(
          lines.some((l) => l.includes(`${file}:2, field pattern.1: unknown token attribute "colour"`)),
        );
        assert.ok(lines.some((l) => l.includes(`${file}:3: invalid JSON`)));
        assert.ok(lines.some((l) => l.includes(`${file}:4, field lable: unknown key "lable"`)));
        assert.ok(lines.some((l) => l.includes(`${file}:4, field label: is required`)));
        assert.ok(lines.some((l) => l.includes(`${file}:5, field pattern.0: invalid regex of "text"`)));
        assert.equal(e.details.file, file);
        assert.equal(e.details.line, 2);
        return true;
      },
    );
  });

  test('an unknown attribute in an inline pattern names its field path', () => {
    assert.throws(
      () => new RulesNerModel({ patterns: [{ label: 'X', pattern: [{ lower: 'a' }, { lemma: 'be' }] }] }),
      configError(/unsupported token attribute "lemma"/, 'patterns.0.pattern.1'),
    );
  });

  test('the shared fashion-brands patterns file loads and finds brands in the eval set', async (t) => {
    const patterns = sharedDataset('ner', 'fashion_brands', 'fashion_brands_patterns.jsonl');
    const evalFile = sharedDataset('ner', 'fashion_brands', 'fashion_brands_eval.jsonl');
    if (!patterns || !evalFile) {
      t.skip('../shared/datasets/ner/fashion_brands is absent');
      return;
    }
    const model = new RulesNerModel({ patternFiles: [patterns] });
    assert.deepEqual(model.labels(), ['FASHION_BRAND']);
    assert.deepEqual(found(model, 'I got it at Ann Taylor, not Topshop'), [
      'Ann Taylor/FASHION_BRAND',
      'Topshop/FASHION_BRAND',
    ]);
    const rows = (await readFile(evalFile, 'utf8'))
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { text: string; spans?: { start: number; end: number }[] });
    const predictions = model.predict(rows.map((r) => ({ text: r.text })));
    let predicted = 0;
    let correct = 0;
    rows.forEach((r, i) => {
      const gold = new Set((r.spans ?? []).map((s) => `${s.start}:${s.end}`));
      for (const s of predictions[i]!.spans!) {
        predicted++;
        if (gold.has(`${s.start}:${s.end}`)) correct++;
      }
    });
    assert.ok(predicted > 20, `only ${predicted} brands found in the eval set`);
    assert.ok(correct / predicted > 0.5, `precision ${correct}/${predicted} is implausibly low`);
  });
});

describe('rules-ner.v1 regexes', () => {
  test('matches become spans; a match cutting a token is expanded by default or dropped with snap: drop', () => {
    const regexes = [{ label: 'CODE', regex: '\\d{3}' }];
    const text = 'code 123 and abc456 here';
    assert.deepEqual(found(new RulesNerModel({ regexes }), text), ['123/CODE', 'abc456/CODE']);
    assert.deepEqual(found(new RulesNerModel({ regexes: [{ ...regexes[0], snap: 'drop' }] }), text), [
      '123/CODE',
    ]);
  });

  test('flags and capture groups (number or name)', () => {
    const model = new RulesNerModel({
      regexes: [
        { label: 'YEAR', regex: 'in (\\d{4})', group: 1 },
        { label: 'WHO', regex: 'by (?<who>\\w+)', group: 'who', flags: 'i' },
      ],
    });
    assert.deepEqual(found(model, 'Written in 1999 BY Smith'), ['1999/YEAR', 'Smith/WHO']);
  });

  test('a bad regex or a missing group is a config error naming the rule', () => {
    assert.throws(
      () =>
        new RulesNerModel({
          regexes: [
            { label: 'A', regex: 'ok' },
            { label: 'B', regex: '(unclosed' },
          ],
        }),
      configError(
        /field regexes\.1\.regex: invalid regular expression \/\(unclosed\/g: Unterminated group/,
        'regexes.1.regex',
      ),
    );
    assert.throws(
      () => new RulesNerModel({ regexes: [{ label: 'A', regex: 'a(b)', group: 2 }] }),
      configError(/no capture group 2/, 'regexes.0.group'),
    );
    assert.throws(
      () => new RulesNerModel({ regexes: [{ label: 'A', regex: 'a', flags: 'y' }] }),
      configError(/field regexes\.0\.flags/),
    );
  });

  test('empty matches do not loop forever', () => {
    assert.deepEqual(found(new RulesNerModel({ regexes: [{ label: 'X', regex: 'z*' }] }), 'a zz b'), [
      'zz/X',
    ]);
  });
});

describe('rules-ner.v1 overlaps and scores', () => {
  test('the longest match wins', () => {
    const model = new RulesNerModel({
      phrases: [
        { label: 'CITY', phrases: ['York'] },
        { label: 'STATE', phrases: ['New York State'] },
      ],
    });
    assert.deepEqual(found(model, 'New York State and York'), ['New York State/STATE', 'York/CITY']);
  });

  test('between equally long overlapping matches the earlier start wins', () => {
    const model = new RulesNerModel({
      phrases: [
        { label: 'B', phrases: ['b c'] },
        { label: 'A', phrases: ['a b'] },
      ],
    });
    assert.deepEqual(found(model, 'a b c'), ['a b/A']);
  });

  test('on the same extent the rule earlier in config order wins; phrases before patterns before regexes', () => {
    const text = 'Nike shoes';
    const model = new RulesNerModel({
      regexes: [{ label: 'REGEX', regex: 'Nike' }],
      patterns: [{ label: 'PATTERN', pattern: [{ lower: 'nike' }] }],
      phrases: [
        { label: 'FIRST', phrases: ['nike'], score: 0.7 },
        { label: 'SECOND', phrases: ['nike'] },
      ],
    });
    const [span] = model.predict([{ text }])[0]!.spans!;
    assert.deepEqual(span, { start: 0, end: 4, label: 'FIRST', score: 0.7 });
    const [explanation] = model.explain({ text });
    assert.deepEqual(
      explanation!.contributions.map((c) => c.feature.split(' ').slice(0, 1)[0]),
      ['phrase', 'phrase', 'pattern', 'regex'],
    );
    assert.equal(model.explain({ text }, 2)[0]!.contributions.length, 2);
  });

  test('input tokens are used when given', () => {
    const model = new RulesNerModel({ phrases: [{ label: 'X', phrases: ['ab'] }] });
    const tokens = [
      { text: 'ab', start: 0, end: 2 },
      { text: 'c', start: 2, end: 3 },
    ];
    assert.deepEqual(model.predict([{ text: 'abc', tokens }])[0]!.spans, [
      { start: 0, end: 2, label: 'X', score: 1 },
    ]);
  });
});

describe('rules-ner.v1 learnt phrases', () => {
  const train: Example[] = [
    marked('1', '[Apple](ORG) sells phones .'),
    marked('2', 'I met [Apple](ORG) staff .'),
    marked('3', 'Apple pie is great .'),
    marked('4', '[Jordan](PER) went to [Jordan](LOC) .'),
    marked('5', 'He lives in [Jordan](LOC) .'),
    marked('6', 'bad span [Goo](ORG)gle .'),
  ];

  test('keeps phrases whose label covers at least minPrecision of their occurrences', async () => {
    const model = new RulesNerModel({ learnPhrases: true, minPrecision: 0.6 });
    const report = await model.fit(train);
    assert.deepEqual(report.info, { rules: 2, learnedPhrases: 2, droppedPhrases: 0, unalignedSpans: 1 });
    assert.deepEqual(found(model, 'Apple and Jordan'), ['Apple/ORG', 'Jordan/LOC']);
    const [apple] = model.explain({ text: 'Apple' });
    assert.deepEqual(apple!.contributions, [
      { feature: 'learnt phrase "Apple" (annotated 2 of 3 times in train)', weight: 2 / 3 },
    ]);
    assert.equal(model.predict([{ text: 'Apple' }])[0]!.spans![0]!.score, 2 / 3);
  });

  test('drops ambiguous phrases below minPrecision', async () => {
    const model = new RulesNerModel({ learnPhrases: true, minPrecision: 0.7 });
    await model.fit(train);
    assert.deepEqual(found(model, 'Apple and Jordan'), []);
  });

  test('case-insensitive learning counts every casing as an occurrence', async () => {
    const model = new RulesNerModel({ learnPhrases: true, learnCaseSensitive: false, minPrecision: 0.6 });
    await model.fit([...train, marked('7', 'an apple a day .'), marked('8', 'APPLE !')]);
    assert.deepEqual(found(model, 'apple'), []); // 2 of 5
  });

  test('hand-written rules win over learnt phrases on the same extent', async () => {
    const model = new RulesNerModel({
      learnPhrases: true,
      phrases: [{ label: 'FRUIT', phrases: ['Apple'] }],
    });
    await model.fit(train);
    assert.deepEqual(found(model, 'Apple'), ['Apple/FRUIT']);
  });

  test('predicting before fit fails only when there is something to learn', () => {
    assert.throws(() => new RulesNerModel({ learnPhrases: true }).predict([{ text: 'x' }]), NotFittedError);
    assert.deepEqual(new RulesNerModel({}).predict([{ text: 'x' }]), [{ spans: [] }]);
  });

  test('training examples without spans are rejected with their ids', async () => {
    await assert.rejects(
      new RulesNerModel({ learnPhrases: true }).fit([{ id: 'x1', text: 'a', meta: {} }]),
      (e: unknown) => e instanceof SapphireError && e.message.includes('example x1'),
    );
  });
});

describe('rules-ner.v1 config, save and load', () => {
  test('is registered', () => {
    assert.ok(listModels().some((m) => m.name === 'rules-ner.v1'));
  });

  test('unknown keys are config errors with their path and a suggestion', () => {
    assert.throws(
      () => createModel('rules-ner.v1', { phrases: [{ label: 'X', phrases: ['a'], caseSensitve: true }] }),
      configError(
        /field phrases\.0\.caseSensitve: unknown key "caseSensitve" \(did you mean "caseSensitive"\?\)/,
      ),
    );
    assert.throws(
      () => createModel('rules-ner.v1', { rules: [] }),
      configError(/unknown key "rules"/, 'rules'),
    );
  });

  test('the filled config has every default written out', () => {
    const cfg = createModel('rules-ner.v1', { patternFiles: [fixture('patterns.jsonl')] }).config();
    assert.deepEqual(cfg, {
      task: 'ner',
      phrases: [],
      patterns: [],
      patternFiles: [{ file: fixture('patterns.jsonl'), score: 1 }],
      phraseMatcherAttr: 'orth',
      regexes: [],
      learnPhrases: false,
      minPrecision: 0.5,
      minCount: 1,
      learnCaseSensitive: true,
    });
  });

  test('a saved model keeps its rules without the rule files, and checks its format version', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-rules-'));
    const phraseFile = join(dir, 'phrases.txt');
    try {
      await writeFile(phraseFile, 'Acme\nGlobex\n');
      const model = new RulesNerModel({
        phrases: [{ label: 'ORG', file: phraseFile }],
        regexes: [{ label: 'NUM', regex: '\\d+' }],
      });
      const saved = join(dir, 'model');
      await model.save(saved);
      await rm(phraseFile);
      const loaded = await loadModel(saved);
      const text = 'Acme paid Globex 12 dollars';
      assert.deepEqual(loaded.predict([{ text }]), model.predict([{ text }]));
      assert.deepEqual(loaded.explain({ text }), model.explain({ text }));
      const manifest = JSON.parse(await readFile(join(saved, 'model.json'), 'utf8'));
      assert.deepEqual(manifest.labels, ['NUM', 'ORG']);
      await writeFile(join(saved, 'model.json'), JSON.stringify({ ...manifest, formatVersion: 99 }));
      await assert.rejects(
        loadModel(saved),
        (e: unknown) =>
          e instanceof SapphireError &&
          e.code === 'INCOMPATIBLE_VERSION' &&
          /format version 99; rules-ner.v1 reads format version 1/.test(e.message),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
