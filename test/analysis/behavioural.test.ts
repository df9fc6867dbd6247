import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  applyEdits,
  type BehaviourTest,
  behaviourTestsSchema,
  diffPredictions,
  expandTemplate,
  mapSpan,
  perturbText,
  runBehaviouralTests,
  sampleInOrder,
  type TextEdit,
} from '../../src/analysis/behavioural.ts';
import { validateConfig } from '../../src/core/config.ts';
import { createRng } from '../../src/core/rng.ts';
import type { Example } from '../../src/data/types.ts';
import { MockModel } from '../../src/models/mock/mock-model.ts';

const rng = () => createRng(1);
const tests = (value: unknown): BehaviourTest[] => validateConfig(behaviourTestsSchema, value);

describe('perturbations', () => {
  test('swapping entity names moves the other entities and gives the swapped one its new offsets', () => {
    const text = 'Nike shoes by Nike, red';
    const spans = [
      { start: 0, end: 4, label: 'BRAND' },
      { start: 14, end: 18, label: 'BRAND' },
      { start: 20, end: 23, label: 'COLOR' },
    ];
    const out = perturbText(text, { swapEntities: { BRAND: ['Nike', 'Adidas'] } }, { spans, rng: rng() });
    assert.equal(
      out?.text,
      'Adidas shoes by Adidas, red',
      'the same name is swapped for the same other name',
    );
    const mapped = spans.map((s) => mapSpan(s, out!.edits)!);
    assert.deepEqual(
      mapped.map((s) => out!.text.slice(s.start, s.end)),
      ['Adidas', 'Adidas', 'red'],
    );
  });

  test('without gold spans, the listed names found in the text are swapped', () => {
    const out = perturbText(
      'I like Puma and pumas',
      { swapEntities: { BRAND: ['Puma', 'Nike'] } },
      { rng: rng() },
    );
    assert.equal(out?.text, 'I like Nike and pumas');
    assert.equal(
      perturbText('no brand here', { swapEntities: { BRAND: ['Puma', 'Nike'] } }, { rng: rng() }),
      null,
    );
  });

  test('swapped text keeps every entity offset right (property)', () => {
    const names = ['Nike', 'Adidas', 'New Balance', 'Puma'];
    const word = fc.constantFrom('red', 'shoes', 'for', 'running', ',', 'size');
    const piece = fc.oneof(
      word.map((w) => ({ text: w, brand: false })),
      fc.constantFrom(...names).map((n) => ({ text: n, brand: true })),
    );
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), fc.nat(), (pieces, seed) => {
        let text = '';
        const spans: { start: number; end: number; label: string }[] = [];
        for (const p of pieces) {
          if (text) text += ' ';
          spans.push({
            start: text.length,
            end: text.length + p.text.length,
            label: p.brand ? 'BRAND' : 'WORD',
          });
          text += p.text;
        }
        const gold = spans.filter((s) => s.label === 'BRAND');
        const out = perturbText(
          text,
          { swapEntities: { BRAND: names } },
          { spans: gold, rng: createRng(seed) },
        );
        if (gold.length === 0) return assert.equal(out, null, 'nothing to swap');
        assert.ok(out, 'a swap happened');
        spans.forEach((s, i) => {
          const m = mapSpan(s, out.edits);
          assert.ok(m, 'every whole entity maps');
          const surface = out.text.slice(m.start, m.end);
          if (s.label === 'WORD') assert.equal(surface, pieces[i]!.text, 'other words keep their text');
          else {
            assert.ok(names.includes(surface), `a brand stays a listed brand (${surface})`);
            assert.notEqual(surface, pieces[i]!.text, 'and is a different one');
          }
        });
      }),
    );
  });

  test('casing keeps every offset; a character whose case changes its length is kept', () => {
    assert.equal(perturbText('Nike AIR max', { casing: 'lower' }, { rng: rng() })?.text, 'nike air max');
    assert.equal(perturbText('Nike AIR max', { casing: 'upper' }, { rng: rng() })?.text, 'NIKE AIR MAX');
    assert.equal(
      perturbText("nike AIR mAx 90s don't", { casing: 'title' }, { rng: rng() })?.text,
      "Nike Air Max 90s Don't",
    );
    assert.equal(perturbText('straße', { casing: 'upper' }, { rng: rng() })?.text, 'STRAßE');
    assert.equal(perturbText('already lower', { casing: 'lower' }, { rng: rng() }), null);
  });

  test('punctuation strip deletes punctuation not inside words and numbers; add ends with a period', () => {
    const text = 'Hello, world! U.S. e-mail costs 3.5 (really)';
    const out = perturbText(text, { punctuation: 'strip' }, { rng: rng() });
    assert.equal(out?.text, 'Hello world U.S e-mail costs 3.5 really');
    const us = mapSpan({ start: 14, end: 18, label: 'LOC' }, out!.edits);
    assert.equal(out!.text.slice(us!.start, us!.end), 'U.S');
    assert.equal(perturbText('red shoes', { punctuation: 'add' }, { rng: rng() })?.text, 'red shoes.');
    assert.equal(perturbText('red shoes!', { punctuation: 'add' }, { rng: rng() }), null);
  });

  test('append and prepend shift entities by the inserted text', () => {
    const span = { start: 0, end: 4, label: 'BRAND' };
    const pre = perturbText('Nike shoes', { prepend: 'Buy ' }, { rng: rng() })!;
    assert.deepEqual(mapSpan(span, pre.edits), { start: 4, end: 8, label: 'BRAND' });
    const post = perturbText('Nike', { append: ' shoes' }, { rng: rng() })!;
    assert.deepEqual(mapSpan(span, post.edits), span, 'text appended after an entity stays outside it');
    const rep = perturbText(
      'good shoes, good price',
      { replace: { from: 'good', to: 'bad' } },
      { rng: rng() },
    )!;
    assert.equal(rep.text, 'bad shoes, bad price');
  });

  test('an edit cutting through an entity makes it unmappable', () => {
    const edits: TextEdit[] = [{ start: 2, end: 6, replacement: 'X' }];
    assert.equal(applyEdits('abcdefgh', edits), 'abXgh');
    assert.equal(mapSpan({ start: 0, end: 4 }, edits), null);
    assert.deepEqual(mapSpan({ start: 6, end: 8 }, edits), { start: 3, end: 5 });
  });

  test('where a swap cuts through a predicted entity, entities around the swap are not compared', () => {
    const edits: TextEdit[] = [{ start: 0, end: 8, replacement: 'Puma' }];
    const before = {
      spans: [
        { start: 0, end: 4, label: 'BRAND', score: 1 },
        { start: 13, end: 16, label: 'COLOR', score: 1 },
      ],
    };
    const after = {
      spans: [
        { start: 0, end: 4, label: 'BRAND', score: 1 },
        { start: 9, end: 12, label: 'COLOR', score: 1 },
      ],
    };
    const diff = diffPredictions(before, after, edits);
    assert.deepEqual([diff.lost, diff.gained], [[], []]);
    const moved = diffPredictions(before, { spans: [after.spans[0]!] }, edits);
    assert.deepEqual(
      moved.lost,
      [{ start: 9, end: 12, label: 'COLOR', score: 1 }],
      'the rest is still compared',
    );
  });

  test('diffPredictions compares entities at their mapped offsets', () => {
    const edits: TextEdit[] = [{ start: 0, end: 4, replacement: 'Adidas' }];
    const before = {
      spans: [
        { start: 0, end: 4, label: 'BRAND', score: 1 },
        { start: 5, end: 8, label: 'COLOR', score: 1 },
      ],
    };
    const same = {
      spans: [
        { start: 0, end: 6, label: 'BRAND', score: 0.5 },
        { start: 7, end: 10, label: 'COLOR', score: 1 },
      ],
    };
    assert.deepEqual(diffPredictions(before, same, edits).lost, []);
    assert.deepEqual(diffPredictions(before, same, edits).gained, []);
    const lost = diffPredictions(before, { spans: [same.spans[1]!] }, edits);
    assert.deepEqual(lost.lost, [{ start: 0, end: 6, label: 'BRAND', score: 1 }]);
  });
});

