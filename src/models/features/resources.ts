import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../core/errors.ts';
import { BinaryReader, BinaryWriter } from './binary-io.ts';
import type { FeatureConfig } from './feature-config.ts';
import { bisectingVectorClusters } from './vector-clusters.ts';

/** External lookup tables the features use: word clusters and dense word vectors. */
export interface FeatureResources {
  /** word → cluster id (looked up as written, then lowercased). */
  clusters?: Map<string, string>;
  /** word → vector, all of the same length (looked up as written, then lowercased). */
  vectors?: Map<string, Float32Array>;
}

function readClusterFile(path: string): Map<string, string> {
  const text = readText(path, 'features.clusters.path');
  const map = new Map<string, string>();
  if (path.endsWith('.json')) {
    const obj = parseJson(text, path) as Record<string, unknown>;
    for (const [w, c] of Object.entries(obj)) map.set(w, String(c));
    return map;
  }
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const parts = line.split('\t');
    if (parts.length < 2) {
      throw new DataError('cluster line needs "cluster<TAB>word"', {
        file: path,
        line: i + 1,
        hint: 'use Brown paths format (bits, word, count separated by tabs) or a JSON object',
      });
    }
    map.set(parts[1]!, parts[0]!);
  });
  return map;
}

function readVectorFile(path: string, field = 'features.vectors.path'): Map<string, Float32Array> {
  const text = readText(path, field);
  const map = new Map<string, Float32Array>();
  if (path.endsWith('.json')) {
    const obj = parseJson(text, path) as Record<string, number[]>;
    for (const [w, v] of Object.entries(obj)) map.set(w, Float32Array.from(v));
  } else {
    text.split('\n').forEach((line) => {
      const parts = line.trim().split(/\s+/);
      if (parts.length < 3) return; // blank lines and a word2vec "count dims" header
      map.set(parts[0]!, Float32Array.from(parts.slice(1), Number));
    });
  }
  checkDimensions(map, path);
  return map;
}

function readText(path: string, field: string): string {
  if (!existsSync(path)) {
    throw new ConfigError(`file ${path} does not exist`, {
      path: field,
      hint: 'fix the path (relative to cwd)',
    });
  }
  return readFileSync(path, 'utf8');
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new DataError(`invalid JSON: ${String(cause)}`, { file, hint: 'fix the JSON syntax' });
  }
}

function checkDimensions(map: Map<string, Float32Array>, where: string): void {
  let dims = -1;
  for (const [w, v] of map) {
    if (dims < 0) dims = v.length;
    if (v.length !== dims || v.some((x) => !Number.isFinite(x))) {
      throw new DataError(`vector of "${w}" has ${v.length} finite dimensions, expected ${dims}`, {
        file: where,
        hint: 'every word vector must have the same number of finite components',
      });
    }
  }
}

/** Loads the clusters and vectors a feature config names (from its files or inline maps). */
export function loadFeatureResources(config: FeatureConfig): FeatureResources {
  const out: FeatureResources = {};
  if (config.clusters) {
    const c = config.clusters;
    if (c.path) out.clusters = readClusterFile(c.path);
    else if (c.fromVectors) {
      const vectors = readVectorFile(c.fromVectors.path, 'features.clusters.fromVectors.path');
      out.clusters = bisectingVectorClusters(vectors, { depth: c.fromVectors.depth });
    } else out.clusters = new Map(Object.entries(c.map ?? {}).map(([w, id]) => [w, String(id)]));
  }
  if (config.vectors) {
    const v = config.vectors;
    if (v.path) out.vectors = readVectorFile(v.path);
    else {
      out.vectors = new Map(Object.entries(v.map ?? {}).map(([w, vec]) => [w, Float32Array.from(vec)]));
      checkDimensions(out.vectors, 'features.vectors.map');
    }
  }
  return out;
}

/** Number of dimensions of the vectors (0 without vectors). */
export function vectorDimensions(resources: FeatureResources): number {
  for (const v of resources.vectors?.values() ?? []) return v.length;
  return 0;
}

const RESOURCES_FILE = 'resources.bin';

/** Writes the resources into a model directory so the saved model does not depend on the original files. */
export async function saveFeatureResources(dir: string, resources: FeatureResources): Promise<void> {
  if (!resources.clusters && !resources.vectors) return;
  const w = new BinaryWriter();
  w.ascii('SPHR');
  w.u32(1);
  const clusters = [...(resources.clusters ?? new Map<string, string>())];
  w.strings(clusters.map(([word]) => word));
  w.strings(clusters.map(([, id]) => id));
  const vectors = [...(resources.vectors ?? new Map<string, Float32Array>())];
  const dims = vectorDimensions(resources);
  w.u32(resources.vectors ? 1 : 0);
  w.u32(dims);
  w.strings(vectors.map(([word]) => word));
  for (const [, v] of vectors) w.f32(v);
  await writeFile(join(dir, RESOURCES_FILE), w.bytes());
}

/** Reads resources written by {@link saveFeatureResources}; absent file → no resources. */
export async function loadSavedFeatureResources(dir: string): Promise<FeatureResources> {
  const file = join(dir, RESOURCES_FILE);
  if (!existsSync(file)) return {};
  const r = new BinaryReader(await readFile(file), file);
  r.expectAscii('SPHR');
  const version = r.u32();
  if (version !== 1) {
    throw new DataError(`resources format version ${version} is not supported (this build reads 1)`, {
      file,
      hint: 'save the model again with this version of Sapphire',
    });
  }
  const out: FeatureResources = {};
  const words = r.strings();
  const ids = r.strings();
  if (words.length > 0) out.clusters = new Map(words.map((w, i) => [w, ids[i]!]));
  const hasVectors = r.u32() === 1;
  const dims = r.u32();
  const vecWords = r.strings();
  if (hasVectors) {
    out.vectors = new Map();
    for (const w of vecWords) out.vectors.set(w, r.f32Array(dims));
  }
  r.expectEnd();
  return out;
}
