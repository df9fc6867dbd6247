import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { SapphireError } from '../../core/errors.ts';
import {
  exportDataset,
  type ImportSource,
  importDataset,
  lineage,
  splitDataset,
} from '../../data/dataset-ops.ts';
import { writeHtmlFiles } from '../../data/formats/html.ts';
import type { FormatName } from '../../data/formats/index.ts';
import { sliceMembership } from '../../data/slices.ts';
import { computeStats } from '../../data/stats.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, note, printJson, say, splitOverrides } from '../output.ts';
import {
  describeSplits,
  renderExamples,
  renderImport,
  renderLineage,
  renderVersions,
} from '../render/datasets.ts';
import { renderStats } from '../render/stats.ts';

const FORMATS = ['auto', 'conll', 'jsonl', 'csv', 'lines', 'html'];

interface ImportFlags {
  name?: string;
  format: string;
  split?: string;
  splits?: string;
  skipInvalid?: boolean;
  scheme?: string;
  option?: string[];
}

/** Parses repeated `--option key=value` reader options (values as JSON when they parse, else strings). */
function parseReaderOptions(pairs: string[] = []): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new SapphireError('BAD_INPUT', `reader option "${pair}" is not key=value`, {
        hint: 'e.g. --option labelFirst=true --option delimiter=";"',
      });
    }
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // keep the string
    }
    options[pair.slice(0, eq)] = value;
  }
  return options;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Registers `sapphire data …`: import, ls, show, export, split, stats. */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('import, version, split, inspect and export datasets');

  data
    .command('import')
    .description('import files as an immutable, content-addressed dataset version (all or nothing)')
    .argument(
      '[paths...]',
      'files or folders to import (default: data.sources in sapphire.yaml); key=value overrides',
    )
    .option('--name <name>', 'dataset name (required with paths)')
    .addOption(new Option('--format <format>', 'input format').choices(FORMATS).default('auto'))
    .option('--split <split>', 'assign every imported example to this split (e.g. train)')
    .option('--splits <list>', 'one split per path, comma-separated (e.g. train,dev,test)')
    .addOption(
      new Option('--scheme <scheme>', 'tag scheme of CoNLL/line files').choices([
        'auto',
        'iob1',
        'iob2',
        'bilou',
        'bioes',
      ]),
    )
    .option(
      '--option <key=value>',
      'reader option, repeatable (e.g. labelFirst=true, delimiter=";")',
      collect,
    )
    .option('--skip-invalid', 'store the valid examples and list the skipped ones instead of failing')
    .action(async (args: string[], opts: ImportFlags, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const { values: paths, overrides } = splitOverrides(args);
      await withProject(flags, overrides, async (ctx) => {
        const readerOptions = parseReaderOptions(opts.option);
        if (opts.scheme && opts.scheme !== 'auto') readerOptions.scheme = opts.scheme.toUpperCase();
        const splits = opts.splits?.split(',').map((s) => s.trim());
        if (splits && splits.length !== paths.length) {
          throw new SapphireError(
            'BAD_INPUT',
            `--splits names ${splits.length} splits for ${paths.length} paths`,
            {
              hint: 'give one split per path, in the same order',
            },
          );
        }
        let batches: { name: string; sources: ImportSource[] }[];
        if (paths.length > 0) {
          if (!opts.name) {
            throw new SapphireError('BAD_INPUT', 'missing --name for the imported dataset', {
              hint: 'e.g. --name wnut17',
            });
          }
          const sources = paths.map((p, i) => ({
            path: resolve(p),
            format: opts.format as FormatName | 'auto',
            options: readerOptions,
            split: splits?.[i] ?? opts.split ?? null,
          }));
          batches = [{ name: opts.name, sources }];
        } else {
          const configured = ctx.card.data.sources;
          if (configured.length === 0) {
            throw new SapphireError('BAD_INPUT', 'no paths given and no data.sources in sapphire.yaml', {
              hint: 'run `sapphire data import <file> --name <dataset>` or list sources in sapphire.yaml',
            });
          }
          batches = configured
            .filter((s) => !opts.name || s.name === opts.name)
            .map((s) => ({
              name: s.name,
              sources: [
                {
                  path: resolve(ctx.dir, s.path),
                  format: s.format as FormatName | 'auto',
                  options: { ...s.options, ...readerOptions },
                  split: s.split ?? opts.split ?? null,
                },
              ],
            }));
        }
        const results = [];
        for (const batch of batches) {
          const result = await importDataset(ctx.store, {
            name: batch.name,
            sources: batch.sources,
            task: ctx.card.task,
            labelSet: ctx.card.labels,
            skipInvalid: opts.skipInvalid,
            baseDir: ctx.dir,
            onProgress: (e) => {
              if (!flags.json && process.stderr.isTTY)
                note(`  read ${e.source} (${e.examples.toLocaleString('en-US')} examples so far)`);
            },
          });
          results.push(result);
          if (!flags.json) say(renderImport(result));
        }
        if (flags.json) {
          printJson(results.map((r) => ({ version: r.version, created: r.created, skipped: r.skipped })));
        }
      });
    });

  data
    .command('ls')
    .description('list dataset versions, newest first')
    .argument('[name]', 'only versions of this dataset')
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const versions = await ctx.store.listDatasetVersions(name);
        if (flags.json) return printJson(versions);
        say(renderVersions(versions));
      });
    });

  data
    .command('show')
    .description('show a version: lineage, splits and a few examples')
    .argument('<ref>', 'dataset name (newest version) or name@hash-prefix')
    .option('--limit <n>', 'examples to show', (v) => Number.parseInt(v, 10), 5)
    .option('--split <split>', 'show examples of this split only')
    .action(async (ref: string, opts: { limit: number; split?: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      await withProject(flags, [], async (ctx) => {
        const chain = await lineage(ctx.store, ref);
        const examples = (await ctx.store.loadExamples(chain[0]!.id)).filter(
          (e) => !opts.split || e.split === opts.split,
        );
        const shown = examples.slice(0, Math.max(0, opts.limit));
        if (flags.json) return printJson({ version: chain[0], lineage: chain.slice(1), examples: shown });
        say(renderLineage(chain));
        say();
        say(renderExamples(shown));
      });
    });

  data
    .command('export')
    .description('write a version in a format (default: the format and settings it was imported with)')
    .argument('<ref>', 'dataset name or name@hash-prefix')
    .addOption(new Option('--format <format>', 'output format').choices(FORMATS.filter((f) => f !== 'auto')))
    .option('--split <split>', 'export only this split')
    .option('--out <file>', 'write to a file (atomically) instead of stdout')
    .option('--option <key=value>', 'writer option, repeatable (e.g. scheme=bilou)', collect)
    .action(
      async (
        ref: string,
        opts: { format?: FormatName; split?: string; out?: string; option?: string[] },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        await withProject(flags, [], async (ctx) => {
          if (opts.format === 'html') {
            if (!opts.out) {
              throw new SapphireError(
                'BAD_INPUT',
                'html export writes one page per example and needs --out <folder>',
                {
                  hint: 'e.g. --format html --out pages/',
                },
              );
            }
            const version = await ctx.store.getDatasetVersion(ref);
            const examples = (await ctx.store.loadExamples(version.id)).filter(
              (e) => !opts.split || e.split === opts.split,
            );
            const files = await writeHtmlFiles(examples, resolve(opts.out));
            if (flags.json)
              return printJson({ folder: resolve(opts.out), format: 'html', examples: files.length });
            return say(
              `Wrote ${files.length.toLocaleString('en-US')} annotated pages to ${resolve(opts.out)}.`,
            );
          }
          const result = await exportDataset(ctx.store, ref, {
            format: opts.format,
            split: opts.split,
            options: parseReaderOptions(opts.option),
          });
          if (!opts.out) {
            process.stdout.write(result.text);
            return;
          }
          const target = resolve(opts.out);
          const temp = `${target}.tmp-${process.pid}`;
          await writeFile(temp, result.text);
          await rename(temp, target);
          if (flags.json) return printJson({ file: target, format: result.format, examples: result.count });
          say(`Wrote ${result.count.toLocaleString('en-US')} examples as ${result.format} to ${target}.`);
        });
      },
    );

  data
    .command('split')
    .description('assign train/dev/test splits; stores the result as a new version')
    .argument('<ref>', 'dataset name or name@hash-prefix')
    .argument('[overrides...]', 'key.path=value overrides of sapphire.yaml')
    .option('--ratios <list>', 'split ratios, e.g. 0.8,0.1,0.1 (default: data.split.ratios in sapphire.yaml)')
    .option('--names <list>', 'split names (default: train,dev,test or train,test)')
    .option('--seed <n>', 'random seed (default: data.split.seed)', (v) => Number.parseInt(v, 10))
    .option('--stratify', 'keep label proportions equal across splits')
    .option('--no-stratify', 'do not stratify')
    .option('--group-by <field>', 'keep examples sharing this meta field together (e.g. meta.doc)')
    .action(
      async (
        ref: string,
        args: string[],
        opts: { ratios?: string; names?: string; seed?: number; stratify?: boolean; groupBy?: string },
        cmd: Command,
      ) => {
        const flags = cmd.optsWithGlobals<GlobalFlags>();
        const { overrides } = splitOverrides(args);
        await withProject(flags, overrides, async (ctx) => {
          const defaults = ctx.card.data.split;
          const ratios = opts.ratios ? opts.ratios.split(',').map(Number) : defaults.ratios;
          const { version, created } = await splitDataset(ctx.store, ref, {
            ratios,
            names: opts.names?.split(',').map((s) => s.trim()),
            seed: opts.seed ?? defaults.seed,
            stratify: opts.stratify ?? defaults.stratify,
            groupBy: opts.groupBy ?? defaults.groupBy ?? undefined,
            task: ctx.card.task,
          });
          if (flags.json) return printJson({ version, created });
          const counts = describeSplits(version);
          say(
            `${created ? 'Created' : 'Already stored:'} ${version.id} (${counts}), from ${version.parentId}.`,
          );
        });
      },
    );

  data
    .command('stats')
    .description('statistics: sizes, labels per split, lengths, duplicates, leakage, unseen tokens, slices')
    .argument('<ref>', 'dataset name or name@hash-prefix')
    .argument('[overrides...]', 'key.path=value overrides of sapphire.yaml')
    .option('--slices', 'also report the slices declared in sapphire.yaml')
    .action(async (ref: string, args: string[], opts: { slices?: boolean }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const { overrides } = splitOverrides(args);
      await withProject(flags, overrides, async (ctx) => {
        const version = await ctx.store.getDatasetVersion(ref);
        const examples = await ctx.store.loadExamples(version.id);
        const slices = opts.slices ? sliceMembership(examples, ctx.card.slices) : undefined;
        const stats = computeStats(examples, { task: ctx.card.task, slices });
        if (flags.json) return printJson({ version: version.id, ...stats });
        say(renderStats(version.id, stats));
      });
    });
}