describe('templates and sampling', () => {
  test('expandTemplate fills every combination in order', () => {
    const filled = expandTemplate(
      '{brand} {item}',
      { brand: ['Nike', 'Puma'], item: ['cap', 'socks'] },
      10,
      1,
    );
    assert.deepEqual(
      filled.map((f) => f.text),
      ['Nike cap', 'Nike socks', 'Puma cap', 'Puma socks'],
    );
    assert.deepEqual(filled[3]!.values, { brand: 'Puma', item: 'socks' });
  });

  test('a limit samples the same combinations for the same seed, in order', () => {
    const fill = { a: ['1', '2', '3', '4'], b: ['x', 'y', 'z'] };
    const one = expandTemplate('{a}{b}', fill, 5, 7).map((f) => f.text);
    assert.equal(one.length, 5);
    assert.deepEqual(
      expandTemplate('{a}{b}', fill, 5, 7).map((f) => f.text),
      one,
    );
    const all = expandTemplate('{a}{b}', fill, 100, 7).map((f) => f.text);
    assert.deepEqual(
      one,
      all.filter((t) => one.includes(t)),
      'the sample keeps the original order',
    );
    assert.deepEqual(sampleInOrder([1, 2, 3], 5, 1), [1, 2, 3]);
  });
});

const brandModel = new MockModel({
  task: 'ner',
  default: {
    spans: [
      { text: 'Nike', label: 'BRAND' },
      { text: 'Adidas', label: 'BRAND' },
      { text: 'red', label: 'COLOR' },
    ],
  },
});

