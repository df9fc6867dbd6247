import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  loadModelUnderTest,
  type ModelTestsReport,
  runModelTests,
  TEST_REPORT_ARTIFACT,
} from '../../src/analysis/model-tests.ts';
import { SapphireError } from '../../src/core/errors.ts';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import { MockModel } from '../../src/models/mock/mock-model.ts';
import { sha256Hex } from '../../src/store/artifacts.ts';
import { openStore } from '../../src/store/open-store.ts';
import { saveModelArtifacts } from '../../src/store/run-artifacts.ts';
import type { Store } from '../../src/store/store.ts';

const examples: Example[] = [
  { id: 'a', text: 'Nike red shoes', spans: [{ start: 0, end: 4, label: 'BRAND' }], split: 'test', meta: {} },
  { id: 'b', text: 'Adidas cap', spans: [{ start: 0, end: 6, label: 'BRAND' }], split: 'test', meta: {} },
  { id: 'c', text: 'Puma socks', spans: [{ start: 0, end: 4, label: 'BRAND' }], split: 'train', meta: {} },
];

const card = problemCardSchema.parse({
  name: 'shop',
  task: 'ner',
  labels: ['BRAND', 'COLOR'],
  behaviour: [
    {
      type: 'invariance',
      name: 'brand-swap',
      data: 'shop:test',
      perturb: { swapEntities: { BRAND: ['Nike', 'Adidas'] } },
      maxFailureRate: 0.5,
    },
    {
      type: 'mft',
      name: 'color',
      template: '{c} cap',
      fill: { c: ['red', 'blue'] },
      expect: { entities: [{ text: '{c}', label: 'COLOR' }] },
    },
  ],
});

const model = new MockModel({
  task: 'ner',
  default: {
    spans: [
      { text: 'Nike', label: 'BRAND' },
      { text: 'Adidas', label: 'BRAND' },
      { text: 'red', label: 'COLOR' },
    ],
  },
});

const line = (v: unknown) => JSON.stringify(v);

