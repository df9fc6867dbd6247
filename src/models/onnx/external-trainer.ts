/**
 * Runs an external training command (e.g. a PyTorch fine-tuning script) on data exported by Sapphire: writes
 * `train.jsonl`, `dev.jsonl` and `manifest.json` to a fresh work folder, runs the command with their paths (as
 * `{train}`, `{dev}`, `{manifest}`, `{out}`, `{seed}` in its arguments and `SAPPHIRE_*` environment variables),
 * streams its output lines as progress, and reads the Hugging Face ONNX directory it must write to `{out}`.
 * The work folder is always removed, so a failed command leaves nothing behind.
 *
 * @example
 * const files = await runExternalTrainer(
 *   { command: ['python3', 'train.py', '--data', '{manifest}', '--out', '{out}'], cwd: null, env: {}, timeoutSeconds: 3600 },
 *   { task: 'ner', train, dev, seed: 13 },
 * );
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SapphireError } from '../../core/errors.ts';
import { tokenSpans } from '../../data/formats/conll.ts';
import { spansToTags } from '../../data/formats/tagging.ts';
import type { Example, TaskKind } from '../../data/types.ts';
import { tokenize } from '../../text/tokenizer.ts';
import type { TrainProgress } from '../model.ts';
import { type HfModelFiles, readHfModelDir } from './hf-layout.ts';

/** The command an `external.v1` model runs. */
export interface ExternalCommand {
  /** Program and arguments; `{train}`, `{dev}`, `{manifest}`, `{out}`, `{seed}`, `{task}` are replaced. */
  command: string[];
  /** Working directory (default: the current one). */
  cwd: string | null;
  /** Extra environment variables. */
  env: Record<string, string>;
  /** The command is killed after this many seconds. */
  timeoutSeconds: number;
}

/** What the external trainer is given. */
export interface ExternalTrainingData {
  task: TaskKind;
  train: Example[];
  dev: Example[];
  seed: number;
  onProgress?: (event: TrainProgress) => void;
  signal?: AbortSignal;
}

/** The manifest written beside the exported data (`manifest.json`): what a trainer needs to know. */
export interface ExternalManifest {
  format: 'sapphire-external.v1';
  task: TaskKind;
  /** Entity types (NER) or classes, sorted. */
  labels: string[];
  /** NER: the IOB2 tags of `tags` in the data files (`O`, then B-/I- per entity type). */
  tags: string[] | null;
  seed: number;
  train: string;
  dev: string | null;
  out: string;
  counts: { train: number; dev: number };
}

/** One exported example: text, tokens with offsets, IOB2 tags and spans (NER) or labels. */
function exportExample(e: Example, task: TaskKind): Record<string, unknown> {
  const tokens = e.tokens ?? tokenize(e.text);
  const row: Record<string, unknown> = {
    id: e.id,
    text: e.text,
    tokens: tokens.map((t) => ({ text: t.text, start: t.start, end: t.end })),
  };
  if (task === 'ner') {
    row.tags = spansToTags(tokenSpans(e, tokens), tokens.length, 'IOB2');
    row.spans = (e.spans ?? []).map((s) => ({ start: s.start, end: s.end, label: s.label }));
  } else row.labels = e.labels ?? [];
  return row;
}

function labelsOf(examples: Example[], task: TaskKind): string[] {
  const set = new Set<string>();
  for (const e of examples)
    for (const l of task === 'ner' ? (e.spans ?? []).map((s) => s.label) : (e.labels ?? [])) set.add(l);
  return [...set].sort();
}

async function writeJsonl(file: string, examples: Example[], task: TaskKind): Promise<void> {
  await writeFile(file, examples.map((e) => `${JSON.stringify(exportExample(e, task))}\n`).join(''));
}

