/** Retraining from accepted feedback: new dataset version, training, registration, gates; crash and resume. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SapphireError } from '../../src/core/errors.ts';
import { problemCardSchema } from '../../src/core/project.ts';
import type { Example } from '../../src/data/types.ts';
import {
  FEEDBACK_MERGE,
  mergeCorrections,
  RETRAIN_REPORT_ARTIFACT,
  retrainModel,
} from '../../src/jobs/retrain.ts';
import { promoteVersion } from '../../src/registry/promotion.ts';
import { registerModelVersion } from '../../src/registry/register.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { trainModel } from '../../src/train/train.ts';
import { trainConfigSchema } from '../../src/train/train-config.ts';
import { mockModelDir } from '../registry/helpers.ts';

const card = problemCardSchema.parse({
  name: 'shop',
  task: 'classify',
  labels: ['A', 'B'],
  data: { sources: [{ name: 'words', path: 'words.jsonl' }] },
  promotion: { latency: { samples: 20 } },
});

function examples(): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < 16; i++) {
    const label = i % 2 === 0 ? 'A' : 'B';
    const word = label === 'A' ? 'alpha' : 'beta';
    out.push({
      id: `e${i}`,
      text: `${word} thing ${i}`,
      labels: [label],
      split: i < 10 ? 'train' : 'test',
      meta: {},
    });
  }
  return out;
}

const LINEAR = {
  architecture: 'linear.v1',
  features: { hashBits: 10, charNgrams: null, wordNgrams: [1, 1] },
};

describe('mergeCorrections', () => {
  test('a corrected text replaces base examples with that text; corrections go to train', () => {
    const base: Example[] = [
      { id: 'a', text: 'same', labels: ['A'], split: 'test', meta: {} },
      { id: 'b', text: 'other', labels: ['B'], split: 'train', meta: {} },
    ];
    const fix: Example[] = [{ id: 'fb-1', text: 'same', labels: ['B'], meta: { feedback: '1' } }];
    const { examples: merged, replaced } = mergeCorrections(base, fix);
    assert.equal(replaced, 1);
    assert.deepEqual(
      merged.map((e) => [e.id, e.labels?.[0], e.split]),
      [
        ['b', 'B', 'train'],
        ['fb-1', 'B', 'train'],
      ],
    );
  });
});

describe('retrainModel', () => {
  let dir: string;
  let store: Store;
  const base = { card, tenant: 'default', name: 'shop', actor: 'user:test' };

  async function addCorrection(text: string, label: string): Promise<string> {
    const fb = await store.feedback.addFeedback({
      tenant: 'default',
      requestId: `req-${text}`,
      model: 'shop',
      version: 1,
      rating: 'down',
      correction: { labels: [label] },
      text,
    });
    await store.feedback.setFeedbackStatus('default', [fb.id], 'accepted');
    return fb.id;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sapphire-retrain-'));
    store = await openStore({ projectDir: dir });
    await store.putDatasetVersion({
      name: 'words',
      examples: examples(),
      operation: { kind: 'import', params: {} },
    });
    const trained = await trainModel({
      store,
      card,
      config: trainConfigSchema.parse({ model: LINEAR, data: { dataset: 'words' } }),
      projectDir: dir,
      writeModelDir: false,
    });
    await registerModelVersion(store, { ...base, source: trained.run.id, cwd: dir });
    const first = await promoteVersion({ ...base, store, projectDir: dir, ref: 'shop@1' });
    assert.ok(first.promoted, 'v1 is production');
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without accepted corrections: NOT_FOUND with a hint, and no run', async () => {
    await assert.rejects(
      retrainModel({ ...base, store, projectDir: dir }),
      (e: unknown) =>
        e instanceof SapphireError && e.code === 'NOT_FOUND' && /feedback accept/.test(e.hint ?? ''),
    );
    assert.equal((await store.listRuns({ kind: 'retrain' })).length, 0);
  });

  test('a crash after training resumes: the training is reused and the version registered once', async () => {
    const ids = [await addCorrection('beta thing 3', 'B'), await addCorrection('beta new words', 'B')];
    // Attempt 1 dies while registering (the registry is one transaction: nothing half-registered).
    const crashing = new Proxy(store, {
      get(target, key) {
        if (key === 'registry')
          return new Proxy(target.registry, {
            get(registry, k) {
              if (k === 'registerVersion') return async () => Promise.reject(new Error('simulated crash'));
              const v = Reflect.get(registry, k);
              return typeof v === 'function' ? v.bind(registry) : v;
            },
          });
        const v = Reflect.get(target, key);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    await assert.rejects(retrainModel({ ...base, store: crashing, projectDir: dir }), /simulated crash/);
    const [failed] = await store.listRuns({ kind: 'retrain' });
    assert.equal(failed?.status, 'failed');
    assert.equal((await store.registry.listVersions('default', 'shop')).length, 1, 'no version registered');
    // And a retrain whose process was killed is still "running".
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    const killed = await store.createRun({ kind: 'retrain', provenance: { host: hostname(), pid: deadPid } });

    const steps: string[] = [];
    const result = await retrainModel({ ...base, store, projectDir: dir, onProgress: (m) => steps.push(m) });
    assert.equal((await store.getRun(killed.id)).status, 'failed', 'the dead run is marked failed');
    assert.equal(result.run.metrics.reused_training, 1);
    assert.equal(result.trainRun.parentId, failed?.id, 'the finished training of attempt 1');
    assert.equal(result.version.version, 2);
    assert.equal(result.version.runId, result.trainRun.id);
    assert.equal(result.corrections, 2);
    assert.equal(result.promoted, true, result.gates.map((g) => g.summary).join('\n'));
    assert.equal((await store.registry.resolveVersion('default', 'shop@production')).version, 2);

    const dataset = result.dataset;
    assert.equal(dataset.name, 'words');
    assert.equal(dataset.operation.kind, FEEDBACK_MERGE);
    assert.deepEqual((dataset.operation.params as { feedback: string[] }).feedback.sort(), [...ids].sort());
    assert.equal(dataset.parentId, result.from.datasetVersions[0]);
    const merged = await store.loadExamples(dataset.id);
    assert.equal(merged.length, 17, '16 base − 1 replaced + 2 corrections');
    assert.deepEqual(
      merged.filter((e) => e.text === 'beta thing 3').map((e) => [e.id.slice(0, 3), e.split]),
      [['fb-', 'train']],
    );
    assert.equal(result.trainRun.datasetVersions[0], dataset.id);

    const run = await store.getRun(result.run.id);
    assert.equal(run.kind, 'retrain');
    assert.equal(run.status, 'finished');
    assert.equal(run.metrics.promoted, 1);
    assert.equal(run.metrics.corrections, 2);
    assert.match(run.notes ?? '', /dataset: reused|dataset: made/);
    assert.match(run.notes ?? '', /train: reusing finished training run/);
    const artifact = (await store.listRunArtifacts(run.id)).find((a) => a.name === RETRAIN_REPORT_ARTIFACT);
    assert.ok(artifact, 'the report is stored');
    const report = JSON.parse(Buffer.from(await store.getArtifact(artifact.hash)).toString('utf8'));
    assert.deepEqual(
      report.steps.map((s: { step: string }) => s.step),
      ['start', 'dataset', 'train', 'register', 'promote', 'done'],
    );
    assert.ok(steps.length >= 6, 'each step is reported');
  });

  test('running again reuses everything: no new version', async () => {
    const result = await retrainModel({ ...base, store, projectDir: dir });
    assert.equal(result.version.version, 2);
    assert.equal(result.promoted, true);
    assert.equal(result.promotion, null, 'already production');
    assert.equal((await store.registry.listVersions('default', 'shop')).length, 2);
  });

  test('a production version without a training config cannot be retrained', async () => {
    const folder = await mockModelDir(dir, 'mock', 0);
    await registerModelVersion(store, { ...base, name: 'mocky', source: folder, cwd: dir });
    await store.registry.setAlias('default', 'mocky', 'production', 1);
    await assert.rejects(
      retrainModel({ ...base, name: 'mocky', store, projectDir: dir, allowNoFeedback: true }),
      (e: unknown) =>
        e instanceof SapphireError && e.code === 'CONFLICT' && /training config/.test(e.message),
    );
  });
});