describe('runModelTests', () => {
  let dir: string;
  let store: Store;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sapphire-model-tests-'));
    store = await openStore({ projectDir: dir });
    await store.putDatasetVersion({ name: 'shop', examples, operation: { kind: 'import', params: {} } });
  });
  after(async () => {
    await store.close();
  });

  test('runs earmarks and behaviour tests and records a test run with metrics and a report', async () => {
    const file = join(dir, 'earmarks.jsonl');
    const content = [
      line({ id: 'ok', text: 'Nike cap', expect: { entities: [{ text: 'Nike', label: 'BRAND' }] } }),
      line({ id: 'bad', text: 'Puma cap', expect: { entities: [{ text: 'Puma', label: 'BRAND' }] } }),
    ].join('\n');
    writeFileSync(file, content);
    const result = await runModelTests({
      store,
      card,
      model,
      modelDir: dir,
      projectDir: dir,
      command: 'sapphire test x',
    });
    assert.equal(result.passed, false, 'an earmark failed');
    assert.deepEqual(
      result.earmarks?.failed.map((f) => f.id),
      ['bad'],
    );
    assert.equal(result.earmarks?.hash, sha256Hex(content));
    assert.deepEqual(
      result.behaviour.map((b) => [b.name, b.cases, b.failures, b.exceeded]),
      [
        ['brand-swap', 2, 0, false],
        ['color', 2, 1, false],
      ],
    );
    const run = await store.getRun(result.run.id);
    assert.equal(run.kind, 'test');
    assert.equal(run.status, 'finished');
    assert.deepEqual(run.datasetVersions.length, 1);
    assert.match(run.datasetVersions[0]!, /^shop@/);
    assert.equal(run.metrics['earmarks.total'], 2);
    assert.equal(run.metrics['earmarks.failed'], 1);
    assert.equal(run.metrics['earmarks.pass_rate'], 0.5);
    assert.equal(run.metrics['behaviour.brand-swap.failure_rate'], 0);
    assert.equal(run.metrics['behaviour.color.failure_rate'], 0.5);
    const config = run.config as {
      earmarks: { file: string; hash: string };
      behaviour: unknown[];
      model: { architecture: string };
    };
    assert.deepEqual(config.earmarks, { file, hash: sha256Hex(content), count: 2 });
    assert.equal(config.behaviour.length, 2);
    assert.equal(config.model.architecture, 'mock.v1');
    const artifact = (await store.listRunArtifacts(run.id)).find((a) => a.name === TEST_REPORT_ARTIFACT);
    assert.ok(artifact, 'the report is stored');
    const report = JSON.parse(
      Buffer.from(await store.getArtifact(artifact.hash)).toString('utf8'),
    ) as ModelTestsReport;
    assert.equal(report.earmarks?.failed[0]?.failures[0]?.actual, 'no entity predicted on "Puma"');
    assert.equal(report.behaviour[1]?.examples[0]?.after.text, 'blue cap');
  });

  test('without an earmarks file only the behaviour tests run; with neither there is nothing to test', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'sapphire-model-tests-'));
    const result = await runModelTests({ store, card, model, projectDir: empty });
    assert.equal(result.earmarks, null);
    assert.equal(result.passed, true, 'no earmarks and no test over its maximum');
    assert.equal(result.run.metrics['earmarks.total'], undefined);
    await assert.rejects(
      runModelTests({ store, card, model, projectDir: empty, behaviour: false }),
      (e: unknown) =>
        e instanceof SapphireError && e.code === 'NOT_FOUND' && /nothing to test/.test(e.message),
    );
    await assert.rejects(
      runModelTests({ store, card, model, projectDir: empty, earmarksFile: 'missing.jsonl' }),
      (e: unknown) =>
        e instanceof SapphireError && e.code === 'NOT_FOUND' && /no earmarks file/.test(e.message),
    );
  });

  test('a test over its maxFailureRate fails the run', async () => {
    const strict = problemCardSchema.parse({
      ...card,
      behaviour: [
        {
          type: 'invariance',
          name: 'lower',
          texts: ['Nike cap'],
          perturb: { casing: 'lower' },
          maxFailureRate: 0,
        },
      ],
    });
    const result = await runModelTests({
      store,
      card: strict,
      model,
      projectDir: mkdtempSync(join(tmpdir(), 'sapphire-')),
    });
    assert.equal(result.behaviour[0]?.exceeded, true);
    assert.equal(result.passed, false);
    assert.equal(result.run.metrics.passed, 0);
  });

  test('bad references fail before a run is recorded', async () => {
    const runsBefore = (await store.listRuns()).length;
    const badData = problemCardSchema.parse({
      ...card,
      behaviour: [{ type: 'invariance', name: 'x', data: 'shop:nosuch', perturb: { casing: 'lower' } }],
    });
    await assert.rejects(
      runModelTests({
        store,
        card: badData,
        model,
        projectDir: dir,
        earmarksFile: join(dir, 'earmarks.jsonl'),
      }),
      /no examples in split "nosuch"/,
    );
    const badLabel = problemCardSchema.parse({
      ...card,
      behaviour: [
        { type: 'invariance', name: 'x', texts: ['a'], perturb: { swapEntities: { BRNAD: ['a', 'b'] } } },
      ],
    });
    await assert.rejects(
      runModelTests({ store, card: badLabel, model, projectDir: dir }),
      (e: unknown) =>
        e instanceof SapphireError &&
        e.code === 'CONFIG_INVALID' &&
        /behaviour\.0\.perturb\.swapEntities\.BRNAD/.test(e.message) &&
        /did you mean "BRAND"/.test(e.message),
    );
    assert.equal((await store.listRuns()).length, runsBefore);
  });

  test('loadModelUnderTest loads a folder, or a run’s stored model into a temporary folder', async () => {
    const modelDir = join(dir, 'mock-model');
    await model.save(modelDir);
    const fromDir = await loadModelUnderTest(store, modelDir, dir);
    assert.equal(fromDir.modelDir, modelDir);
    assert.equal(fromDir.model.name, 'mock.v1');
    const run = await store.createRun({ kind: 'train' });
    await saveModelArtifacts(store, run.id, modelDir);
    const fromRun = await loadModelUnderTest(store, run.id.slice(-6), dir);
    assert.equal(fromRun.runId, run.id);
    assert.deepEqual(fromRun.model.predict([{ text: 'Nike' }]), model.predict([{ text: 'Nike' }]));
    await fromRun.dispose();
    await assert.rejects(loadModelUnderTest(store, 'no-such-thing', dir), /neither a model folder nor a run/);
    await assert.rejects(loadModelUnderTest(store, '.', dir), /not a saved model/);
    assert.ok(existsSync(modelDir), 'the model folder is left alone');
  });
});
