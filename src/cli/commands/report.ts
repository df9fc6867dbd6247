import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { writeFileAtomically } from '../../core/atomic-write.ts';
import { SapphireError } from '../../core/errors.ts';
import { buildReport } from '../../experiments/report.ts';
import { REPORT_FORMATS, type ReportFormat, renderReport } from '../../experiments/report-render.ts';
import { resolveRunId } from '../../experiments/run-query.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, printJson, say } from '../output.ts';

interface ReportFlags {
  format: ReportFormat;
  out?: string;
  baseline?: string;
  metrics?: string;
  split?: string;
  samples?: number;
  seed?: number;
  title?: string;
}

function positiveInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new SapphireError('BAD_INPUT', `${flag} must be a positive whole number, got "${value}"`, {
        hint: `e.g. ${flag} 10000`,
      });
    }
    return n;
  };
}

function nonNegativeInteger(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new SapphireError('BAD_INPUT', `${flag} must be a whole number ≥ 0, got "${value}"`, {
        hint: `e.g. ${flag} 13`,
      });
    }
    return n;
  };
}

/** Registers `sapphire report <run-or-study…>`. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description(
      'result tables from runs or studies: mean ± std over seeds/folds, best per column, significance vs a baseline',
    )
    .argument('<refs...>', 'run or study ids (or unique parts of them); studies stand for their member runs')
    .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('md'))
    .option('--out <file>', 'write to a file (atomically) instead of stdout')
    .option('--baseline <ref>', 'baseline row: a run id or a row label (default: the first row)')
    .option('--metrics <list>', 'comma-separated columns, e.g. test.macro_f1,accuracy,train_seconds')
    .option(
      '--split <split>',
      'evaluated set for significance and per-label F1 (default: test, heldout, dev)',
    )
    .option(
      '--samples <n>',
      'bootstrap resamples and permutations per comparison (default 10000)',
      positiveInteger('--samples'),
    )
    .option('--seed <n>', 'seed of the resampling (default 13)', nonNegativeInteger('--seed'))
    .option('--title <text>', 'report title (default: from the study or the number of runs)')
    .addHelpText(
      'after',
      '\nLaTeX output is a table environment for \\usepackage{booktabs}; HTML is one standalone page with SVG plots.',
    )
    .action(async (refs: string[], opts: ReportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      // With --json and no explicit --format, print the report object itself.
      const format: ReportFormat =
        flags.json && cmd.getOptionValueSource('format') !== 'cli' ? 'json' : opts.format;
      await withProject(flags, [], async (ctx) => {
        const runs = [];
        for (const ref of refs) runs.push(await ctx.store.getRun(await resolveRunId(ctx.store, ref)));
        const metrics = opts.metrics
          ?.split(',')
          .map((m) => m.trim())
          .filter((m) => m !== '');
        const report = await buildReport(ctx.store, runs, {
          task: ctx.card.task,
          labels: ctx.card.labels,
          primary: ctx.card.metrics.primary,
          ...(ctx.card.metrics.secondary.length ? { secondary: ctx.card.metrics.secondary } : {}),
          ...(metrics?.length ? { metrics } : {}),
          ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
          ...(opts.split !== undefined ? { split: opts.split } : {}),
          ...(opts.samples !== undefined ? { samples: opts.samples } : {}),
          ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
          ...(opts.title !== undefined ? { title: opts.title } : {}),
        });
        const text = renderReport(report, format);
        if (!opts.out) {
          process.stdout.write(text);
          return;
        }
        const target = resolve(opts.out);
        await writeFileAtomically(target, text);
        if (flags.json)
          return printJson({ file: target, format, rows: report.rows.length, notes: report.notes });
        say(`Wrote a ${format} report of ${report.rows.length} row(s) to ${target}.`);
      });
    });
}
