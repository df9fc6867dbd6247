/**
 * Registering a model version: the files of a training run's stored model (or of a model folder) become an
 * immutable, numbered version of a named model in the store's registry.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { NotFoundError, SapphireError } from '../core/errors.ts';
import { resolveRunId } from '../experiments/run-query.ts';
import { loadModel } from '../models/index.ts';
import type { Model } from '../models/model.ts';
import { MODEL_MANIFEST } from '../models/registry.ts';
import { MODEL_PREFIX, materializeModel } from '../store/run-artifacts.ts';
import type { ModelVersion } from '../store/serving-store.ts';
import type { RunArtifact, Store } from '../store/store.ts';
import { TRAINING_RECORD } from '../train/train.ts';
import { MATERIALIZED_MARKER } from './materialize.ts';

/** What registered model names look like: lowercase letters, digits, `_`, `.` and `-`, at most 64 characters. */
export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

/** What aliases look like (`production`, `staging`, `canary-2`): a letter first, so they never read as a version. */
export const ALIAS_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;

/** Throws BAD_INPUT with a hint unless `name` is a valid registered model name. */
export function checkModelName(name: string): void {
  if (typeof name === 'string' && MODEL_NAME_PATTERN.test(name)) return;
  throw new SapphireError('BAD_INPUT', `"${name}" is not a valid model name`, {
    path: 'name',
    hint: 'use 1–64 lowercase letters, digits, "_", "." and "-", starting with a letter or digit (e.g. fashion-ner)',
  });
}

/** Throws BAD_INPUT with a hint unless `alias` is a valid alias name. */
export function checkAlias(alias: string): void {
  if (typeof alias === 'string' && ALIAS_PATTERN.test(alias)) return;
  throw new SapphireError('BAD_INPUT', `"${alias}" is not a valid alias`, {
    path: 'alias',
    hint: 'use up to 32 lowercase letters, digits, "_" and "-", starting with a letter (e.g. production, staging)',
  });
}

/** Input of {@link registerModelVersion}. */
export interface RegisterInput {
  tenant: string;
  /** A run id (or a unique part of one) whose stored model is registered, or a model folder path. */
  source: string;
  name: string;
  description?: string | null;
  actor: string;
  /** Folder a relative `source` path is resolved against. */
  cwd: string;
}

/**
 * Registers the next version of a named model from a training run (its `model/…` files, filled config, final
 * metrics and dataset versions) or from a model folder (every file, and the training record beside it if any).
 *
 * @example
 * const v = await registerModelVersion(store, { tenant: 'default', source: 'a1b2c3', name: 'fashion-ner', actor: 'user:ann', cwd: '.' });
 * v.version; // 1
 */
export async function registerModelVersion(store: Store, input: RegisterInput): Promise<ModelVersion> {
  checkModelName(input.name);
  const source = typeof input.source === 'string' ? input.source.trim() : '';
  if (source === '')
    throw new SapphireError('BAD_INPUT', 'nothing to register: the source is empty', {
      hint: 'pass a run id (see `sapphire runs ls`) or a model folder written by `sapphire train`',
    });
  const dir = resolve(input.cwd, source);
  const common = {
    tenant: input.tenant,
    name: input.name,
    description: input.description ?? null,
    createdBy: input.actor,
  };
  if (existsSync(dir) && statSync(dir).isDirectory()) {
    const found = await fromFolder(store, dir);
    return store.registry.registerVersion({ ...common, ...found });
  }
  let runId: string;
  try {
    runId = await resolveRunId(store, source);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    throw new NotFoundError(`"${source}" is neither a model folder nor a run`, {
      hint: 'pass a run id from `sapphire runs ls` (or a unique part of it), or a folder written by `sapphire train`',
    });
  }
  return store.registry.registerVersion({ ...common, ...(await fromRun(store, runId)) });
}

type Found = Pick<
  Parameters<Store['registry']['registerVersion']>[0],
  'architecture' | 'task' | 'runId' | 'source' | 'files' | 'config' | 'metrics' | 'datasetVersions'
>;

async function fromRun(store: Store, runId: string): Promise<Found> {
  const run = await store.getRun(runId);
  if (run.status !== 'finished')
    throw new SapphireError(
      'CONFLICT',
      `run ${run.id} is ${run.status}; only finished runs can be registered`,
      {
        hint:
          run.status === 'running'
            ? 'wait for it to finish (see `sapphire runs show`)'
            : 'train again, or register another run',
      },
    );
  const files: RunArtifact[] = (await store.listRunArtifacts(run.id))
    .filter((a) => a.name.startsWith(MODEL_PREFIX))
    .map((a) => ({ ...a, name: a.name.slice(MODEL_PREFIX.length) }));
  if (!files.some((f) => f.name === MODEL_MANIFEST))
    throw new NotFoundError(`run ${run.id} (${run.kind}) has no stored model`, {
      hint: 'register a run that trained a model (kind train, trial, fold, rung); see `sapphire runs show <id>`',
    });
  const model = await loadStoredModel(store, run.id);
  const metrics = Object.fromEntries(
    Object.entries(run.metrics).filter(([k, v]) => /^(dev|test)\./.test(k) && Number.isFinite(v)),
  );
  return {
    architecture: model.name,
    task: model.task,
    runId: run.id,
    source: `run:${run.id}`,
    files,
    config: run.config,
    metrics,
    datasetVersions: run.datasetVersions,
  };
}

async function loadStoredModel(store: Store, runId: string): Promise<Model> {
  const temp = await mkdtemp(join(tmpdir(), 'sapphire-register-'));
  try {
    await materializeModel(store, runId, temp);
    return await loadModel(temp);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function fromFolder(store: Store, dir: string): Promise<Found> {
  if (!existsSync(join(dir, MODEL_MANIFEST)))
    throw new NotFoundError(`${dir} is not a saved model (no ${MODEL_MANIFEST})`, {
      file: join(dir, MODEL_MANIFEST),
      hint: 'pass a folder written by `sapphire train`, or a run id from `sapphire runs ls`',
    });
  const model = await loadModel(dir);
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const names = entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((name) => name !== MATERIALIZED_MARKER)
    .sort();
  const files: RunArtifact[] = [];
  for (const name of names) {
    const bytes = await readFile(join(dir, name));
    files.push({ name, hash: await store.putArtifact(bytes), size: bytes.length });
  }
  const record = await readTrainingRecord(dir);
  return {
    architecture: model.name,
    task: model.task,
    runId: null,
    source: `dir:${dir}`,
    files,
    config: record?.config ?? { model: { architecture: model.name, ...model.config() } },
    metrics: {},
    datasetVersions: record?.dataset ? [record.dataset] : [],
  };
}

/** The training record `sapphire train` writes beside a model (its config and dataset), when present and readable. */
async function readTrainingRecord(
  dir: string,
): Promise<{ config?: Record<string, unknown>; dataset?: string } | null> {
  try {
    const record = JSON.parse(await readFile(join(dir, TRAINING_RECORD), 'utf8')) as Record<string, unknown>;
    const config = record.config;
    return {
      config:
        typeof config === 'object' && config !== null && !Array.isArray(config)
          ? (config as Record<string, unknown>)
          : undefined,
      dataset: typeof record.dataset === 'string' ? record.dataset : undefined,
    };
  } catch {
    return null;
  }
}
