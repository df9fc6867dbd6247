import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NotFittedError } from '../../src/core/errors.ts';
import type { Example } from '../../src/data/types.ts';
import { type Model, predictMany } from '../../src/models/model.ts';
import { loadModel } from '../../src/models/registry.ts';

/** A tiny data set for the conformance suite, with the inputs used to compare predictions. */
export interface ModelCheckData {
  train: Example[];
  /** Inputs to predict on (may include unseen texts). */
  probe: Example[];
}

/** The conformance suite every model passes: see DESIGN.md (Testing). */
export function runModelChecks(name: string, make: () => Model, data: ModelCheckData): void {
  const strip = (e: Example) => ({ text: e.text, tokens: e.tokens });

  test(`${name}: predict before fit fails clearly`, async () => {
    await assert.rejects(predictMany(make(), [strip(data.probe[0]!)]), NotFittedError);
  });

  test(`${name}: overfits a tiny training set`, async () => {
    const model = make();
    await model.fit(data.train, undefined, { seed: 1 });
    const predictions = await predictMany(model, data.train.map(strip));
    data.train.forEach((ex, i) => {
      const p = predictions[i]!;
      if (ex.spans) {
        const got = (p.spans ?? []).map((s) => `${s.start}:${s.end}:${s.label}`).sort();
        const want = ex.spans.map((s) => `${s.start}:${s.end}:${s.label}`).sort();
        assert.deepEqual(got, want, `spans of ${ex.id}`);
      }
      if (ex.labels)
        assert.deepEqual([...(p.labels ?? [])].sort(), [...ex.labels].sort(), `labels of ${ex.id}`);
    });
  });

  test(`${name}: save then load gives identical predictions`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sapphire-model-'));
    try {
      const model = make();
      await model.fit(data.train, undefined, { seed: 1 });
      await model.save(dir);
      const loaded = await loadModel(dir);
      assert.equal(loaded.name, model.name);
      assert.deepEqual(
        await predictMany(loaded, data.probe.map(strip)),
        await predictMany(model, data.probe.map(strip)),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${name}: batch prediction equals one-by-one`, async () => {
    const model = make();
    await model.fit(data.train, undefined, { seed: 1 });
    const batch = await predictMany(model, data.probe.map(strip));
    const single: unknown[] = [];
    for (const e of data.probe) single.push((await predictMany(model, [strip(e)]))[0]);
    assert.deepEqual(batch, single);
  });

  test(`${name}: same seed gives the same model`, async () => {
    const a = make();
    const b = make();
    await a.fit(data.train, undefined, { seed: 7 });
    await b.fit(data.train, undefined, { seed: 7 });
    assert.deepEqual(
      await predictMany(a, data.probe.map(strip)),
      await predictMany(b, data.probe.map(strip)),
    );
  });
}
