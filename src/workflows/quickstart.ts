import { cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, toYaml } from '../core/config.ts';
import { SapphireError } from '../core/errors.ts';
import { loadProject, PROJECT_FILE, type ProblemCard, writeProblemCard } from '../core/project.ts';
import { importDataset, splitDataset } from '../data/dataset-ops.ts';
import { readDataset } from '../data/formats/index.ts';
import { sliceMembership } from '../data/slices.ts';
import { compareSplits, computeStats, type DatasetStats } from '../data/stats.ts';
import type { Example, TaskKind } from '../data/types.ts';
import { openStore } from '../store/open-store.ts';
import type { DatasetVersion, Store } from '../store/store.ts';
import '../models/index.ts';
import { labelsIn, trainModel } from '../train/train.ts';
import { trainConfigSchema } from '../train/train-config.ts';

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
  /** Train the ladder of models in the project's `configs/` folder (default true). */
  train?: boolean;
  /** Called with a short line at each step. */
  onStep?: (message: string) => void;
}

/** What the quickstart made: the project, and for each dataset its split version and statistics. */
export interface QuickstartResult {
  dir: string;
  card: ProblemCard;
  datasets: { imported: DatasetVersion; split: DatasetVersion; stats: DatasetStats }[];
  /** The models trained by the ladder, simplest first (empty with `train: false`). */
  ladder: LadderRow[];
  /** A test text of the first dataset, to show `sapphire predict` with. */
  sampleText: string | null;
  /** Where `sapphire ui` serves the web app of the project (127.0.0.1 and the card's `serve.port`). */
  uiUrl: string;
}

/** The URL `sapphire ui` opens the web app at for a project with this card (127.0.0.1, the card's port). */
export function localUiUrl(card: ProblemCard): string {
  return `http://127.0.0.1:${card.serve.port}/ui/`;
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
    labels: [...labelsIn(read.examples, task)].sort(),
    metrics: { ...base.metrics, primary: task === 'ner' ? 'span_f1_micro' : 'macro_f1', secondary: [] },
    acceptance: {},
    slices: [],
    data: {
      ...base.data,
      sources: [{ name, path, format: String(read.detected.format ?? 'auto'), options: {}, split: null }],
    },
  } as ProblemCard;
  await writeProblemCard(dir, card);
  await writeLadderConfigs(dir, name, task);
  options.onStep?.(`Created a ${task} project for ${path} in ${dir}`);
}

/** The rungs the quickstart climbs for each task: the simplest model first. */
export const DEFAULT_LADDER: Record<TaskKind, { name: string; model: Record<string, unknown> }[]> = {
  ner: [
    { name: 'baseline', model: { architecture: 'token-majority.v1' } },
    { name: 'rules', model: { architecture: 'rules-ner.v1', learnPhrases: true } },
    { name: 'perceptron', model: { architecture: 'perceptron.v1' } },
    { name: 'crf', model: { architecture: 'crf.v1' } },
  ],
  classify: [
    { name: 'baseline', model: { architecture: 'majority.v1' } },
    { name: 'rules', model: { architecture: 'rules-classify.v1', learnKeywords: true } },
    { name: 'linear', model: { architecture: 'linear.v1' } },
  ],
  multilabel: [
    { name: 'baseline', model: { architecture: 'majority.v1', task: 'multilabel' } },
    { name: 'linear', model: { architecture: 'linear.v1', task: 'multilabel' } },
  ],
};

/** Writes `configs/<n>-<rung>.yaml` training configs for the default ladder of a task. */
async function writeLadderConfigs(dir: string, dataset: string, task: TaskKind): Promise<void> {
  await mkdir(join(dir, CONFIGS_DIR), { recursive: true });
  for (const [i, rung] of DEFAULT_LADDER[task].entries()) {
    const config = {
      name: rung.name,
      model: rung.model,
      data: { dataset },
      seed: 13,
      output: `models/${i + 1}-${rung.name}`,
    };
    await writeFile(join(dir, CONFIGS_DIR, `${i + 1}-${rung.name}.yaml`), toYaml(config));
  }
}

/** Folder of a project holding the training configs the quickstart's ladder runs, in name order. */
export const CONFIGS_DIR = 'configs';

/** One rung of the ladder as trained by the quickstart. */
export interface LadderRow {
  config: string;
  name: string;
  architecture: string;
  dev: number | null;
  test: number | null;
  seconds: number;
  modelDir: string;
}

/** Trains every config in the project's `configs/` folder on the same splits and seed, simplest first. */
export async function runLadder(
  store: Store,
  dir: string,
  card: ProblemCard,
  onStep?: (message: string) => void,
): Promise<LadderRow[]> {
  const files = (await readdir(join(dir, CONFIGS_DIR)).catch(() => [] as string[]))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const rows: LadderRow[] = [];
  const metric = card.metrics.primary;
  for (const file of files) {
    const config = loadConfigFile(join(dir, CONFIGS_DIR, file), trainConfigSchema);
    const result = await trainModel({ store, card, config, projectDir: dir });
    const row: LadderRow = {
      config: join(CONFIGS_DIR, file),
      name: config.name ?? config.model.architecture,
      architecture: config.model.architecture,
      dev: result.dev?.metrics[metric] ?? null,
      test: result.test?.metrics[metric] ?? null,
      seconds: result.seconds,
      modelDir: result.modelDir ?? '',
    };
    rows.push(row);
    const score = row.test ?? row.dev;
    onStep?.(
      `Trained ${row.name} (${row.architecture}) in ${row.seconds.toFixed(1)} s: ${metric} ${score === null ? 'n/a' : score.toFixed(3)}`,
    );
  }
  return rows;
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
    const ladder = options.train === false ? [] : await runLadder(store, dir, card, options.onStep);
    const first = datasets[0] ? await store.loadExamples(datasets[0].split.id) : [];
    const sampleText =
      first.find((e) => e.split === 'test' && e.text.length < 80)?.text ?? first[0]?.text ?? null;
    return { dir, card, datasets, ladder, sampleText, uiUrl: localUiUrl(card) };
  } finally {
    await store.close();
  }
}
