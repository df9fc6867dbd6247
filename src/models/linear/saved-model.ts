import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SapphireError } from '../../core/errors.ts';
import { MODEL_MANIFEST } from '../registry.ts';

/** What every saved model directory's `model.json` holds. */
export interface ModelManifest {
  architecture: string;
  formatVersion: number;
  config: Record<string, unknown>;
  labels: string[];
  [key: string]: unknown;
}

/** Writes `model.json` into `dir` (created if missing). */
export async function writeManifest(dir: string, manifest: ModelManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MODEL_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Reads `model.json` from `dir` and checks it was written by `architecture` in the format version this code
 * reads; throws INCOMPATIBLE_VERSION naming the version needed otherwise.
 */
export async function readManifest(
  dir: string,
  architecture: string,
  formatVersion: number,
): Promise<ModelManifest> {
  const file = join(dir, MODEL_MANIFEST);
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
  } catch (cause) {
    throw new SapphireError('NOT_FOUND', `${dir} is not a saved model (no readable ${MODEL_MANIFEST})`, {
      file,
      hint: 'pass the directory written by Model.save',
      cause: String(cause),
    });
  }
  if (manifest.architecture !== architecture) {
    throw new SapphireError(
      'DATA_INVALID',
      `${file} holds a "${manifest.architecture}" model, not ${architecture}`,
      { file, hint: 'load it with loadModel(dir), which picks the architecture from the manifest' },
    );
  }
  if (manifest.formatVersion !== formatVersion) {
    throw new SapphireError(
      'INCOMPATIBLE_VERSION',
      `${file} has format version ${manifest.formatVersion}; ${architecture} reads format version ${formatVersion}`,
      {
        file,
        path: 'formatVersion',
        hint: `retrain the model with this Sapphire version, or load it with the Sapphire version that wrote format ${manifest.formatVersion}`,
      },
    );
  }
  if (!Array.isArray(manifest.labels)) {
    throw new SapphireError('DATA_INVALID', `${file} has no "labels" list`, { file, path: 'labels' });
  }
  return manifest;
}
