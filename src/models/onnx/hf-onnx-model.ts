/**
 * `hf-onnx.v1`: a token or sequence classifier exported from another framework in the Hugging Face layout and run
 * through onnxruntime. "Training" loads the directory named by `path` (the training data is not used), so an
 * imported model can be a ladder rung beside native ones; `sapphire models import-onnx` saves it as a model folder.
 *
 * @example
 * const model = createModel('hf-onnx.v1', { task: 'ner', path: 'exports/bert-ner' });
 * await model.fit([]);
 * const [p] = await predictMany(model, [{ text: 'book a table at Nobu' }]);
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../core/errors.ts';
import type { Example } from '../../data/types.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import type { FitReport } from '../model.ts';
import { readHfModelDir } from './hf-layout.ts';
import { ImportedModel } from './imported-model.ts';

/** Registered name of imported Hugging Face ONNX models. */
export const HF_ONNX_V1 = 'hf-onnx.v1';

/** Runtime settings shared by the ONNX-backed families. */
export const onnxRuntimeSettings = {
  task: z.enum(['ner', 'classify', 'multilabel']).default('ner'),
  /** Longest input in sub-tokens, special tokens included; null: from the model's files. */
  maxLength: z.number().int().min(3).nullable().default(null),
  /** Windows per onnxruntime call. */
  batchSize: z.number().int().min(1).default(16),
  /** onnxruntime intra-op threads; 0: its default (all cores). */
  threads: z.number().int().min(0).default(0),
};

/** Config of hf-onnx.v1. */
export const hfOnnxConfigSchema = z.strictObject({
  ...onnxRuntimeSettings,
  /** The Hugging Face directory `fit` loads (relative paths: from the working directory). */
  path: z.string().min(1).nullable().default(null),
});

/** An imported Hugging Face ONNX token or sequence classifier. */
export class HfOnnxModel extends ImportedModel {
  readonly name = HF_ONNX_V1;
  private readonly cfg: z.output<typeof hfOnnxConfigSchema>;

  /** An unloaded model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    const cfg = parseModelConfig(hfOnnxConfigSchema, config, HF_ONNX_V1);
    super(cfg);
    this.cfg = cfg;
  }

  /** Loads a directory written by {@link HfOnnxModel.save}. */
  static load(dir: string, config: Record<string, unknown>): Promise<HfOnnxModel> {
    return new HfOnnxModel(config).loadSaved(dir);
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return { ...this.cfg };
  }

  /** Loads the directory named by `path`; the training examples are not used (the model was trained elsewhere). */
  async fit(_train: Example[], _dev?: Example[]): Promise<FitReport> {
    if (!this.cfg.path) {
      throw new ConfigError(`${HF_ONNX_V1} needs model.path: the Hugging Face ONNX directory to load`, {
        path: 'model.path',
        hint: 'set model.path to a folder with config.json, tokenizer.json and onnx/model.onnx',
      });
    }
    const dir = isAbsolute(this.cfg.path) ? this.cfg.path : resolve(this.cfg.path);
    const runtime = await this.open(await readHfModelDir(dir));
    return {
      epochs: 0,
      info: { imported: dir, labels: runtime.labels.length, maxLength: runtime.maxLength },
    };
  }
}
