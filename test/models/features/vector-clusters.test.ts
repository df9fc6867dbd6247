import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FeatureConfigSchema } from '../../../src/models/features/feature-config.ts';
import { loadFeatureResources } from '../../../src/models/features/resources.ts';
import { bisectingVectorClusters } from '../../../src/models/features/vector-clusters.ts';

const VECTORS = new Map<string, Float32Array>([
  ['paris', Float32Array.from([1, 0.1, 0])],
  ['london', Float32Array.from([0.9, 0.2, 0])],
  ['rome', Float32Array.from([1, 0, 0.1])],
  ['pizza', Float32Array.from([0, 1, 0.1])],
  ['pasta', Float32Array.from([0.1, 0.9, 0])],
  ['sushi', Float32Array.from([0, 1, 0])],
]);

test('bisecting clusters: similar vectors share bit-string prefixes, output is deterministic', () => {
  const clusters = bisectingVectorClusters(VECTORS, { depth: 3 });
  assert.equal(clusters.size, VECTORS.size);
  for (const id of clusters.values()) assert.match(id, /^[01]{1,3}$/);
  const top = (w: string) => clusters.get(w)![0];
  assert.equal(top('paris'), top('london'));
  assert.equal(top('paris'), top('rome'));
  assert.equal(top('pizza'), top('sushi'));
  assert.notEqual(top('paris'), top('pizza'));
  assert.deepEqual(bisectingVectorClusters(VECTORS, { depth: 3 }), clusters);
});

test('clusters.fromVectors in a feature config derives clusters from a vector file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sapphire-vc-'));
  try {
    const file = join(dir, 'v.json');
    await writeFile(
      file,
      JSON.stringify(Object.fromEntries([...VECTORS].map(([w, v]) => [w, Array.from(v)]))),
    );
    const cfg = FeatureConfigSchema.parse({ clusters: { fromVectors: { path: file, depth: 2 } } });
    const res = loadFeatureResources(cfg);
    assert.deepEqual(res.clusters, bisectingVectorClusters(VECTORS, { depth: 2 }));
    assert.throws(
      () => FeatureConfigSchema.parse({ clusters: { fromVectors: { path: file }, map: {} } }),
      /exactly one/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
