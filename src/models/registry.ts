import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import type { Model } from './model.ts';

/** How a registered architecture is created from config and loaded from a saved directory. */
export interface ModelFactory {
  /** One sentence shown by `sapphire models architectures`. */
  description: string;
  create(config: Record<string, unknown>): Model;
  load(dir: string, config: Record<string, unknown>): Promise<Model>;
}

const factories = new Map<string, ModelFactory>();

/** Registers an architecture under a versioned name (`crf.v1`); a name can be registered once. */
export function registerModel(name: string, factory: ModelFactory): void {
  if (!/^[a-z][a-z0-9_-]*\.v\d+$/.test(name)) {
    throw new SapphireError('INTERNAL', `model name "${name}" must look like family.vN`);
  }
  if (factories.has(name)) throw new SapphireError('CONFLICT', `model "${name}" is already registered`);
  factories.set(name, factory);
}

/** Names of every registered architecture, sorted. */
export function listModels(): { name: string; description: string }[] {
  return [...factories.entries()]
    .map(([name, f]) => ({ name, description: f.description }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function factoryFor(name: string): ModelFactory {
  const factory = factories.get(name);
  if (!factory) {
    const known = [...factories.keys()].sort().join(', ') || '(none)';
    throw new SapphireError('NOT_FOUND', `unknown model architecture "${name}"`, {
      hint: `use one of: ${known}`,
    });
  }
  return factory;
}

/** Creates an untrained model of a registered architecture from its config. */
export function createModel(name: string, config: Record<string, unknown> = {}): Model {
  return factoryFor(name).create(config);
}

/** The file every saved model directory has: its architecture name, format version and filled config. */
export const MODEL_MANIFEST = 'model.json';

/** Loads a model directory written by `Model.save`, through the registry, from its saved filled config. */
export async function loadModel(dir: string): Promise<Model> {
  let manifest: { architecture?: string; config?: Record<string, unknown> };
  try {
    manifest = JSON.parse(await readFile(join(dir, MODEL_MANIFEST), 'utf8'));
  } catch (cause) {
    throw new SapphireError('NOT_FOUND', `${dir} is not a saved model (no readable ${MODEL_MANIFEST})`, {
      file: join(dir, MODEL_MANIFEST),
      hint: 'pass the directory written by `sapphire train`',
      cause: String(cause),
    });
  }
  if (!manifest.architecture) {
    throw new SapphireError('DATA_INVALID', `${join(dir, MODEL_MANIFEST)} has no "architecture" field`);
  }
  return factoryFor(manifest.architecture).load(dir, manifest.config ?? {});
}
