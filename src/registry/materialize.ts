/**
 * Materializing a registered model version: its content-addressed files written to a cache folder (temp folder
 * + rename, so a folder is either complete or absent) and loaded through the model registry.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import { loadModel } from '../models/index.ts';
import type { Model } from '../models/model.ts';
import { isOnnxExportable } from '../models/onnx/scoring.ts';
import { sha256Hex } from '../store/artifacts.ts';
import type { ModelVersion } from '../store/serving-store.ts';
import type { Store } from '../store/store.ts';

/** File written last into a materialized folder: which version and files it holds (checked before reuse). */
export const MATERIALIZED_MARKER = '.sapphire-materialized.json';

/**
 * Where registered versions are materialized by default: `<projectDir>/.sapphire/cache/registry`.
 *
 * @example
 * defaultCacheRoot('/work/shop'); // '/work/shop/.sapphire/cache/registry'
 */
export function defaultCacheRoot(projectDir: string): string {
  return join(projectDir, '.sapphire', 'cache', 'registry');
}

/** What the marker records: enough to tell this version's folder from a stale one of another store. */
function markerOf(version: ModelVersion): string {
  const files = [...version.files].sort((a, b) => a.name.localeCompare(b.name));
  return `${JSON.stringify({
    tenant: version.tenant,
    name: version.name,
    version: version.version,
    files: files.map((f) => ({ name: f.name, hash: f.hash })),
  })}\n`;
}

async function isComplete(dir: string, marker: string): Promise<boolean> {
  try {
    return (await readFile(join(dir, MATERIALIZED_MARKER), 'utf8')) === marker;
  } catch {
    return false;
  }
}

/** The target of a stored file name inside `dir`, refusing names that would leave it. */
function targetOf(dir: string, name: string, version: ModelVersion): string {
  const clean = normalize(name);
  if (
    name === '' ||
    isAbsolute(name) ||
    clean === '..' ||
    clean.startsWith(`..${sep}`) ||
    name.includes('\0')
  )
    throw new SapphireError(
      'DATA_INVALID',
      `${version.name}@${version.version} lists an unsafe file name "${name}"`,
      {
        hint: 'register the model again from its run or folder',
      },
    );
  return join(dir, clean);
}

/**
 * Writes a version's files to `<cacheRoot>/<tenant>/<name>/<version>` (into a temp folder renamed into place, so
 * readers never see half a model) and returns the folder; a complete folder of the same version is reused.
 *
 * @example
 * const dir = await materializeVersion(store, await store.registry.resolveVersion('default', 'shop'), defaultCacheRoot('.'));
 */
export async function materializeVersion(
  store: Store,
  version: ModelVersion,
  cacheRoot: string,
): Promise<string> {
  const dir = join(cacheRoot, version.tenant, version.name, String(version.version));
  const marker = markerOf(version);
  if (await isComplete(dir, marker)) return dir;
  await mkdir(dirname(dir), { recursive: true });
  const temp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(temp, { recursive: true });
    for (const file of version.files) {
      const bytes = await store.getArtifact(file.hash);
      if (sha256Hex(bytes) !== file.hash)
        throw new SapphireError(
          'DATA_INVALID',
          `file ${file.name} of ${version.name}@${version.version} does not match its hash`,
          { hint: 'the artifact folder is damaged: restore it from a backup, or register the model again' },
        );
      const target = targetOf(temp, file.name, version);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, bytes);
    }
    await writeFile(join(temp, MATERIALIZED_MARKER), marker);
    await moveIntoPlace(temp, dir, marker);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return dir;
}

/** Renames the finished temp folder to `dir`; a stale folder there is moved away first, a complete one kept. */
async function moveIntoPlace(temp: string, dir: string, marker: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await rename(temp, dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
    }
    // Another process finished first (keep its folder), or a stale folder of another store is in the way.
    if (await isComplete(dir, marker)) return;
    const stale = `${dir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await rename(dir, stale);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (existsSync(stale)) await rm(stale, { recursive: true, force: true });
  }
  throw new SapphireError('CONFLICT', `could not write the model folder ${dir}`, {
    hint: 'another process keeps replacing it; try again, or use another cache folder',
  });
}

/**
 * Materializes and loads a registered version for serving: natively, or with `runtime.kind` `onnx` through
 * onnxruntime-node (its shipped `model.onnx`, else exported at load); models that already run in ONNX Runtime
 * (imported ones) are kept as they are, and a model that cannot be exported is served natively and `warn` says so.
 *
 * @example
 * const model = await loadServedModel(store, version, defaultCacheRoot('.'), { kind: 'onnx', threads: 2 });
 */
export async function loadServedModel(
  store: Store,
  version: ModelVersion,
  cacheRoot: string,
  runtime: { kind: 'native' | 'onnx'; threads?: number; workers?: number },
  warn: (message: string) => void = () => {},
): Promise<Model> {
  const dir = await materializeVersion(store, version, cacheRoot);
  const model = await loadModel(dir);
  // Imported ONNX models (hf-onnx.v1, external.v1) already score through ONNX Runtime.
  if (runtime.kind === 'native' || model.predictAsync) return model;
  if (!isOnnxExportable(model)) {
    warn(`${model.name} cannot run through ONNX Runtime; serving it natively`);
    return model;
  }
  // Loaded on demand: the native binding of onnxruntime-node costs start-up time for native serving.
  const { OnnxRuntimeModel } = await import('../models/onnx/onnx-runtime.ts');
  return OnnxRuntimeModel.load(dir, { threads: runtime.threads, workers: runtime.workers, model });
}

/**
 * Materializes a registered version (see {@link materializeVersion}) and loads it through the model registry.
 *
 * @example
 * const model = await loadRegisteredModel(store, version, defaultCacheRoot(projectDir));
 * model.predict([{ text: 'Nike Air Max' }]);
 */
export async function loadRegisteredModel(
  store: Store,
  version: ModelVersion,
  cacheRoot: string,
): Promise<Model> {
  return loadModel(await materializeVersion(store, version, cacheRoot));
}