describe('runBehaviouralTests', () => {
  const source: Example[] = [
    { id: '1', text: 'Nike red shoes', spans: [{ start: 0, end: 4, label: 'BRAND' }], meta: {} },
    { id: '2', text: 'red Adidas cap', spans: [{ start: 4, end: 10, label: 'BRAND' }], meta: {} },
    { id: '3', text: 'plain socks', spans: [], meta: {} },
  ];

  test('invariance passes when the swapped names are all known, and fails with before/after otherwise', async () => {
    const asked: string[] = [];
    const examplesFor = (ref: string) => {
      asked.push(ref);
      return source;
    };
    const [known, unknown, casing] = await runBehaviouralTests(
      brandModel,
      tests([
        {
          type: 'invariance',
          name: 'known',
          data: 'shop:test',
          perturb: { swapEntities: { BRAND: ['Nike', 'Adidas'] } },
        },
        {
          type: 'invariance',
          name: 'unknown',
          data: 'shop:test',
          perturb: { swapEntities: { BRAND: ['Nike', 'Adidas', 'Puma'] } },
          maxFailureRate: 0.1,
        },
        {
          type: 'invariance',
          name: 'upper',
          texts: ['Nike red shoes', 'socks 42'],
          perturb: { casing: 'upper' },
        },
      ]),
      examplesFor,
    );
    assert.deepEqual(asked, ['shop:test', 'shop:test']);
    assert.deepEqual([known!.cases, known!.failures, known!.skipped, known!.exceeded], [2, 0, 1, false]);
    assert.equal(unknown!.cases, 2);
    assert.ok(
      unknown!.failures >= 1,
      `Puma is unknown to the model, so some swap fails (${unknown!.failures})`,
    );
    assert.equal(unknown!.exceeded, true, 'over its maxFailureRate');
    const example = unknown!.examples[0]!;
    assert.match(example.after.text, /Puma/);
    assert.ok(
      example.differences.some((d) => /^lost "Puma" as BRAND/.test(d)),
      `the difference names the lost entity: ${example.differences.join(' | ')}`,
    );
    assert.equal(example.before?.marked?.includes('(BRAND)'), true, 'before is shown with its entities');
    assert.deepEqual([casing!.cases, casing!.failures, casing!.failureRate], [2, 1, 0.5]);
    assert.deepEqual(casing!.examples[0]!.differences, [
      'lost "NIKE" as BRAND at 0-4 (1.00)',
      'lost "RED" as COLOR at 5-8 (1.00)',
    ]);
  });

  test('the limit samples source examples', async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ id: String(i), text: `Nike ${i}`, meta: {} }));
    const [r] = await runBehaviouralTests(
      brandModel,
      tests([{ type: 'invariance', name: 'few', data: 'x', limit: 7, perturb: { append: '!' } }]),
      () => many,
    );
    assert.equal(r!.cases, 7);
    assert.equal(r!.failures, 0);
  });

  test('directional: class changes, stays, becomes; confidence up and down', async () => {
    const model = new MockModel({
      task: 'classify',
      answers: [
        { text: 'good shoes', labels: ['positive'], score: 0.9 },
        { text: 'good shoes not', labels: ['negative'], score: 0.6 },
        { text: 'nice cap', labels: ['positive'], score: 0.7 },
        { text: 'nice cap not', labels: ['positive'], score: 0.8 },
      ],
    });
    const texts = ['good shoes', 'nice cap'];
    const results = await runBehaviouralTests(
      model,
      tests([
        {
          type: 'directional',
          name: 'negation',
          texts,
          perturb: { append: ' not' },
          expect: { class: 'changes' },
        },
        { type: 'directional', name: 'stays', texts, perturb: { append: ' not' }, expect: { class: 'same' } },
        {
          type: 'directional',
          name: 'to-neg',
          texts,
          perturb: { append: ' not' },
          expect: { class: { to: 'negative' } },
        },
        {
          type: 'directional',
          name: 'pos-down',
          texts,
          perturb: { append: ' not' },
          expect: { confidence: { direction: 'down', label: 'positive' } },
        },
      ]),
      () => [],
    );
    assert.deepEqual(
      results.map((r) => [r.name, r.cases, r.failures]),
      [
        ['negation', 2, 1],
        ['stays', 2, 1],
        ['to-neg', 2, 1],
        ['pos-down', 2, 1],
      ],
    );
    assert.deepEqual(results[0]!.examples[0]!.differences, [
      'class should change but stayed: positive → positive',
    ]);
    assert.match(
      results[3]!.examples[0]!.differences[0]!,
      /confidence of positive should not rise: 0\.70 → 0\.80/,
    );
  });

  test('directional on entities: their confidence, mapped through the edit', async () => {
    const model = new MockModel({
      task: 'ner',
      answers: [
        { text: 'Nike shoes', spans: [{ text: 'Nike', label: 'BRAND', score: 0.6 }] },
        { text: 'Buy Nike shoes', spans: [{ text: 'Nike', label: 'BRAND', score: 0.9 }] },
        { text: 'Puma cap', spans: [{ text: 'Puma', label: 'BRAND', score: 0.8 }] },
        { text: 'Buy Puma cap', spans: [] },
        { text: 'no entity', spans: [] },
      ],
    });
    const [up] = await runBehaviouralTests(
      model,
      tests([
        {
          type: 'directional',
          name: 'buy-up',
          texts: ['Nike shoes', 'Puma cap', 'no entity'],
          perturb: { prepend: 'Buy ' },
          expect: { confidence: { direction: 'up' } },
        },
      ]),
      () => [],
    );
    assert.deepEqual(
      [up!.cases, up!.failures, up!.skipped],
      [2, 1, 1],
      'a text without entities does not count',
    );
    assert.match(up!.examples[0]!.differences[0]!, /"Puma" as BRAND .* should not drop: 0\.80 → 0\.00/);
  });

  test('mft: fills the template and the expectations, failing the fillings the model gets wrong', async () => {
    const [r] = await runBehaviouralTests(
      brandModel,
      tests([
        {
          type: 'mft',
          name: 'brand-shoes',
          template: '{brand} running shoes',
          fill: { brand: ['Nike', 'Adidas', 'Puma'] },
          expect: { entities: [{ text: '{brand}', label: 'BRAND' }] },
          maxFailureRate: 0.5,
        },
      ]),
      () => [],
    );
    assert.deepEqual([r!.cases, r!.failures, r!.exceeded], [3, 1, false]);
    assert.equal(r!.failureRate, 1 / 3);
    assert.equal(r!.examples[0]!.after.text, 'Puma running shoes');
    assert.equal(r!.examples[0]!.before, undefined);
    assert.match(r!.examples[0]!.differences[0]!, /expect\.entities\.0: contains "Puma" as BRAND/);
  });
});

describe('behaviour schema', () => {
  test('defaults are filled and bad tests are reported by field', () => {
    const [t] = tests([{ type: 'invariance', name: 'x', texts: ['a'], perturb: { casing: 'lower' } }]);
    assert.deepEqual([t!.limit, t!.seed, t!.maxFailureRate], [200, 13, null]);
    assert.throws(
      () => tests([{ type: 'directional', name: 'x', texts: ['a'], perturb: { append: '!' }, expect: {} }]),
      /behaviour|give class, entities or confidence/,
    );
    assert.throws(
      () =>
        tests([
          { type: 'invariance', name: 'x', texts: ['a'], perturb: { casing: 'lower' } },
          { type: 'invariance', name: 'x', texts: ['a'], perturb: { casing: 'upper' } },
        ]),
      /duplicate test name "x"/,
    );
    assert.throws(
      () => tests([{ type: 'invariance', name: 'x', texts: ['a'], perturb: { casing: 'lower' }, limt: 3 }]),
      /unknown key "limt" \(did you mean "limit"\?\)/,
    );
  });
});
