import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { loadConfigFile } from '../../core/config.ts';
import { SapphireError } from '../../core/errors.ts';
import { readDataset } from '../../data/formats/index.ts';
import { readUtf8 } from '../../data/formats/read-text.ts';
import { spansToTags } from '../../data/formats/tagging.ts';
import type { Example } from '../../data/types.ts';
import { renderEvaluation } from '../../metrics/render.ts';
import { loadModel, type Model, type Prediction, predictMany } from '../../models/index.ts';
import { escapeHtml, highlightHtml } from '../../text/html-to-text.ts';
import { OffsetMap } from '../../text/offset-map.ts';
import { tokenize } from '../../text/tokenizer.ts';
import { recordEvaluation, trainModel } from '../../train/train.ts';
import { trainConfigSchema } from '../../train/train-config.ts';
import { withProject } from '../context.ts';
import { type GlobalFlags, printJson, say, splitOverrides } from '../output.ts';
import { createProgress } from '../render/progress.ts';

/** `--runtime native|onnx` of predict and evaluate. */
function runtimeOption(): Option {
  return new Option(
    '--runtime <runtime>',
    'score natively or through onnxruntime-node (its model.onnx, else exported at load)',
  )
    .choices(['native', 'onnx'])
    .default('native');
}

/** Loads a model folder natively, or through onnxruntime-node (loaded only then). */
async function loadForRuntime(dir: string, runtime: string): Promise<Model> {
  if (runtime !== 'onnx') return loadModel(dir);
  const { OnnxRuntimeModel } = await import('../../models/onnx/onnx-runtime.ts');
  return OnnxRuntimeModel.load(dir);
}

/** Parses `dataset[:split]`. */
function parseDatasetArg(arg: string): { ref: string; split?: string } {
  const i = arg.lastIndexOf(':');
  return i > 0 ? { ref: arg.slice(0, i), split: arg.slice(i + 1) } : { ref: arg };
}

/** Registers `sapphire train`, `evaluate` and `predict`. */
export function registerModelCommands(program: Command): void {
  program
    .command('train')
    .description('train a model from a config file, evaluate it on dev/test, save it and record the run')
    .argument('<config>', 'training config (YAML): model.architecture + settings, data.dataset, seed')
    .argument('[overrides...]', 'key.path=value overrides of the config, e.g. model.c2=0.1 seed=7')
    .action(async (configFile: string, args: string[], _opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const { values, overrides } = splitOverrides(args);
      if (values.length) {
        throw new SapphireError('BAD_INPUT', `unexpected argument "${values[0]}"`, {
          hint: 'overrides look like key.path=value, e.g. model.c2=0.1',
        });
      }
      const config = loadConfigFile(resolve(configFile), trainConfigSchema, { overrides });
      await withProject(flags, [], async (ctx) => {
        const progress = flags.json ? null : createProgress(`train ${config.model.architecture}`);
        let result: Awaited<ReturnType<typeof trainModel>>;
        try {
          result = await trainModel({
            store: ctx.store,
            card: ctx.card,
            config,
            projectDir: ctx.dir,
            record: { command: ['sapphire', ...process.argv.slice(2)].join(' ') },
            onProgress: (e) => progress?.update(e),
          });
        } finally {
          progress?.stop();
        }
        if (flags.json) {
          return printJson({
            run: result.run.id,
            model: result.modelDir,
            dataset: result.dataset.id,
            seconds: result.seconds,
            dev: result.dev,
            test: result.test,
          });
        }
        say(
          `Trained ${config.model.architecture} on ${result.dataset.id} in ${result.seconds.toFixed(1)} s (run ${result.run.id}).`,
        );
        say(`Model saved to ${result.modelDir}`);
        if (result.dev) say(`\n${renderEvaluation(result.dev, { title: 'dev' })}`);
        if (result.test) say(`\n${renderEvaluation(result.test, { title: 'test' })}`);
      });
    });

  program
    .command('evaluate')
    .description('evaluate a saved model on a dataset split: P/R/F1 per label, calibration, throughput')
    .argument('<model>', 'model directory written by `sapphire train`')
    .argument('<dataset>', 'dataset[:split], e.g. fashion-titles:test (default: all examples)')
    .addOption(runtimeOption())
    .action(async (modelDir: string, datasetArg: string, opts: { runtime: string }, cmd: Command) => {
      const flags = cmd.optsWithGlobals<GlobalFlags>();
      const model = await loadForRuntime(resolve(modelDir), opts.runtime);
      const { ref, split } = parseDatasetArg(datasetArg);
      await withProject(flags, [], async (ctx) => {
        const version = await ctx.store.getDatasetVersion(ref);
        const examples = (await ctx.store.loadExamples(version.id)).filter(
          (e) => !split || e.split === split,
        );
        if (examples.length === 0) {
          throw new SapphireError(
            'NOT_FOUND',
            `${version.id} has no examples${split ? ` in split "${split}"` : ''}`,
            {
              hint: `its splits are: ${Object.keys(version.splitCounts).join(', ') || 'none'}`,
            },
          );
        }
        const { run, report, seconds } = await recordEvaluation({
          store: ctx.store,
          card: ctx.card,
          model,
          modelDir: resolve(modelDir),
          dataset: version,
          examples,
          split: split ?? null,
          projectDir: ctx.dir,
          command: ['sapphire', ...process.argv.slice(2)].join(' '),
        });
        const tokens = examples.reduce((n, e) => n + (e.tokens?.length ?? tokenize(e.text).length), 0);
        const throughput = {
          tokensPerSecond: tokens / seconds,
          examplesPerSecond: examples.length / seconds,
        };
        if (flags.json)
          return printJson({
            model: resolve(modelDir),
            dataset: version.id,
            split: split ?? null,
            run: run.id,
            ...report,
            throughput,
          });
        say(
          renderEvaluation(report, {
            title: `${model.name} on ${version.id}${split ? `:${split}` : ''}`,
            throughput,
          }),
        );
        say(`\nRecorded as run ${run.id}.`);
      });
    });

  program
    .command('predict')
    .description('predict with a saved model on a text, a file of texts (one per line) or HTML pages')
    .argument('<model>', 'model directory written by `sapphire train`')
    .option('--text <text>', 'one text to predict on')
    .option('--file <path>', 'a text file (one text per line), a dataset file, or HTML page(s)')
    .addOption(
      new Option('--format <format>', 'output format').choices(['json', 'conll', 'html']).default('json'),
    )
    .option('--explain [k]', 'with json: the top k features or rules behind each prediction', (v) =>
      Number.parseInt(v, 10),
    )
    .addOption(runtimeOption())
    .action(
      async (
        modelDir: string,
        opts: { text?: string; file?: string; format: string; explain?: number | true; runtime: string },
      ) => {
        const model = await loadForRuntime(resolve(modelDir), opts.runtime);
        let inputs: Example[];
        if (opts.text !== undefined) inputs = [{ id: 'text', text: opts.text, meta: {} }];
        else if (opts.file) inputs = await readInputs(resolve(opts.file));
        else
          throw new SapphireError('BAD_INPUT', 'nothing to predict on', {
            hint: 'pass --text "…" or --file <path>',
          });
        const predictions = await predictMany(
          model,
          inputs.map((e) => ({ text: e.text, tokens: e.tokens })),
        );
        if (opts.format === 'json') {
          const k = opts.explain === true ? 5 : opts.explain;
          return printJson(
            inputs.map((e, i) => ({
              id: e.id,
              text: e.text,
              ...predictions[i],
              ...(k ? { explanations: model.explain({ text: e.text, tokens: e.tokens }, k) } : {}),
            })),
          );
        }
        if (opts.format === 'conll') return say(toConll(inputs, predictions));
        say(await toHtml(inputs, predictions));
      },
    );
}

