/** The problem card's `promotion:` and `serve:` sections and the gate settings resolved from them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/core/errors.ts';
import { problemCardSchema, validateProblemCard } from '../../src/core/project.ts';
import { gateSettings } from '../../src/registry/gates.ts';

describe('card sections promotion and serve', () => {
  test('a minimal card gets every default', () => {
    const card = problemCardSchema.parse({ name: 'x', task: 'classify' });
    assert.deepEqual(card.promotion, {
      dataset: null,
      metric: null,
      alpha: 0.05,
      require: 'not-worse',
      earmarks: true,
      latency: { p99Ms: 50, samples: 200 },
    });
    assert.deepEqual(card.serve, {
      port: 8080,
      host: '127.0.0.1',
      auth: true,
      limits: { bodyBytes: 1_048_576, textChars: 100_000, batchSize: 256 },
      rateLimitPerMinute: 6000,
      log: { sample: 1, retentionDays: 30 },
      pollIntervalMs: 1000,
      runtime: 'native',
      onnxThreads: 2,
      onnxWorkers: 0,
    });
  });

  test('partial sections keep the other defaults', () => {
    const card = problemCardSchema.parse({
      name: 'x',
      task: 'ner',
      promotion: { require: 'better', latency: { p99Ms: 5 } },
      serve: { port: 9000, limits: { batchSize: 8 } },
    });
    assert.equal(card.promotion.require, 'better');
    assert.deepEqual(card.promotion.latency, { p99Ms: 5, samples: 200 });
    assert.equal(card.serve.port, 9000);
    assert.deepEqual(card.serve.limits, { bodyBytes: 1_048_576, textChars: 100_000, batchSize: 8 });
  });

  test('promotion.metric must be a metric of the task, with a suggestion', () => {
    const error = (() => {
      try {
        validateProblemCard({ name: 'x', task: 'ner', promotion: { metric: 'macro_f1' } });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(error instanceof ConfigError, 'a ConfigError');
    assert.match(
      error.message,
      /field promotion\.metric: "macro_f1" is not a ner metric; use one of span_f1_micro/,
    );
  });

  test('bad values name their field', () => {
    for (const [bad, field] of [
      [{ promotion: { alpha: 0 } }, /promotion\.alpha/],
      [{ promotion: { require: 'same' } }, /promotion\.require/],
      [{ serve: { port: 70_000 } }, /serve\.port/],
      [{ serve: { log: { sample: 2 } } }, /serve\.log\.sample/],
      [{ serve: { extra: 1 } }, /serve/],
    ] as const) {
      assert.throws(
        () => validateProblemCard({ name: 'x', task: 'classify', ...bad }),
        (e: unknown) => e instanceof ConfigError && field.test(e.message),
        JSON.stringify(bad),
      );
    }
  });

  test('gate settings default to the first source :test and the primary metric', () => {
    const card = problemCardSchema.parse({
      name: 'x',
      task: 'classify',
      metrics: { primary: 'accuracy' },
      data: { sources: [{ name: 'tickets', path: 'a.csv' }] },
    });
    const settings = gateSettings(card);
    assert.equal(settings.dataset, 'tickets:test');
    assert.equal(settings.metric, 'accuracy');
    const explicit = gateSettings(
      problemCardSchema.parse({
        name: 'x',
        task: 'classify',
        promotion: { dataset: 'gold', metric: 'micro_f1' },
      }),
    );
    assert.equal(explicit.dataset, 'gold');
    assert.equal(explicit.metric, 'micro_f1');
    assert.equal(gateSettings(problemCardSchema.parse({ name: 'x', task: 'ner' })).dataset, null);
  });
});
