import { cp, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SapphireError } from '../core/errors.ts';
import { loadProject, PROJECT_FILE, type ProblemCard, writeProblemCard } from '../core/project.ts';
import { importDataset, splitDataset } from '../data/dataset-ops.ts';
import { readDataset } from '../data/formats/index.ts';
import { sliceMembership } from '../data/slices.ts';
import { compareSplits, computeStats, type DatasetStats } from '../data/stats.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { openStore } from '../store/open-store.ts';
import type { DatasetVersion } from '../store/store.ts';

/** The demo project shipped with the package. */
export const FASHION_EXAMPLE_DIR = fileURLToPath(new URL('../../examples/fashion', import.meta.url));

/** Options for {@link runQuickstart}. */
export interface QuickstartOptions {
  /** Folder of the project to create or reuse. */
  dir: string;
  /** A data file or folder to use instead of the fashion demo. */
  data?: string;
  /** Store URI (default: SQLite inside the project). */
  store?: string;
  /** Called with a short line at each step. */
  onStep?: (message: string) => void;
}

/** What the quickstart made: the project, and for each dataset its split version and statistics. */
export interface QuickstartResult {
  dir: string;
  card: ProblemCard;
  datasets: { imported: DatasetVersion; split: DatasetVersion; stats: DatasetStats }[];
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Guesses the task of a data set: spans → ner, several labels on some example → multilabel, else classify. */
export function guessTask(examples: Example[]): TaskKind {
  if (examples.some((e) => (e.spans?.length ?? 0) > 0)) return 'ner';
  if (examples.some((e) => (e.labels?.length ?? 0) > 1)) return 'multilabel';
  return 'classify';
}

function labelsOf(examples: Example[], task: TaskKind): string[] {
  const labels = new Set<string>();
  for (const e of examples) {
    if (task === 'ner') for (const s of e.spans ?? []) labels.add(s.label);
    else for (const l of e.labels ?? []) labels.add(l);
  }
  return [...labels].sort();
}

async function prepareProject(options: QuickstartOptions, dir: string): Promise<void> {
  if (await exists(join(dir, PROJECT_FILE))) {
    options.onStep?.(`Using the existing project in ${dir}`);
    return;
  }
  if (!(await isEmptyOrMissing(dir))) {
    throw new SapphireError('CONFLICT', `${dir} exists, is not empty and has no ${PROJECT_FILE}`, {
      hint: 'choose a new folder: `sapphire quickstart <dir>`',
    });
  }
  if (!options.data) {
    await cp(FASHION_EXAMPLE_DIR, dir, { recursive: true, errorOnExist: false });
    options.onStep?.(`Created the fashion demo project in ${dir}`);
    return;
  }
  const path = resolve(options.data);
  const read = await readDataset(path, { format: 'auto' });
  if (read.examples.length === 0) {
    throw new SapphireError('DATA_INVALID', `found no usable examples in ${path}`, {
      problems: read.problems,
      hint: 'check the file format; `sapphire data import --help` lists the formats',
    });
  }
  const task = guessTask(read.examples);
  const name =
    basename(path, extname(path))
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'data';
  const { card: base } = await loadProject(FASHION_EXAMPLE_DIR);
  const card: ProblemCard = {
    ...base,
    name,
    task,
    description: `Quickstart project for ${path}`,
    labels: labelsOf(read.examples, task),
    metrics: { ...base.metrics, primary: task === 'ner' ? 'span_f1_micro' : 'macro_f1', secondary: [] },
    acceptance: {},
    slices: [],
    data: {
      ...base.data,
      sources: [{ name, path, format: String(read.detected.format ?? 'auto'), options: {}, split: null }],
    },
  } as ProblemCard;
  await writeProblemCard(dir, card);
  options.onStep?.(`Created a ${task} project for ${path} in ${dir}`);
}

/**
 * Creates (or reuses) a project, imports its data, splits it and computes statistics.
 *
 * @example
 * const result = await runQuickstart({ dir: 'sapphire-quickstart' });
 */
export async function runQuickstart(options: QuickstartOptions): Promise<QuickstartResult> {
  const dir = resolve(options.dir);
  await prepareProject(options, dir);
  const { card } = await loadProject(dir);
  const store = await openStore({ uri: options.store ?? card.store ?? undefined, projectDir: dir });
  try {
    const datasets: QuickstartResult['datasets'] = [];
    for (const source of card.data.sources) {
      const { version: imported, created } = await importDataset(store, {
        name: source.name,
        sources: [
          {
            path: resolve(dir, source.path),
            format: source.format as never,
            options: source.options,
            split: source.split,
          },
        ],
        task: card.task,
        labelSet: card.labels,
        baseDir: dir,
      });
      options.onStep?.(
        `${created ? 'Imported' : 'Already imported'} ${imported.id} (${imported.exampleCount} examples)`,
      );
      const { version: split } = await splitDataset(store, imported.id, {
        ...card.data.split,
        groupBy: card.data.split.groupBy ?? undefined,
        task: card.task,
      });
      options.onStep?.(
        `Split ${split.id}: ${Object.entries(split.splitCounts)
          .sort(([a], [b]) => compareSplits(a, b))
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
      const examples = await store.loadExamples(split.id);
      const stats = computeStats(examples, {
        task: card.task,
        slices: sliceMembership(examples, card.slices),
      });
      datasets.push({ imported, split, stats });
    }
    return { dir, card, datasets };
  } finally {
    await store.close();
  }
}
