import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import type { Example } from '../data/types.ts';
import type { Prediction } from '../models/model.ts';
import type { RunArtifact, Store } from './store.ts';

/** Prefix of a run's artifact names holding the saved model folder. */
export const MODEL_PREFIX = 'model/';
/** Prefix of a run's artifact names holding predictions, one JSONL file per evaluated split. */
export const PREDICTIONS_PREFIX = 'predictions/';

/** One line of a predictions artifact: the example id and what the model predicted for it. */
export type PredictionRecord = { id: string } & Prediction;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** Stores every file of a saved model folder as the run's `model/…` artifacts. */
export async function saveModelArtifacts(
  store: Store,
  runId: string,
  modelDir: string,
): Promise<RunArtifact[]> {
  const artifacts: RunArtifact[] = [];
  for (const file of await filesUnder(modelDir)) {
    const bytes = await readFile(join(modelDir, file));
    artifacts.push({
      name: `${MODEL_PREFIX}${file}`,
      hash: await store.putArtifact(bytes),
      size: bytes.length,
    });
  }
  await store.addRunArtifacts(runId, artifacts);
  return artifacts;
}

/**
 * Writes a run's stored model files into a folder, so any recorded run (a sweep trial, a fold) can be loaded
 * with `loadModel` or served without retraining.
 *
 * @example
 * await materializeModel(store, 'r-20240501120000-a1b2c3', 'models/best');
 */
export async function materializeModel(store: Store, runId: string, dir: string): Promise<string[]> {
  const files = (await store.listRunArtifacts(runId)).filter((a) => a.name.startsWith(MODEL_PREFIX));
  if (files.length === 0) {
    throw new SapphireError('NOT_FOUND', `run ${runId} has no stored model`, {
      hint: 'only runs that trained a model store one; see `sapphire runs show <id>` for its artifacts',
    });
  }
  for (const file of files) {
    const target = join(dir, file.name.slice(MODEL_PREFIX.length));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, await store.getArtifact(file.hash));
  }
  return files.map((f) => f.name);
}

/** Stores a model's predictions on one evaluated split as the run's `predictions/<split>.jsonl` artifact. */
export async function savePredictions(
  store: Store,
  runId: string,
  split: string,
  examples: readonly Example[],
  predictions: readonly Prediction[],
): Promise<RunArtifact> {
  const lines = examples.map((e, i) => JSON.stringify({ id: e.id, ...predictions[i] }));
  const bytes = Buffer.from(lines.length ? `${lines.join('\n')}\n` : '', 'utf8');
  const artifact = {
    name: `${PREDICTIONS_PREFIX}${split}.jsonl`,
    hash: await store.putArtifact(bytes),
    size: bytes.length,
  };
  await store.addRunArtifacts(runId, [artifact]);
  return artifact;
}

/** The splits a run stored predictions for (`test`, `dev`, `heldout`, …). */
export async function predictionSplits(store: Store, runId: string): Promise<string[]> {
  return (await store.listRunArtifacts(runId))
    .filter((a) => a.name.startsWith(PREDICTIONS_PREFIX) && a.name.endsWith('.jsonl'))
    .map((a) => a.name.slice(PREDICTIONS_PREFIX.length, -'.jsonl'.length));
}

/** Loads a run's stored predictions on a split, in the order they were made. */
export async function loadPredictions(
  store: Store,
  runId: string,
  split: string,
): Promise<PredictionRecord[]> {
  const name = `${PREDICTIONS_PREFIX}${split}.jsonl`;
  const artifact = (await store.listRunArtifacts(runId)).find((a) => a.name === name);
  if (!artifact) {
    const splits = await predictionSplits(store, runId);
    throw new SapphireError('NOT_FOUND', `run ${runId} has no predictions on "${split}"`, {
      hint: splits.length
        ? `it has predictions on: ${splits.join(', ')}`
        : 'the run stored no predictions (it may have failed)',
    });
  }
  const text = Buffer.from(await store.getArtifact(artifact.hash)).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as PredictionRecord);
}
