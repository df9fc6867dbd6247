import { basename, dirname, relative, resolve } from 'node:path';
import { type Problem, SapphireError, throwIfProblems } from '../core/errors.ts';
import { checkDatasetName } from '../store/ids.ts';
import type { DatasetVersion, Store } from '../store/store.ts';
import { type FormatName, readDataset, writeDataset } from './formats/index.ts';
import { type SplitOptions, splitExamples } from './split.ts';
import type { Example, TaskKind } from './types.ts';
import { validateExamples } from './validate.ts';

/** One file or folder to import, with its reader options and an optional fixed split. */
export interface ImportSource {
  path: string;
  format?: FormatName | 'auto';
  /** Reader options (scheme, columns, delimiter, …), passed through to the format's reader. */
  options?: Record<string, unknown>;
  /** Assigns every example of this source to a split (e.g. the dev file of a published set). */
  split?: string | null;
}

/** Options for {@link importDataset}. */
export interface ImportOptions {
  name: string;
  sources: ImportSource[];
  task?: TaskKind;
  /** The project's label set; labels outside it are problems (an empty list accepts any label). */
  labelSet?: string[];
  /** Store the valid examples and list the skipped ones instead of failing. */
  skipInvalid?: boolean;
  /** Paths are recorded relative to this folder in the version's lineage. */
  baseDir?: string;
  /** Called as each source is read. */
  onProgress?: (event: { source: string; index: number; total: number; examples: number }) => void;
}

/** Result of {@link importDataset}. */
export interface ImportResult {
  version: DatasetVersion;
  /** False when identical content was already stored under this name. */
  created: boolean;
  /** Problems of the items left out (only with `skipInvalid`). */
  skipped: Problem[];
}

/**
 * Reads, validates and stores files as one immutable dataset version; nothing is stored when a problem is found.
 *
 * @example
 * const { version } = await importDataset(store, { name: 'wnut17', sources: [{ path: 'train.conll', split: 'train' }] });
 */
export async function importDataset(store: Store, options: ImportOptions): Promise<ImportResult> {
  checkDatasetName(options.name);
  if (options.sources.length === 0) {
    throw new SapphireError('BAD_INPUT', 'nothing to import', {
      hint: 'give a file or folder, or list data.sources in sapphire.yaml',
    });
  }
  const examples: Example[] = [];
  const problems: Problem[] = [];
  const recorded: Record<string, unknown>[] = [];
  const idsSeen = new Set<string>();
  for (const [index, source] of options.sources.entries()) {
    const read = await readDataset(source.path, { ...source.options, format: source.format ?? 'auto' });
    // Ids are `<file name>:<line>`; files of the same name (crossner/*/train.txt) get their folder in front.
    const clash = read.examples.some((e) => idsSeen.has(e.id));
    const folder = basename(dirname(resolve(source.path)));
    const fromSource = read.examples.map((e) => ({
      ...e,
      ...(clash ? { id: `${folder}/${e.id}` } : {}),
      ...(source.split ? { split: source.split } : {}),
    }));
    for (const e of fromSource) idsSeen.add(e.id);
    examples.push(...fromSource);
    problems.push(...read.problems);
    recorded.push({
      path: displayPath(source.path, options.baseDir),
      format: read.detected.format ?? source.format ?? 'auto',
      options: source.options ?? {},
      split: source.split ?? null,
      detected: read.detected,
      examples: fromSource.length,
    });
    options.onProgress?.({
      source: source.path,
      index,
      total: options.sources.length,
      examples: examples.length,
    });
  }
  const labelSet = options.labelSet?.length ? options.labelSet : undefined;
  const invalid = validateExamples(examples, { task: options.task, labelSet });
  problems.push(...invalid);
  let kept = examples;
  if (problems.length > 0) {
    if (!options.skipInvalid) {
      throwIfProblems(
        problems,
        `the import of ${options.name}`,
        'fix the data, or pass --skip-invalid to store the valid examples and list the skipped ones',
      );
    }
    const badIds = new Set(invalid.map((p) => p.exampleId).filter((id): id is string => Boolean(id)));
    kept = examples.filter((e) => !badIds.has(e.id));
  }
  if (kept.length === 0) {
    throw new SapphireError(
      'DATA_INVALID',
      `no valid examples found in ${options.sources.map((s) => s.path).join(', ')}`,
      {
        problems,
        hint: 'check the --format and reader options (see `sapphire data import --help`)',
      },
    );
  }
  const { version, created } = await store.putDatasetVersion({
    name: options.name,
    examples: kept,
    parentId: null,
    operation: { kind: 'import', params: { sources: recorded, skipped: problems.length } },
  });
  return { version, created, skipped: problems };
}

/** Assigns train/dev/test splits to a version's examples and stores the result as a new version. */
export async function splitDataset(
  store: Store,
  ref: string,
  options: SplitOptions & { task?: TaskKind },
): Promise<{ version: DatasetVersion; created: boolean }> {
  const parent = await store.getDatasetVersion(ref);
  const examples = await store.loadExamples(parent.id);
  const split = splitExamples(examples, options);
  return store.putDatasetVersion({
    name: parent.name,
    examples: split,
    parentId: parent.id,
    operation: { kind: 'split', params: { ...options } },
  });
}

/** The chain of versions from `ref` back to its first ancestor, newest first. */
export async function lineage(store: Store, ref: string): Promise<DatasetVersion[]> {
  const chain: DatasetVersion[] = [];
  let current: DatasetVersion | null = await store.getDatasetVersion(ref);
  while (current) {
    chain.push(current);
    current = current.parentId ? await store.getDatasetVersion(current.parentId) : null;
  }
  return chain;
}

/** The reader settings recorded when the version's data was imported (format, detected scheme, columns). */
export async function importSettings(
  store: Store,
  ref: string,
): Promise<{ format?: FormatName; options: Record<string, unknown> }> {
  const chain = await lineage(store, ref);
  const imported = chain.find((v) => v.operation.kind === 'import');
  const sources = (imported?.operation.params.sources ?? []) as {
    format?: FormatName;
    detected?: Record<string, unknown>;
  }[];
  const first = sources[0];
  if (!first) return { options: {} };
  const { format: _ignored, ...detected } = first.detected ?? {};
  return { format: first.format, options: detected };
}

/** Writes a version (or one split of it) in a format; defaults to the format and settings it was imported with. */
export async function exportDataset(
  store: Store,
  ref: string,
  options: { format?: FormatName; split?: string; options?: Record<string, unknown> } = {},
): Promise<{ text: string; format: FormatName; count: number }> {
  const version = await store.getDatasetVersion(ref);
  let examples = await store.loadExamples(version.id);
  if (options.split) {
    const wanted = options.split;
    examples = examples.filter((e) => e.split === wanted);
    if (examples.length === 0) {
      const known = Object.keys(version.splitCounts).join(', ') || 'none';
      throw new SapphireError('NOT_FOUND', `${version.id} has no examples in split "${wanted}"`, {
        hint: `splits of this version: ${known}`,
      });
    }
  }
  const imported = await importSettings(store, version.id);
  const format = options.format ?? imported.format ?? 'jsonl';
  const writeOptions =
    format === imported.format ? { ...imported.options, ...options.options } : { ...options.options };
  return { text: writeDataset(examples, { ...writeOptions, format }), format, count: examples.length };
}

/** A source path as recorded in lineage: relative inside the project, absolute outside it. */
function displayPath(path: string, baseDir?: string): string {
  if (!baseDir) return path;
  const rel = relative(baseDir, resolve(path));
  return rel.startsWith('..') ? resolve(path) : rel;
}
