import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, NotFittedError, SapphireError } from '../../../src/core/errors.ts';
import '../../../src/models/baseline/index.ts';
import type { Model } from '../../../src/models/model.ts';
import { createModel, loadModel } from '../../../src/models/registry.ts';
import { combineSpans, WithRulesModel } from '../../../src/models/rules/index.ts';
import { runModelChecks } from '../model-checks.ts';
import { CLASSIFY_PROBE, CLASSIFY_TRAIN, NER_PROBE, NER_TRAIN } from './tiny-data.ts';

runModelChecks(
  'with-rules.v1 (token-majority.v1 + learnt phrases, fill)',
  () =>
    createModel('with-rules.v1', {
      model: { architecture: 'token-majority.v1' },
      rules: { learnPhrases: true, phrases: [{ label: 'MISC', phrases: ['Zorblax'] }] },
      mode: 'fill',
    }),
  { train: NER_TRAIN, probe: NER_PROBE },
);

runModelChecks(
  'with-rules.v1 (majority.v1 + learnt keywords)',
  () =>
    createModel('with-rules.v1', {
      model: { architecture: 'majority.v1' },
      rules: { learnKeywords: true },
    }),
  { train: CLASSIFY_TRAIN, probe: CLASSIFY_PROBE },
);

/** Spans as `text/LABEL` strings, in text order. */
function found(model: Model, text: string): string[] {
  return model.predict([{ text }])[0]!.spans!.map((s) => `${text.slice(s.start, s.end)}/${s.label}`);
}

async function nerModel(mode: 'override' | 'fill'): Promise<Model> {
  const model = createModel('with-rules.v1', {
    model: { architecture: 'token-majority.v1' },
    rules: {
      phrases: [
        { label: 'CITY', phrases: ['Berlin', 'Zorblax'] },
        { label: 'PART', phrases: ['York'] },
      ],
    },
    mode,
  });
  await model.fit(NER_TRAIN);
  return model;
}

describe('with-rules.v1 for NER', () => {
  const text = 'Anna Schmidt flew from Berlin to Zorblax via New York .';

  test('the wrapped model alone, for reference', async () => {
    const inner = createModel('token-majority.v1');
    await inner.fit(NER_TRAIN);
    assert.deepEqual(found(inner, text), ['Anna Schmidt/PER', 'Berlin/LOC', 'New York/LOC']);
  });

  test('override: rule spans replace every model span they overlap', async () => {
    const model = await nerModel('override');
    assert.equal(model.task, 'ner');
    assert.deepEqual(found(model, text), ['Anna Schmidt/PER', 'Berlin/CITY', 'Zorblax/CITY', 'York/PART']);
  });

  test('fill: rule spans only where the model found nothing overlapping', async () => {
    const model = await nerModel('fill');
    assert.deepEqual(found(model, text), ['Anna Schmidt/PER', 'Berlin/LOC', 'Zorblax/CITY', 'New York/LOC']);
  });

  test('explanations say which part produced what', async () => {
    const model = await nerModel('override');
    const targets = model.explain({ text }).map((e) => e.target);
    assert.ok(targets.includes('rules: CITY "Berlin" [23, 29)'));
    assert.ok(targets.includes('rules: PART "York" [49, 53)'));
    assert.ok(targets.some((t) => t.startsWith('model: PER "Anna Schmidt"')));
  });

  test('saves both parts in sub-folders and loads through the registry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-with-rules-'));
    try {
      const model = await nerModel('override');
      await model.save(dir);
      assert.deepEqual((await readdir(dir)).sort(), ['model', 'model.json', 'rules']);
      const loaded = await loadModel(dir);
      assert.ok(loaded instanceof WithRulesModel);
      assert.deepEqual(loaded.predict([{ text }]), model.predict([{ text }]));
      assert.deepEqual(loaded.config(), model.config());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('predicting before fit fails clearly', () => {
    const model = createModel('with-rules.v1', { model: { architecture: 'token-majority.v1' } });
    assert.throws(() => model.predict([{ text }]), NotFittedError);
  });

  test('combineSpans keeps the winners and non-overlapping others, in text order', () => {
    const m = [
      { start: 0, end: 5, label: 'M', score: 0.5 },
      { start: 10, end: 12, label: 'M', score: 0.5 },
    ];
    const r = [
      { start: 4, end: 8, label: 'R', score: 1 },
      { start: 20, end: 22, label: 'R', score: 1 },
    ];
    assert.deepEqual(
      combineSpans(m, r, 'override').map((s) => `${s.start}${s.label}`),
      ['4R', '10M', '20R'],
    );
    assert.deepEqual(
      combineSpans(m, r, 'fill').map((s) => `${s.start}${s.label}`),
      ['0M', '10M', '20R'],
    );
  });
});