/** Writes the training data and manifest into `dir` (with `out` the model folder the trainer must fill). */
export async function exportTrainingData(dir: string, data: ExternalTrainingData): Promise<ExternalManifest> {
  const labels = labelsOf([...data.train, ...data.dev], data.task);
  const manifest: ExternalManifest = {
    format: 'sapphire-external.v1',
    task: data.task,
    labels,
    tags: data.task === 'ner' ? ['O', ...labels.flatMap((l) => [`B-${l}`, `I-${l}`])] : null,
    seed: data.seed,
    train: join(dir, 'train.jsonl'),
    dev: data.dev.length > 0 ? join(dir, 'dev.jsonl') : null,
    out: join(dir, 'model'),
    counts: { train: data.train.length, dev: data.dev.length },
  };
  await writeJsonl(manifest.train, data.train, data.task);
  if (manifest.dev) await writeJsonl(manifest.dev, data.dev, data.task);
  await mkdir(manifest.out, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Reads one output line as progress: a JSON object with `epoch` (and `epochs`, `loss`, `devScore`), or free text
 * shown as a message at the last epoch seen.
 */
export function progressOfLine(line: string, last: { epoch: number; epochs: number }): TrainProgress {
  if (line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (typeof v.epoch === 'number') {
        const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
        return {
          epoch: v.epoch,
          epochs: num(v.epochs) ?? v.epoch,
          loss: num(v.loss),
          devScore: num(v.devScore ?? v.dev_score),
          message: typeof v.message === 'string' ? v.message : undefined,
        };
      }
    } catch {
      // not JSON: free text
    }
  }
  return { epoch: last.epoch, epochs: Math.max(last.epochs, last.epoch, 1), message: line };
}

/** Replaces `{name}` placeholders in an argument. */
function substitute(arg: string, values: Record<string, string>): string {
  return arg.replace(/\{(train|dev|manifest|out|seed|task)\}/g, (_, key: string) => values[key] ?? '');
}

/** Runs the command; resolves when it exits with 0, rejects with its last output lines otherwise. */
function runCommand(
  cmd: ExternalCommand,
  values: Record<string, string>,
  data: ExternalTrainingData,
): Promise<void> {
  const [program, ...args] = cmd.command.map((a) => substitute(a, values));
  const shown = cmd.command.join(' ');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program!, args, {
      cwd: cmd.cwd ? resolve(cmd.cwd) : process.cwd(),
      env: {
        ...process.env,
        ...cmd.env,
        SAPPHIRE_TRAIN: values.train,
        SAPPHIRE_DEV: values.dev,
        SAPPHIRE_MANIFEST: values.manifest,
        SAPPHIRE_OUT: values.out,
        SAPPHIRE_SEED: values.seed,
        SAPPHIRE_TASK: values.task,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    const tail: string[] = [];
    let last = { epoch: 0, epochs: 1 };
    let killedFor: string | null = null;
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      tail.push(line);
      if (tail.length > 20) tail.shift();
      const event = progressOfLine(line, last);
      last = { epoch: event.epoch, epochs: event.epochs };
      data.onProgress?.(event);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split(/\r?\n/);
        buffered = lines.pop() ?? '';
        for (const line of lines) onLine(line);
      });
      stream.on('end', () => {
        if (buffered) onLine(buffered);
        buffered = '';
      });
    }
    const kill = (why: string) => {
      killedFor = why;
      try {
        if (child.pid && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(
      () => kill(`timed out after ${cmd.timeoutSeconds} s`),
      cmd.timeoutSeconds * 1000,
    );
    const onAbort = () => kill('was cancelled');
    data.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(timer);
      data.signal?.removeEventListener('abort', onAbort);
      reject(
        new SapphireError(
          'BAD_INPUT',
          `the external trainer \`${shown}\` could not start: ${error.message}`,
          {
            path: 'model.command',
            hint: 'check that model.command[0] is a program on PATH (or a path relative to model.cwd)',
          },
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      data.signal?.removeEventListener('abort', onAbort);
      if (code === 0 && !killedFor) return resolvePromise();
      const why = killedFor ?? (code !== null ? `exited with code ${code}` : `was killed by ${signal}`);
      reject(
        new SapphireError('BAD_INPUT', `the external trainer \`${shown}\` ${why}`, {
          path: 'model.command',
          output: tail,
          hint: tail.length
            ? `its last output lines: ${tail.slice(-5).join(' | ')}`
            : 'it printed nothing; run the command by hand on the exported data to see why',
        }),
      );
    });
  });
}

/**
 * Exports the data, runs the external trainer and reads the model directory it wrote into memory (checked like an
 * import). The work folder is removed whatever happens.
 */
export async function runExternalTrainer(
  cmd: ExternalCommand,
  data: ExternalTrainingData,
): Promise<HfModelFiles> {
  const work = await mkdtemp(join(tmpdir(), 'sapphire-external-'));
  try {
    const manifest = await exportTrainingData(work, data);
    const values = {
      train: manifest.train,
      dev: manifest.dev ?? '',
      manifest: join(work, 'manifest.json'),
      out: manifest.out,
      seed: String(data.seed),
      task: data.task,
    };
    await runCommand(cmd, values, data);
    try {
      const files = await readHfModelDir(manifest.out);
      return { ...files, source: `${cmd.command.join(' ')} → {out}` };
    } catch (error) {
      if (!(error instanceof SapphireError)) throw error;
      throw new SapphireError(
        'DATA_INVALID',
        `the external trainer \`${cmd.command.join(' ')}\` finished, but its output is not a model: ${error.message}`,
        {
          ...error.details,
          path: 'model.command',
          hint: `write config.json, tokenizer.json and onnx/model.onnx into {out} (SAPPHIRE_OUT); ${error.details.hint ?? ''}`.trim(),
        },
      );
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
