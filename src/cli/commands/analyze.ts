import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { renderAnalysisHtml } from '../../analysis/analysis-html.ts';
import {
  type AnalysisData,
  type AnalysisProgress,
  type AnalysisTarget,
  aggregateAnalyses,
  analyzeModel,
  type DatasetAnalysis,
  loadAnalysisData,
  loadModelFolder,
  loadRunModel,
  loadTrainingExamples,
  type ModelAnalysis,
  recordAnalysis,
} from '../../analysis/analyze.ts';
import { renderAnalysisJson, renderAnalysisText } from '../../analysis/render-analysis.ts';
import { writeFileAtomically } from '../../core/atomic-write.ts';
import { SapphireError } from '../../core/errors.ts';
import { formatCount } from '../../core/table.ts';
import { resolveRunId } from '../../experiments/run-query.ts';
import { createModel } from '../../models/index.ts';
import type { Store } from '../../store/store.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say } from '../output.ts';

const FORMATS = ['text', 'json', 'html'] as const;
type AnalyzeFormat = (typeof FORMATS)[number];

interface AnalyzeFlags {
  data?: string[];
  format: AnalyzeFormat;
  out?: string;
  howlers: number;
  noiseThreshold: number;
  bugSample: number;
  seedCheck: boolean;
  record: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new SapphireError('BAD_INPUT', `${flag} must be a positive whole number, got "${value}"`, {
        hint: `e.g. ${flag} 20`,
      });
    }
    return n;
  };
}

function confidence(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) {
    throw new SapphireError('BAD_INPUT', `--noise-threshold must be a number in (0, 1], got "${value}"`, {
      hint: 'e.g. --noise-threshold 0.9',
    });
  }
  return n;
}

/** A model folder when the argument names a directory, else a run reference. */
async function loadTarget(store: Store, ref: string): Promise<AnalysisTarget> {
  const path = resolve(ref);
  if (existsSync(path) && statSync(path).isDirectory()) return loadModelFolder(path);
  let runId: string;
  try {
    runId = await resolveRunId(store, ref);
  } catch (error) {
    if (!(error instanceof SapphireError) || error.code !== 'NOT_FOUND') throw error;
    throw new SapphireError(
      'NOT_FOUND',
      `"${ref}" is neither a model folder nor a run in ${store.location}`,
      {
        hint: 'pass the folder written by `sapphire train`, or a run id (or its last characters) from `sapphire runs ls`',
      },
    );
  }
  return loadRunModel(store, runId);
}

function progressLine(dataset: string, event: AnalysisProgress): string | null {
  switch (event.step) {
    case 'predict':
      return event.done === 0 ? `${dataset}: predicting ${formatCount(event.total ?? 0)} examples…` : null;
    case 'evaluate':
      return `${dataset}: evaluating, confusion, error taxonomy…`;
    case 'slices':
      return `${dataset}: slices…`;
    case 'bug-checks':
      return `${dataset}: bug checks (batch vs single, repeat, tokenization)…`;
    case 'seed-check':
      return `${dataset}: seed check (training twice with one seed)…`;
    default:
      return null;
  }
}

