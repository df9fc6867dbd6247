/**
 * The shared part of model families backed by a Hugging Face ONNX directory (`hf-onnx.v1`, `external.v1`):
 * asynchronous prediction through onnxruntime, saving as `model.json` + the Hugging Face files, and loading back.
 */
import { NotFittedError, SapphireError } from '../../core/errors.ts';
import type { Example, TaskKind } from '../../data/types.ts';
import { readManifest, writeManifest } from '../linear/saved-model.ts';
import type { Explanation, FitOptions, FitReport, Model, ModelInput, Prediction } from '../model.ts';
import { type HfModelFiles, readHfModelDir, taskOfConfig, writeHfModelDir } from './hf-layout.ts';
import { OnnxTransformer, type OnnxTransformerOptions } from './onnx-transformer.ts';

/** Format version of saved `hf-onnx.v1` and `external.v1` directories. */
export const ONNX_IMPORT_FORMAT_VERSION = 1;

/** Settings every ONNX-backed family shares. */
export interface ImportedModelSettings extends OnnxTransformerOptions {
  task: TaskKind;
}

/** Checks that the model directory's own task (from `config.json` `architectures`) agrees with the configured one. */
export function checkTask(files: HfModelFiles, task: TaskKind): void {
  const own = taskOfConfig(files.config);
  if (own && (own === 'ner') !== (task === 'ner')) {
    throw new SapphireError(
      'DATA_INVALID',
      `${files.source}/config.json describes a ${own === 'ner' ? 'token' : 'sequence'} classifier, but the task is ${task}`,
      {
        file: `${files.source}/config.json`,
        path: 'architectures',
        hint: `import it into a ${own} project (or pass --task ${own})`,
      },
    );
  }
}

/** A model whose predictions come from an imported ONNX transformer; subclasses decide how `fit` obtains it. */
export abstract class ImportedModel implements Model {
  abstract readonly name: string;
  protected runtime: OnnxTransformer | null = null;

  constructor(protected readonly settings: ImportedModelSettings) {}

  /** The task the model solves. */
  get task(): TaskKind {
    return this.settings.task;
  }

  abstract fit(train: Example[], dev?: Example[], options?: FitOptions): Promise<FitReport>;
  abstract config(): Record<string, unknown>;

  /** The loaded model's entity types (NER) or classes, its `id2label` outputs and its window length. */
  describe(): { labels: string[]; outputs: string[]; maxLength: number } {
    const runtime = this.require();
    return { labels: [...runtime.labels], outputs: [...runtime.files.labels], maxLength: runtime.maxLength };
  }

  /** Always throws: onnxruntime is asynchronous; use `predictAsync` (or `predictMany`). */
  predict(_inputs: ModelInput[]): Prediction[] {
    this.require();
    throw new SapphireError('BAD_INPUT', `${this.name} predicts asynchronously (onnxruntime)`, {
      hint: 'call predictMany(model, inputs) or model.predictAsync(inputs) instead of model.predict',
    });
  }

  /** Predicts spans or classes through onnxruntime. */
  async predictAsync(inputs: ModelInput[]): Promise<Prediction[]> {
    return this.require().predict(inputs);
  }

  /** Imported transformers have no feature weights to show: always an empty list. */
  explain(_input: ModelInput, _topK?: number): Explanation[] {
    this.require();
    return [];
  }

  /** Writes `model.json` (architecture, filled config, labels) and the Hugging Face files beside it. */
  async save(dir: string): Promise<void> {
    const runtime = this.require();
    await writeHfModelDir(runtime.files, dir);
    await writeManifest(dir, {
      architecture: this.name,
      formatVersion: ONNX_IMPORT_FORMAT_VERSION,
      config: this.config(),
      labels: runtime.labels,
      maxLength: runtime.maxLength,
      source: runtime.files.source,
    });
  }

  /** Opens a model directory (read into memory) as this model's runtime. */
  protected async open(files: HfModelFiles): Promise<OnnxTransformer> {
    checkTask(files, this.task);
    const runtime = await OnnxTransformer.open(files, this.task, this.settings);
    await this.runtime?.close();
    this.runtime = runtime;
    return runtime;
  }

  /** Loads the Hugging Face files of a saved directory written by {@link ImportedModel.save}. */
  protected async loadSaved(dir: string): Promise<this> {
    await readManifest(dir, this.name, ONNX_IMPORT_FORMAT_VERSION);
    await this.open(await readHfModelDir(dir));
    return this;
  }

  private require(): OnnxTransformer {
    if (!this.runtime) throw new NotFittedError(`${this.name} model`);
    return this.runtime;
  }
}
