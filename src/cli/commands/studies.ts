import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../../core/config.ts';
import { SapphireError } from '../../core/errors.ts';
import { DEFAULT_METRICS } from '../../core/project.ts';
import { renderTable } from '../../core/table.ts';
import {
  type FoldSpec,
  outerFoldJson,
  runCrossValidation,
  runNestedCrossValidation,
} from '../../experiments/cross-validation.ts';
import type { JobContext } from '../../experiments/jobs.ts';
import { resolveLadder, runLadderStudy } from '../../experiments/ladder.ts';
import { runLearningCurve } from '../../experiments/learning-curve.ts';
import {
  gridSize,
  parseGridSpec,
  parseRandomSpec,
  type SearchDimension,
} from '../../experiments/search-space.ts';
import type { StudyOptions } from '../../experiments/study.ts';
import { formatMeanStd, type Summary } from '../../experiments/summary.ts';
import { runSweep, type SearchSpec } from '../../experiments/sweep.ts';
import { workerCount } from '../../experiments/worker-pool.ts';
import { DEFAULT_ATTEMPTS, redactUrl, type StudyJobData, type StudySpec } from '../../jobs/queue-config.ts';
import { resolveStoreUri } from '../../store/open-store.ts';
import { type TrainConfig, trainConfigSchema } from '../../train/train-config.ts';
import { type ProjectContext, withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say, splitOverrides } from '../output.ts';
import { type QueueFlags, queueFrom, withQueueFlags } from '../queue-flags.ts';
import { createStudyProgress } from '../render/study-progress.ts';

/** Flags every study command takes. */
interface StudyFlags extends QueueFlags {
  workers?: string;
  name?: string;
  tag?: string[];
  attempts?: string;
  detach?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n)) {
    throw new SapphireError('BAD_INPUT', `${name} ${value} is not a whole number`, {
      hint: `e.g. ${name} 3`,
    });
  }
  return n;
}

/** Search dimensions given after the config: `key=uniform(…)`, `key=int(…)`, `key=[a,b]`. */
const DIMENSION_VALUE =
  /^[A-Za-z_][\w-]*(\.[\w-]+)*=\s*(\[.*\]|(choice|uniform|loguniform|int)\s*\(.*\))\s*$/;

function studyOptions(ctx: ProjectContext, flags: GlobalFlags & StudyFlags, kind: string): StudyOptions {
  const storeUri = resolveStoreUri({
    uri: flags.store ?? process.env.SAPPHIRE_STORE ?? ctx.card.store ?? undefined,
    projectDir: ctx.dir,
  });
  const context: JobContext = { projectDir: ctx.dir, storeUri, card: ctx.card };
  const queue = queueFrom(flags);
  if (flags.detach && !queue)
    throw new SapphireError(
      'BAD_INPUT',
      '--detach needs --queue: only queue workers run a study without you',
      {
        hint: 'e.g. --queue redis://127.0.0.1:6379 --detach, with `sapphire worker` processes running',
      },
    );
  if (queue && flags.workers !== undefined)
    throw new SapphireError(
      'BAD_INPUT',
      '--workers is for local processes; with --queue the workers are `sapphire worker`s',
      {
        hint: 'drop --workers, or drop --queue to run locally',
      },
    );
  return {
    store: ctx.store,
    context,
    workers: flags.workers === undefined ? undefined : intOption('--workers', flags.workers, 0),
    name: flags.name ?? kind,
    tags: flags.tag ?? [],
    command: ['sapphire', ...process.argv.slice(2)].join(' '),
    runner: queue
      ? async (jobs, runOptions) => {
          // BullMQ loads only when a study really uses the queue.
          const { queueRunner } = await import('../../jobs/queue.ts');
          return queueRunner({ ...queue, card: ctx.card, attempts: attemptsOf(flags) })(jobs, runOptions);
        }
      : undefined,
  };
}