/** Reads texts to predict on: HTML pages and dataset files through their readers, other files line by line. */
async function readInputs(path: string): Promise<Example[]> {
  const isDir = (await stat(path)).isDirectory();
  if (isDir || /\.(html?|html\.gz|jsonl|conll|bio|csv|tsv)$/i.test(path)) {
    const read = await readDataset(path, { format: 'auto' });
    if (read.examples.length === 0) {
      throw new SapphireError('DATA_INVALID', `no texts could be read from ${path}`, {
        problems: read.problems,
      });
    }
    for (const e of read.examples) {
      if (e.meta.htmlMap && typeof e.meta.source === 'string') {
        e.meta.htmlPath = isDir ? join(path, e.meta.source) : path;
      }
    }
    return read.examples;
  }
  const text = await readFile(path, 'utf8');
  return text
    .split(/\r?\n/)
    .map((line, i) => ({ id: `${i + 1}`, text: line, meta: {} }))
    .filter((e) => e.text.trim().length > 0);
}

function toConll(inputs: Example[], predictions: Prediction[]): string {
  return inputs
    .map((e, i) => {
      const tokens = e.tokens ?? tokenize(e.text);
      const spans = (predictions[i]?.spans ?? []).flatMap((s) => {
        const first = tokens.findIndex((t) => t.end > s.start);
        let last = -1;
        for (let k = tokens.length - 1; k >= 0; k--)
          if (tokens[k]!.start < s.end) {
            last = k;
            break;
          }
        return first >= 0 && last >= first ? [{ start: first, end: last + 1, label: s.label }] : [];
      });
      const tags = spansToTags(spans, tokens.length, 'IOB2');
      return tokens.map((t, k) => `${t.text}\t${tags[k]}`).join('\n');
    })
    .join('\n\n');
}

async function toHtml(inputs: Example[], predictions: Prediction[]): Promise<string> {
  const pages: string[] = [];
  for (const [i, e] of inputs.entries()) {
    const spans = predictions[i]?.spans ?? [];
    if (typeof e.meta.htmlPath === 'string' && e.meta.htmlMap) {
      const html = await readUtf8(e.meta.htmlPath);
      pages.push(highlightHtml(html, OffsetMap.fromJSON(e.meta.htmlMap as never), spans));
      continue;
    }
    let out = '';
    let cursor = 0;
    for (const s of [...spans].sort((a, b) => a.start - b.start)) {
      out += `${escapeHtml(e.text.slice(cursor, s.start))}<mark class="sapphire-entity" data-label="${escapeHtml(s.label)}" title="${s.label} ${s.score.toFixed(2)}">${escapeHtml(e.text.slice(s.start, s.end))}</mark>`;
      cursor = s.end;
    }
    pages.push(`<p>${out}${escapeHtml(e.text.slice(cursor))}</p>`);
  }
  return pages.join('\n');
}
