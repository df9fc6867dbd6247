import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, NotFittedError, SapphireError } from '../../../src/core/errors.ts';
import { createModel, loadModel } from '../../../src/models/registry.ts';
import { RulesClassifyModel } from '../../../src/models/rules/index.ts';
import { runModelChecks } from '../model-checks.ts';
import { CLASSIFY_PROBE, CLASSIFY_TRAIN, labelled } from './tiny-data.ts';

runModelChecks(
  'rules-classify.v1 (learnKeywords)',
  () => createModel('rules-classify.v1', { learnKeywords: true }),
  { train: CLASSIFY_TRAIN, probe: CLASSIFY_PROBE },
);

const rules = [
  { label: 'refund', keywords: ['refund', 'money back'] },
  { label: 'card', keywords: ['card', 'pin'], weight: 2 },
  { label: 'card', keywords: { regex: '\\bvisa|mastercard\\b' } },
];

const top = (model: RulesClassifyModel, text: string) => model.predict([{ text }])[0]!.labels![0];

describe('rules-classify.v1', () => {
  test('scores classes by matched keyword weights and falls back to the default class', () => {
    const model = new RulesClassifyModel({ rules, default: 'other' });
    assert.equal(top(model, 'I want my Money Back'), 'refund');
    assert.equal(top(model, 'my card and PIN were lost'), 'card');
    assert.equal(top(model, 'refund to my Visa card please'), 'card'); // 1 (refund) < 2 + 1 (card, regex)
    assert.equal(top(model, 'hello there'), 'other');
  });

  test('every class gets a probability; they sum to 1 and come best first', () => {
    const model = new RulesClassifyModel({ rules, default: 'other', labels: ['extra'] });
    const [p] = model.predict([{ text: 'refund please' }]);
    assert.deepEqual(
      p!.scores!.map((s) => s.label),
      ['refund', 'other', 'card', 'extra'],
    );
    const total = p!.scores!.reduce((s, x) => s + x.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-12);
    // softmax over raw scores [card 0, extra 0, other 0.5, refund 1] with temperature 0.25
    const e = [0, 0, 2, 4].map(Math.exp);
    const z = e.reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(p!.scores![0]!.score - e[3]! / z) < 1e-12);
  });

  test('a keyword counts once however often it occurs; case-sensitive rules need the exact case', () => {
    const model = new RulesClassifyModel({
      rules: [
        { label: 'a', keywords: ['x'] },
        { label: 'b', keywords: ['Y'], caseSensitive: true, weight: 1.5 },
      ],
      default: 'a',
      defaultScore: 0,
    });
    assert.equal(top(model, 'x x x x y'), 'a');
    assert.equal(top(model, 'x x x x Y'), 'b');
  });

  test('without a default, the fallback is the majority training class and fit is needed first', async () => {
    const model = new RulesClassifyModel({ rules });
    assert.throws(() => model.predict([{ text: 'x' }]), NotFittedError);
    const report = await model.fit([
      labelled('1', 'a', 'card'),
      labelled('2', 'b', 'other'),
      labelled('3', 'c', 'other'),
    ]);
    assert.equal(report.info!.fallback, 'other');
    assert.equal(top(model, 'nothing matches'), 'other');
    assert.deepEqual(model.labels(), ['card', 'other', 'refund']);
  });

  test('learnt keywords separate the classes and are explained', async () => {
    const model = new RulesClassifyModel({ learnKeywords: true });
    await model.fit(CLASSIFY_TRAIN);
    assert.equal(top(model, 'pasta tonight'), 'food');
    assert.equal(top(model, 'strong wind'), 'weather');
    const [explanation] = model.explain({ text: 'a match for the team' });
    assert.equal(explanation!.target, 'sports');
    const features = explanation!.contributions.map((c) => c.feature);
    assert.ok(features.some((f) => f.startsWith('learnt keyword "team" (in 3 training texts of sports')));
    assert.ok(features.some((f) => f.startsWith('learnt keyword "match"')));
    for (const c of explanation!.contributions) assert.ok(c.weight > 0);
  });

  test('explanations name the hand-written rule, the matched keyword and the fallback', () => {
    const model = new RulesClassifyModel({ rules, default: 'refund' });
    const explanations = model.explain({ text: 'refund to my visa' });
    assert.deepEqual(
      explanations.map((e) => e.target),
      ['refund', 'card'],
    );
    assert.deepEqual(explanations[0]!.contributions, [
      { feature: 'keyword "refund" of rules.0', weight: 1 },
      { feature: 'fallback class (default score)', weight: 0.5 },
    ]);
    assert.deepEqual(explanations[1]!.contributions, [
      { feature: 'regex rules.2 /\\bvisa|mastercard\\b/i matched "visa"', weight: 1 },
    ]);
  });

  test('config errors: unknown key with its path, bad regex naming the rule', () => {
    assert.throws(
      () => createModel('rules-classify.v1', { rules: [{ label: 'a', keyword: ['x'] }] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /field rules\.0\.keyword: unknown key "keyword" \(did you mean "keywords"\?\)/.test(e.message),
    );
    assert.throws(
      () => createModel('rules-classify.v1', { rules: [{ label: 'a', keywords: { regex: '[' } }] }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.details.path === 'rules.0.keywords.regex' &&
        /invalid regular expression \/\[\/i/.test(e.message),
    );
  });

  test('save and load keep learnt keywords and the fallback', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-rules-'));
    try {
      const model = new RulesClassifyModel({ learnKeywords: true, rules });
      await model.fit(CLASSIFY_TRAIN);
      await model.save(dir);
      const loaded = await loadModel(dir);
      assert.ok(loaded instanceof RulesClassifyModel);
      const texts = [{ text: 'refund the pizza' }, { text: 'wind' }, { text: '' }];
      assert.deepEqual(loaded.predict(texts), model.predict(texts));
      assert.deepEqual(loaded.explain(texts[0]!), model.explain(texts[0]!));
      assert.deepEqual(loaded.config(), model.config());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('training examples must carry exactly one label', async () => {
    await assert.rejects(
      new RulesClassifyModel({ learnKeywords: true }).fit([
        { id: 'bad', text: 'x', labels: ['a', 'b'], meta: {} },
      ]),
      (e: unknown) => e instanceof SapphireError && e.message.includes('bad'),
    );
  });
});