function attemptsOf(flags: StudyFlags): number {
  return flags.attempts === undefined
    ? DEFAULT_ATTEMPTS
    : intOption('--attempts', flags.attempts, DEFAULT_ATTEMPTS);
}

/**
 * With `--detach`: sends the whole study to the queue (a worker coordinates it), prints how to follow it and
 * returns true; otherwise returns false and the study runs here.
 */
async function detachStudy(
  ctx: ProjectContext,
  flags: GlobalFlags & StudyFlags,
  options: StudyOptions,
  study: StudySpec,
): Promise<boolean> {
  const queue = queueFrom(flags);
  if (!flags.detach || !queue) return false;
  const attempts = attemptsOf(flags);
  const data: StudyJobData = {
    card: ctx.card,
    study,
    name: options.name ?? study.kind,
    tags: options.tags ?? [],
    command: options.command ?? null,
    attempts,
  };
  const { enqueue, waitForStudyId } = await import('../../jobs/queue.ts');
  const job = await enqueue(queue, 'studies', 'study', data, attempts);
  const jobId = job.id as string;
  if (!flags.json) note(`Queued study job ${jobId}; waiting for a worker to start it…`);
  const studyId = await waitForStudyId(queue, jobId, 15_000);
  if (flags.json) {
    printJson({ job: jobId, study: studyId, queue: redactUrl(queue.url) });
    return true;
  }
  say(
    studyId
      ? `Study ${studyId} runs on the queue's workers. Follow it: sapphire study watch ${studyId}`
      : `No worker has started it yet. Follow it: sapphire study watch --job ${jobId} --queue ${redactUrl(queue.url)}`,
  );
  return true;
}

function loadStudyConfig(file: string, overrides: string[]): TrainConfig {
  return loadConfigFile(resolve(file), trainConfigSchema, { overrides });
}

function withStudyFlags(command: Command): Command {
  return withQueueFlags(
    command
      .option('--workers <n>', 'local worker processes (default: one per core; 0 runs in this process)')
      .option('--name <name>', 'name of the study run')
      .option('--tag <tag>', 'tag the study run (repeatable)', collect),
  )
    .option(
      '--attempts <n>',
      `with --queue: tries per job before it is marked failed (default ${DEFAULT_ATTEMPTS})`,
    )
    .option('--detach', 'with --queue: hand the whole study to the workers and return at once');
}

async function withProgress<T>(
  flags: GlobalFlags,
  title: string,
  total: number,
  metric: string | string[],
  options: StudyOptions,
  work: (options: StudyOptions) => Promise<T>,
): Promise<T> {
  const progress = flags.json ? null : createStudyProgress(title, total, metric);
  try {
    return await work({ ...options, onEvent: (e) => progress?.onEvent(e) });
  } finally {
    progress?.stop();
  }
}

function cell(summary: Summary | null | undefined): string {
  return summary ? formatMeanStd(summary, 4) : '–';
}

function score(value: number | null | undefined): string {
  return typeof value === 'number' ? value.toFixed(4) : '–';
}

function reportHint(studyId: string): void {
  say(`\nStudy ${studyId}: \`sapphire runs show ${studyId}\`, \`sapphire report ${studyId} --format md\``);
}