/** Registers `sapphire analyze <run|model> --data <dataset[:split]>…`. */
export function registerAnalyzeCommand(program: Command): void {
  program
    .command('analyze')
    .description(
      'error analysis of a model: confusion, per-label P/R/F1, NER error taxonomy, slices, howlers, label noise, bug checks',
    )
    .argument(
      '<run|model>',
      'a model folder written by `sapphire train`, or a run id (or a unique part of it)',
    )
    .option(
      '--data <dataset[:split]>',
      'dataset to analyse on, repeatable (several give an aggregate view)',
      collect,
    )
    .addOption(new Option('--format <format>', 'output format').choices([...FORMATS]).default('text'))
    .option('--out <file>', 'write to a file (atomically) instead of stdout')
    .option('--howlers <n>', 'most confident errors listed', positiveInteger('--howlers'), 20)
    .option(
      '--noise-threshold <p>',
      'least confidence of a disagreement with gold to suspect label noise',
      confidence,
      0.9,
    )
    .option('--bug-sample <n>', 'examples the bug checks run on', positiveInteger('--bug-sample'), 200)
    .option('--no-seed-check', 'skip the check that two trainings with one seed give the same model')
    .option('--no-record', 'do not record the analysis as a run')
    .addHelpText(
      'after',
      '\nThe analysis is recorded as a run of kind `analyze` (metrics such as taxonomy.missed, slice.<name>.delta\n' +
        'and bugs.failed, and the whole report as analysis/report.json) for `sapphire runs` and the coach.',
    )
    .action(async (targetRef: string, opts: AnalyzeFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const format: AnalyzeFormat =
        flags.json && cmd.getOptionValueSource('format') !== 'cli' ? 'json' : opts.format;
      const dataArgs = opts.data ?? [];
      if (dataArgs.length === 0) {
        throw new SapphireError('BAD_INPUT', 'no dataset to analyse on', {
          hint: 'pass --data <dataset[:split]>, e.g. --data wnut17:dev (repeat it for several datasets)',
        });
      }
      const progress = (line: string | null) => {
        if (line !== null && !flags.json) note(line);
      };
      await withProject(flags, [], async (ctx) => {
        const target = await loadTarget(ctx.store, targetRef);
        if (target.model.task !== ctx.card.task) {
          throw new SapphireError(
            'BAD_INPUT',
            `model ${target.model.name} solves ${target.model.task}, but the project's task is ${ctx.card.task}`,
            { hint: 'analyse a model trained for this project' },
          );
        }
        const datasets: AnalysisData[] = [];
        for (const arg of dataArgs) {
          const data = await loadAnalysisData(ctx.store, arg);
          if (datasets.some((d) => d.name === data.name)) {
            throw new SapphireError('BAD_INPUT', `--data ${arg} is given twice`, {
              hint: 'name each dataset once',
            });
          }
          datasets.push(data);
        }
        const train = target.training ? await loadTrainingExamples(ctx.store, target.training) : null;
        if (!train)
          progress(
            'note: the training data is not in this store; rarity comes from the analysed data, ' +
              'and the unseen-entity slices and the seed check are skipped',
          );
        const analysed: DatasetAnalysis[] = [];
        for (const [i, data] of datasets.entries()) {
          const seedCheck =
            i === 0 && opts.seedCheck && train
              ? {
                  create: () => createModel(target.model.name, target.model.config()),
                  train,
                  seed: target.training?.seed ?? 13,
                }
              : undefined;
          const report = await analyzeModel({
            model: target.model,
            task: ctx.card.task,
            labels: ctx.card.labels,
            primary: ctx.card.metrics.primary,
            examples: data.examples,
            ...(train ? { train } : {}),
            slices: ctx.card.slices,
            howlerLimit: opts.howlers,
            noiseThreshold: opts.noiseThreshold,
            bugSample: opts.bugSample,
            ...(seedCheck ? { seedCheck } : {}),
            onProgress: (event) => progress(progressLine(data.name, event)),
          });
          analysed.push({ name: data.name, version: data.version.id, split: data.split, report });
        }
        const analysis: ModelAnalysis = {
          model: { name: target.model.name, dir: target.dir, run: target.run },
          task: ctx.card.task,
          primary: ctx.card.metrics.primary,
          datasets: analysed,
          aggregate:
            analysed.length > 1
              ? aggregateAnalyses(analysed.map((d) => ({ dataset: d.name, report: d.report })))
              : null,
        };
        const run = opts.record
          ? await recordAnalysis(ctx.store, {
              analysis,
              modelConfig: target.model.config(),
              projectDir: ctx.dir,
              command: ['sapphire', ...process.argv.slice(2)].join(' '),
            })
          : null;
        const text =
          format === 'json'
            ? renderAnalysisJson(analysis, { run: run?.id ?? null })
            : format === 'html'
              ? renderAnalysisHtml(analysis, { run: run?.id ?? null })
              : `${renderAnalysisText(analysis)}${run ? `\nRecorded as run ${run.id}.\n` : ''}`;
        if (!opts.out) {
          process.stdout.write(text);
          return;
        }
        const file = resolve(opts.out);
        await writeFileAtomically(file, text);
        if (flags.json) return printJson({ file, format, run: run?.id ?? null });
        say(`Wrote the ${format} analysis to ${file}${run ? ` (recorded as run ${run.id})` : ''}.`);
      });
    });
}
