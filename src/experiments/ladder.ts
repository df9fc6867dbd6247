import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadConfigFile, validateConfig } from '../core/config.ts';
import { SapphireError } from '../core/errors.ts';
import type { ProblemCard } from '../core/project.ts';
import type { Run } from '../store/store.ts';
import { type TrainConfig, trainConfigSchema } from '../train/train-config.ts';
import { summarizeMetrics } from './cross-validation.ts';
import type { JobResult, TrainJob } from './jobs.ts';
import { createStudyRun, failStudy, finishStudyRun, type StudyOptions, studyMetric } from './study.ts';
import type { Summary } from './summary.ts';
import { runJobs } from './worker-pool.ts';

/** Folder of training configs climbed when `sapphire.yaml` has no `ladder` section. */
export const LADDER_CONFIGS_DIR = 'configs';

/** One rung, resolved to a filled training config. */
export interface LadderRung {
  name: string;
  config: TrainConfig;
  /** Where the config came from: a file, or `sapphire.yaml` for inline rungs. */
  source: string;
}

/** One row of the ladder table: a rung's scores over seeds. */
export interface LadderRow {
  name: string;
  architecture: string;
  source: string;
  /** Mean ± std over seeds of every dev/test/train metric and `train_seconds`. */
  summary: Record<string, Summary>;
  runs: string[];
  failed: { run: string; error: string | null }[];
}

/** What {@link runLadderStudy} measured. */
export interface LadderResult {
  study: Run;
  rows: LadderRow[];
  seeds: number[];
  /** The metric key the table leads with (`test.<primary>`, or `dev.<primary>` without a test split). */
  metric: string;
}

function seedList(seeds: number | number[]): number[] {
  return Array.isArray(seeds) ? seeds : Array.from({ length: seeds }, (_, i) => 13 + i);
}

/**
 * The rungs a project climbs: the `ladder` section of `sapphire.yaml`, else every training config in `configs/`
 * (in name order, as the quickstart writes them). Every rung trains on the same dataset.
 */
export async function resolveLadder(
  card: ProblemCard,
  projectDir: string,
  overrides: string[] = [],
): Promise<{ rungs: LadderRung[]; seeds: number[] }> {
  const ladder = card.ladder;
  if (ladder) {
    const dataset = ladder.dataset ?? card.data.sources[0]?.name;
    const rungs = ladder.rungs.map((rung, i): LadderRung => {
      if (rung.config) {
        const file = resolve(projectDir, rung.config);
        const config = loadConfigFile(file, trainConfigSchema, { overrides });
        return {
          name: rung.name,
          config: dataset ? { ...config, data: { ...config.data, dataset } } : config,
          source: rung.config,
        };
      }
      if (!dataset) {
        throw new SapphireError('CONFIG_INVALID', `ladder.rungs[${i}] (${rung.name}) needs a dataset`, {
          path: 'ladder.dataset',
          hint: 'set ladder.dataset in sapphire.yaml, or add a data source',
        });
      }
      const config = validateConfig(
        trainConfigSchema,
        { model: rung.model, data: { dataset }, name: rung.name },
        {},
      );
      return { name: rung.name, config, source: 'sapphire.yaml' };
    });
    return { rungs, seeds: seedList(ladder.seeds) };
  }
  const dir = join(projectDir, LADDER_CONFIGS_DIR);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) {
    throw new SapphireError('CONFIG_INVALID', 'this project has no ladder', {
      path: 'ladder',
      hint: 'add a `ladder:` section to sapphire.yaml (rungs of {name, model} or {name, config}) or training configs to configs/',
    });
  }
  const rungs = files.map((file) => {
    const config = loadConfigFile(join(dir, file), trainConfigSchema, { overrides });
    return {
      name: config.name ?? file.replace(/\.ya?ml$/, ''),
      config,
      source: join(LADDER_CONFIGS_DIR, file),
    };
  });
  return { rungs, seeds: [rungs[0]?.config.seed ?? 13] };
}

/**
 * Climbs a model ladder (e.g. majority → rules → linear → CRF) on the same dataset, splits and seeds, and records
 * it as one study whose table compares every rung by mean ± std over seeds.
 *
 * @example
 * const { rungs, seeds } = await resolveLadder(card, dir);
 * const ladder = await runLadderStudy(rungs, seeds, options);
 */
export async function runLadderStudy(
  rungs: LadderRung[],
  seeds: number[],
  options: StudyOptions,
): Promise<LadderResult> {
  const datasets = [...new Set(rungs.map((r) => r.config.data.dataset))];
  const versions = await Promise.all(datasets.map((d) => options.store.getDatasetVersion(d)));
  const first = versions[0];
  const hasTest =
    first && rungs[0]?.config.data.test && (first.splitCounts[rungs[0].config.data.test] ?? 0) > 0;
  const metric = studyMetric(hasTest ? 'test' : 'dev', options.context);
  const study = await createStudyRun(
    options,
    'ladder',
    {
      study: {
        kind: 'ladder',
        seeds,
        metric,
        rungs: rungs.map((r) => ({ name: r.name, source: r.source, config: r.config })),
      },
    },
    versions.map((v) => v.id),
    seeds[0] ?? null,
  );
  try {
    const jobs: TrainJob[] = rungs.flatMap((rung, r) =>
      seeds.map((seed) => ({
        id: `rung-${r + 1}/${seed}`,
        config: { ...rung.config, seed, name: rung.name },
        record: { kind: 'rung', parentId: study.id, name: rung.name, command: options.command ?? null },
        annotations: { rung: { index: r, name: rung.name, source: rung.source } },
      })),
    );
    const results = await (options.runner ?? runJobs)(jobs, options);
    const rows: LadderRow[] = rungs.map((rung, r) => {
      const mine = results.slice(r * seeds.length, (r + 1) * seeds.length) as JobResult[];
      const summary = {
        ...summarizeMetrics(mine, 'dev.'),
        ...summarizeMetrics(mine, 'test.'),
        ...summarizeMetrics(mine, 'train.'),
        ...summarizeMetrics(mine, 'train_seconds'),
      };
      return {
        name: rung.name,
        architecture: rung.config.model.architecture,
        source: rung.source,
        summary,
        runs: mine.map((m) => m.runId),
        failed: mine.filter((m) => m.status === 'failed').map((m) => ({ run: m.runId, error: m.error })),
      };
    });
    const metrics: Record<string, number> = {};
    for (const row of rows) {
      const score = row.summary[metric];
      if (score) metrics[`${row.name}.${metric}`] = score.mean;
    }
    const finished = await finishStudyRun(options, study, results, metrics, { metric, seeds, rows });
    return { study: finished, rows, seeds, metric };
  } catch (error) {
    return failStudy(options.store, study, error);
  }
}