describe('with-rules.v1 for classification', () => {
  const make = async (config: Record<string, unknown>) => {
    const model = createModel('with-rules.v1', {
      model: { architecture: 'majority.v1' },
      rules: { rules: [{ label: 'weather', keywords: ['rain'] }] },
      ...config,
    });
    await model.fit(CLASSIFY_TRAIN);
    return model;
  };
  const top = (model: Model, text: string) => model.predict([{ text }])[0]!.labels![0];

  test('a rule that fires with enough confidence overrides the model; otherwise the model decides', async () => {
    const model = await make({});
    const majority = top(model, 'nothing fires here');
    assert.equal(top(model, 'more rain'), 'weather');
    assert.notEqual(majority, 'weather');
    const [p] = model.predict([{ text: 'more rain' }]);
    assert.deepEqual(p!.scores!.map((s) => s.label).sort(), ['food', 'sports', 'weather']);
  });

  test('the rule threshold and fill mode limit overrides', async () => {
    assert.notEqual(top(await make({ ruleThreshold: 0.95 }), 'more rain'), 'weather');
    // majority.v1's top probability is 3/9: below 0.5 the rules fill in, below 0.3 they may not.
    assert.equal(top(await make({ mode: 'fill' }), 'more rain'), 'weather');
    assert.notEqual(top(await make({ mode: 'fill', modelThreshold: 0.3 }), 'more rain'), 'weather');
  });

  test('explanations lead with the deciding rules', async () => {
    const model = await make({});
    const [first] = model.explain({ text: 'more rain' });
    assert.equal(first!.target, 'rules: weather');
    assert.equal(first!.contributions[0]!.feature, 'keyword "rain" of rules.rules.0');
  });
});

describe('with-rules.v1 config', () => {
  test('errors in the rules config name their path under rules.', () => {
    assert.throws(
      () =>
        createModel('with-rules.v1', {
          model: { architecture: 'token-majority.v1' },
          rules: { phrases: [{ lable: 'X', phrases: ['a'] }] },
        }),
      (e: unknown) =>
        e instanceof ConfigError && /field rules\.phrases\.0\.lable: unknown key/.test(e.message),
    );
    assert.throws(
      () =>
        createModel('with-rules.v1', {
          model: { architecture: 'token-majority.v1' },
          rules: { regexes: [{ label: 'X', regex: '(' }] },
        }),
      (e: unknown) => e instanceof ConfigError && e.details.path === 'rules.regexes.0.regex',
    );
  });

  test('unknown keys, a missing or unknown architecture and multilabel models are rejected', () => {
    assert.throws(
      () => createModel('with-rules.v1', { model: { architecture: 'majority.v1' }, mdoe: 'fill' }),
      /unknown key "mdoe" \(did you mean "mode"\?\)/,
    );
    assert.throws(() => createModel('with-rules.v1', { rules: {} }), /field model: is required/);
    assert.throws(
      () => createModel('with-rules.v1', { model: { architecture: 'nope.v1' } }),
      (e: unknown) => e instanceof SapphireError && e.code === 'NOT_FOUND',
    );
    assert.throws(
      () => createModel('with-rules.v1', { model: { architecture: 'majority.v1', task: 'multilabel' } }),
      (e: unknown) => e instanceof ConfigError && e.details.path === 'model.architecture',
    );
  });

  test('the filled config includes both parts filled', () => {
    const cfg = createModel('with-rules.v1', {
      model: { architecture: 'majority.v1' },
      rules: { default: 'other' },
    }).config();
    assert.deepEqual(cfg.model, { architecture: 'majority.v1', task: 'classify' });
    assert.equal((cfg.rules as Record<string, unknown>).temperature, 0.25);
    assert.equal(cfg.mode, 'override');
    assert.equal(cfg.ruleThreshold, 0.5);
  });
});
