/**
 * `sapphire models import-onnx`: turns a Hugging Face ONNX export into a Sapphire model folder (`hf-onnx.v1`),
 * checked end to end (files, tokenizer, graph inputs/outputs, logits shape against `id2label`) and written
 * atomically, so it can be evaluated, analysed, registered, promoted and served like a native model.
 *
 * @example
 * const result = await importOnnxModel({ source: 'exports/bert-ner', out: 'models/bert-ner' });
 * result.labels; // ['LOC', 'MISC', 'ORG', 'PER']
 */
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { SapphireError } from '../../core/errors.ts';
import type { TaskKind } from '../../data/types.ts';
import { readHfModelDir, taskOfConfig } from './hf-layout.ts';
import { HF_ONNX_V1, HfOnnxModel } from './hf-onnx-model.ts';

/** Options of {@link importOnnxModel}. */
export interface ImportOnnxOptions {
  /** The Hugging Face directory (config.json, tokenizer.json, onnx/model.onnx). */
  source: string;
  /** The model folder to write. */
  out: string;
  /** The task, when config.json's `architectures` does not tell (or to override it). */
  task?: TaskKind;
  /** The task of the project importing it: a different kind of model is refused. */
  projectTask?: TaskKind;
  /** Replace an existing folder at `out`. */
  force?: boolean;
  /** Longest input in sub-tokens (default: from the model's files). */
  maxLength?: number;
}

/** What {@link importOnnxModel} wrote. */
export interface ImportOnnxResult {
  dir: string;
  architecture: string;
  task: TaskKind;
  /** Entity types (NER) or classes. */
  labels: string[];
  /** id2label as given (the tags, for NER). */
  outputs: string[];
  maxLength: number;
  source: string;
}

/** Imports a Hugging Face ONNX token or sequence classifier as an `hf-onnx.v1` model folder. */
export async function importOnnxModel(options: ImportOnnxOptions): Promise<ImportOnnxResult> {
  const source = resolve(options.source);
  const out = resolve(options.out);
  const files = await readHfModelDir(source);
  const own = taskOfConfig(files.config);
  const task = options.task ?? own ?? options.projectTask;
  if (!task) {
    throw new SapphireError(
      'BAD_INPUT',
      `cannot tell whether ${source} is a token or a sequence classifier`,
      {
        file: join(source, 'config.json'),
        path: 'architectures',
        hint: 'pass --task ner or --task classify',
      },
    );
  }
  if (options.projectTask && (options.projectTask === 'ner') !== (task === 'ner')) {
    throw new SapphireError(
      'BAD_INPUT',
      `this project's task is ${options.projectTask}, but ${source} is a ${task === 'ner' ? 'token' : 'sequence'} classifier`,
      { hint: 'import it into a project of the same task (sapphire init --task …)' },
    );
  }
  if (
    await stat(out).then(
      () => true,
      () => false,
    )
  ) {
    if (!options.force) {
      throw new SapphireError('CONFLICT', `${out} already exists`, {
        hint: 'choose another --name/--out, or pass --force to replace it',
      });
    }
  }
  const model = new HfOnnxModel({
    task,
    path: source,
    ...(options.maxLength ? { maxLength: options.maxLength } : {}),
  });
  await model.fit([]);
  const temp = join(dirname(out), `.${basename(out)}.importing-${process.pid}`);
  try {
    await rm(temp, { recursive: true, force: true });
    await model.save(temp);
    await rm(out, { recursive: true, force: true });
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  return {
    dir: out,
    architecture: HF_ONNX_V1,
    task,
    ...model.describe(),
    source,
  };
}