/** Registers `sapphire sweep`, `cv`, `curve` and `ladder`. */
export function registerStudyCommands(program: Command): void {
  withStudyFlags(
    program
      .command('sweep')
      .description(
        'hyper-parameter sweep: train every grid point or N random draws in parallel, pick the best on dev',
      )
      .argument('<config>', 'training config (YAML)')
      .argument(
        '[args...]',
        'key.path=value overrides; with --random, also key=uniform(a,b)|loguniform(a,b)|int(a,b)|choice(a,b)|[a,b]',
      )
      .option('--grid <specs...>', 'grid dimensions, e.g. model.C=[0.1,1,10] model.loss=[hinge,logistic]')
      .option('--random <n>', 'number of random trials drawn from the dimensions given after the config')
      .option('--seed <n>', 'seed of the random draws (default: the config seed)'),
  ).action(
    async (
      configFile: string,
      args: string[],
      opts: StudyFlags & { grid?: string[]; random?: string; seed?: string },
      cmd: Command,
    ) => {
      const flags = cmd.optsWithGlobals<GlobalFlags & StudyFlags>();
      const dimensionArgs = args.filter((a) => DIMENSION_VALUE.test(a));
      const overrides = overridesOnly(args.filter((a) => !DIMENSION_VALUE.test(a)));
      const config = loadStudyConfig(configFile, overrides);
      let search: SearchSpec;
      if (opts.random !== undefined) {
        const trials = intOption('--random', opts.random, 0);
        if (trials < 1)
          throw new SapphireError('BAD_INPUT', '--random needs at least 1 trial', {
            hint: 'e.g. --random 8 model.C=loguniform(0.01,10)',
          });
        const dimensions = [...(opts.grid ?? []), ...dimensionArgs].map(parseRandomSpec);
        if (dimensions.length === 0)
          throw new SapphireError('BAD_INPUT', '--random needs dimensions to draw from', {
            hint: 'e.g. sapphire sweep crf.yaml --random 8 model.c2=loguniform(0.001,1)',
          });
        search = { mode: 'random', dimensions, trials, seed: intOption('--seed', opts.seed, config.seed) };
      } else {
        const dimensions: SearchDimension[] = [...(opts.grid ?? []), ...dimensionArgs].map(parseGridSpec);
        if (dimensions.length === 0)
          throw new SapphireError('BAD_INPUT', 'a sweep needs --grid dimensions or --random N', {
            hint: 'e.g. sapphire sweep crf.yaml --grid model.c2=[0.01,0.1,1]',
          });
        search = { mode: 'grid', dimensions };
      }
      await withProject(flags, [], async (ctx) => {
        const options = studyOptions(ctx, flags, 'sweep');
        if (await detachStudy(ctx, flags, options, { kind: 'sweep', config, search })) return;
        const total = search.mode === 'grid' ? gridSize(search.dimensions) : search.trials;
        const metric = `dev.${ctx.card.metrics.primary}`;
        const result = await withProgress(flags, 'sweep', total, metric, options, (o) =>
          runSweep(config, search, o),
        );
        if (flags.json) {
          return printJson({
            study: result.study.id,
            status: result.study.status,
            metric: result.metric,
            best: result.best
              ? {
                  run: result.best.result.runId,
                  values: result.best.point.values,
                  score: result.best.score,
                  modelDir: result.bestModelDir,
                }
              : null,
            trials: result.trials.map((t) => ({
              run: t.result.runId,
              values: t.point.values,
              status: t.result.status,
              score: t.score,
              metrics: t.result.metrics,
              error: t.result.error,
            })),
          });
        }
        const ranked = [...result.trials].sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity));
        const keys = search.dimensions.map((d) => d.key);
        say(
          renderTable(
            ranked.map((t) => [
              t === result.best ? '★' : '',
              ...keys.map((k) => String(t.point.values[k])),
              t.result.status === 'failed'
                ? `failed: ${(t.result.error ?? '').slice(0, 60)}`
                : score(t.score),
              score(t.result.metrics[`test.${ctx.card.metrics.primary}`]),
              t.result.runId,
            ]),
            { header: ['', ...keys, metric, `test.${ctx.card.metrics.primary}`, 'run'] },
          ),
        );
        if (result.best)
          say(
            `\nBest: ${result.best.point.overrides.join(' ')} (${metric} ${score(result.best.score)}); model written to ${result.bestModelDir}`,
          );
        reportHint(result.study.id);
      });
    },
  );

  withStudyFlags(
    program
      .command('cv')
      .description(
        'k-fold cross-validation (stratified, repeated, or nested with an inner hyper-parameter search)',
      )
      .argument('<config>', 'training config (YAML)')
      .argument('[overrides...]', 'key.path=value overrides of the config')
      .option('--folds <k>', 'number of folds', '5')
      .option('--repeats <r>', 'repeat the k folds with r different shuffles', '1')
      .option('--stratify', 'keep label proportions in every fold')
      .option('--seed <n>', 'seed of the fold assignment (default: the config seed)')
      .option(
        '--pool <splits>',
        'splits pooled before folding (default: the config train split), e.g. train,dev',
      )
      .option('--nested <inner-k>', 'nested cross-validation with this many inner folds (needs --search)')
      .option(
        '--search <specs...>',
        'with --nested: grid searched in the inner loop, e.g. model.C=[0.1,1,10]',
      ),
  ).action(
    async (
      configFile: string,
      args: string[],
      opts: StudyFlags & {
        folds: string;
        repeats: string;
        stratify?: boolean;
        seed?: string;
        pool?: string;
        nested?: string;
        search?: string[];
      },
      cmd: Command,
    ) => {
      const flags = cmd.optsWithGlobals<GlobalFlags & StudyFlags>();
      const overrides = overridesOnly(args);
      const config = loadStudyConfig(configFile, overrides);
      const spec: FoldSpec = {
        k: intOption('--folds', opts.folds, 5),
        repeats: intOption('--repeats', opts.repeats, 1),
        stratify: opts.stratify === true,
        seed: intOption('--seed', opts.seed, config.seed),
        pool: opts.pool
          ? opts.pool
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : [],
      };
      if (opts.nested !== undefined && !opts.search?.length)
        throw new SapphireError('BAD_INPUT', '--nested needs --search with the grid to choose from', {
          hint: 'e.g. --nested 3 --search model.C=[0.1,1,10]',
        });
      if (opts.search?.length && opts.nested === undefined)
        throw new SapphireError('BAD_INPUT', '--search is only used with --nested', {
          hint: 'for a plain search use `sapphire sweep`',
        });
      await withProject(flags, [], async (ctx) => {
        const options = studyOptions(ctx, flags, opts.nested ? 'nested-cv' : 'cv');
        const metric = `heldout.${ctx.card.metrics.primary}`;
        if (opts.nested !== undefined) {
          const inner = intOption('--nested', opts.nested, 3);
          const dimensions = (opts.search ?? []).map(parseGridSpec);
          if (
            await detachStudy(ctx, flags, options, {
              kind: 'nested-cv',
              config,
              folds: spec,
              inner,
              dimensions,
            })
          )
            return;
          const candidates = gridSize(dimensions);
          const total = spec.k * spec.repeats * (candidates * inner + 1);
          const result = await withProgress(flags, 'nested cv', total, metric, options, (o) =>
            runNestedCrossValidation(config, spec, inner, dimensions, o),
          );
          if (flags.json) {
            return printJson({
              study: result.study.id,
              status: result.study.status,
              metric: result.metric,
              summary: result.summary,
              innerBest: result.innerBest,
              outer: result.outer.map((f) => outerFoldJson(f, metric)),
            });
          }
          say(
            renderTable(
              result.outer.map((f) => [
                `${f.index + 1}${spec.repeats > 1 ? `.${f.repeat + 1}` : ''}`,
                f.chosen ? f.chosen.overrides.join(' ') : 'none',
                score(bestOf(f.candidates)),
                score(f.result?.metrics[metric]),
                f.result?.runId ?? '–',
              ]),
              { header: ['outer fold', 'chosen', 'inner best', metric, 'run'] },
            ),
          );
          say(`\nNested estimate (outer folds): ${metric} ${cell(result.summary[metric])}`);
          if (result.innerBest)
            say(
              `Optimistic inner-loop estimate: ${cell(result.innerBest)} (what a plain search would report)`,
            );
          return reportHint(result.study.id);
        }
        if (await detachStudy(ctx, flags, options, { kind: 'cv', config, folds: spec })) return;
        const result = await withProgress(flags, 'cv', spec.k * spec.repeats, metric, options, (o) =>
          runCrossValidation(config, spec, o),
        );
        if (flags.json) {
          return printJson({
            study: result.study.id,
            status: result.study.status,
            metric: result.metric,
            summary: result.summary,
            folds: result.folds.map((f) => ({
              repeat: f.repeat,
              index: f.index,
              run: f.result.runId,
              status: f.result.status,
              metrics: f.result.metrics,
              error: f.result.error,
            })),
          });
        }
        const keys = projectMetrics(ctx, 'heldout').filter((k) => result.summary[k]);
        say(
          renderTable(
            [
              ...result.folds.map((f) => [
                `${f.index + 1}${spec.repeats > 1 ? `.${f.repeat + 1}` : ''}`,
                ...keys.map((k) => score(f.result.metrics[k])),
                f.result.status === 'failed'
                  ? `failed: ${(f.result.error ?? '').slice(0, 50)}`
                  : f.result.runId,
              ]),
              ['mean ± std', ...keys.map((k) => cell(result.summary[k])), ''],
            ],
            { header: ['fold', ...keys, 'run'] },
          ),
        );
        reportHint(result.study.id);
      });
    },
  );

  withStudyFlags(
    program
      .command('curve')
      .description(
        'learning curve: score vs training size over seeds, with the fitted trend and the gain of doubling the data',
      )
      .argument('<config>', 'training config (YAML)')
      .argument('[overrides...]', 'key.path=value overrides of the config')
      .option('--fractions <list>', 'fractions of the training split', '0.1,0.25,0.5,1')
      .option('--seeds <n>', 'seeds per fraction', '3')
      .option('--stratify', 'keep label proportions in every subsample')
      .option(
        '--vary <spec>',
        'also vary model size: one curve per value, e.g. model.features.hashBits=[16,20]',
      ),
  ).action(
    async (
      configFile: string,
      args: string[],
      opts: StudyFlags & { fractions: string; seeds: string; stratify?: boolean; vary?: string },
      cmd: Command,
    ) => {
      const flags = cmd.optsWithGlobals<GlobalFlags & StudyFlags>();
      const overrides = overridesOnly(args);
      const config = loadStudyConfig(configFile, overrides);
      const fractions = opts.fractions.split(',').map((f) => Number(f.trim()));
      const vary = opts.vary ? parseGridSpec(opts.vary) : null;
      const seeds = intOption('--seeds', opts.seeds, 3);
      await withProject(flags, [], async (ctx) => {
        const options = studyOptions(ctx, flags, 'curve');
        const curveSpec = { fractions, seeds, stratify: opts.stratify === true, vary };
        if (await detachStudy(ctx, flags, options, { kind: 'curve', config, curve: curveSpec })) return;
        const variants = vary && vary.distribution.kind === 'choice' ? vary.distribution.values.length : 1;
        const total = fractions.length * seeds * variants;
        const result = await withProgress(
          flags,
          'curve',
          total,
          `dev.${ctx.card.metrics.primary}`,
          options,
          (o) => runLearningCurve(config, curveSpec, o),
        );
        if (flags.json)
          return printJson({
            study: result.study.id,
            status: result.study.status,
            metric: result.metric,
            curves: result.curves,
          });
        for (const curve of result.curves) {
          const label = Object.entries(curve.values)
            .map(([k, v]) => `${k}=${String(v)}`)
            .join(' ');
          if (label) say(`\n${label}`);
          say(
            renderTable(
              curve.points.map((p) => [`${Math.round(p.fraction * 1000) / 10}%`, p.size, cell(p.score)]),
              { header: ['fraction', 'train examples', result.metric] },
            ),
          );
          if (curve.doubling) {
            const d = curve.doubling;
            const last = curve.points.at(-1)?.score?.mean;
            say(
              `Trend: ${result.metric} ≈ ${d.fit.c.toFixed(3)} − ${d.fit.a.toPrecision(3)}·n^−${d.fit.b.toFixed(3)} (R² ${d.fit.r2.toFixed(2)}). ` +
                `Doubling the data to ${d.size} examples: ≈ ${d.predicted.toFixed(4)} (${d.gain >= 0 ? '+' : ''}${d.gain.toFixed(4)} over the fitted ${last === undefined ? 'score' : 'largest size'}).`,
            );
          }
        }
        reportHint(result.study.id);
      });
    },
  );

  withStudyFlags(
    program
      .command('ladder')
      .description(
        'climb the model ladder of sapphire.yaml (or configs/) on the same splits and seeds; one table',
      )
      .argument('[overrides...]', 'key.path=value overrides applied to every rung config')
      .option('--seeds <n>', 'train every rung with n seeds (default: ladder.seeds in sapphire.yaml)'),
  ).action(async (args: string[], opts: StudyFlags & { seeds?: string }, cmd: Command) => {
    const flags = cmd.optsWithGlobals<GlobalFlags & StudyFlags>();
    const overrides = overridesOnly(args);
    await withProject(flags, [], async (ctx) => {
      const ladder = await resolveLadder(ctx.card, ctx.dir, overrides);
      const count = opts.seeds === undefined ? null : intOption('--seeds', opts.seeds, 1);
      if (count !== null && count < 1)
        throw new SapphireError('BAD_INPUT', '--seeds must be at least 1', { hint: 'e.g. --seeds 3' });
      const seeds =
        count === null ? ladder.seeds : Array.from({ length: count }, (_, i) => (ladder.seeds[0] ?? 13) + i);
      if (flags.detach)
        throw new SapphireError('BAD_INPUT', '--detach is not available for the ladder', {
          hint: 'run it with --queue (the rungs train on the workers while this command follows them)',
        });
      const options = studyOptions(ctx, flags, 'ladder');
      const total = ladder.rungs.length * seeds.length;
      const result = await withProgress(
        flags,
        'ladder',
        total,
        `test.${ctx.card.metrics.primary}`,
        options,
        (o) => runLadderStudy(ladder.rungs, seeds, o),
      );
      if (flags.json)
        return printJson({
          study: result.study.id,
          status: result.study.status,
          metric: result.metric,
          seeds: result.seeds,
          rows: result.rows,
        });
      const primary = ctx.card.metrics.primary;
      say(
        renderTable(
          result.rows.map((r) => [
            r.name,
            r.architecture,
            cell(r.summary[`dev.${primary}`]),
            cell(r.summary[`test.${primary}`]),
            cell(r.summary[`train.${primary}`]),
            r.summary.train_seconds ? `${r.summary.train_seconds.mean.toFixed(1)} s` : '–',
            r.failed.length ? `${r.failed.length} failed` : '',
          ]),
          {
            header: [
              'rung',
              'architecture',
              `dev ${primary}`,
              `test ${primary}`,
              `train ${primary}`,
              'train time',
              '',
            ],
          },
        ),
      );
      say(`\n${seeds.length} seed(s): ${seeds.join(', ')}; workers: ${workerCount(total, options.workers)}`);
      reportHint(result.study.id);
    });
  });
}

/** `<set>.<metric>` for the project's primary and secondary metrics (the task's defaults when none are listed). */
function projectMetrics(ctx: ProjectContext, set: string): string[] {
  const secondary = ctx.card.metrics.secondary.length
    ? ctx.card.metrics.secondary
    : DEFAULT_METRICS[ctx.card.task].secondary;
  return [...new Set([ctx.card.metrics.primary, ...secondary])].map((m) => `${set}.${m}`);
}

/** Trailing arguments that must all be `key.path=value` overrides. */
function overridesOnly(args: string[]): string[] {
  const { values, overrides } = splitOverrides(args);
  if (values.length) {
    throw new SapphireError('BAD_INPUT', `unexpected argument "${values[0]}"`, {
      hint: 'overrides look like key.path=value',
    });
  }
  return overrides;
}

function bestOf(candidates: { score: number | null }[]): number | null {
  const scores = candidates.map((c) => c.score).filter((s): s is number => s !== null);
  return scores.length ? Math.max(...scores) : null;
}
