/**
 * `external.v1`: a model trained by an external command (e.g. a PyTorch script on a GPU box) on data Sapphire
 * exports; the command writes a Hugging Face ONNX directory, which Sapphire loads through the import path, so the
 * result is evaluated, recorded as a run, compared in ladders and served like a native model.
 *
 * @example
 * // train.yaml
 * // model: { architecture: external.v1, command: [python3, finetune.py, '{manifest}', '{out}'], timeoutSeconds: 7200 }
 * // data: { dataset: restaurants }
 */
import { z } from 'zod';
import type { Example } from '../../data/types.ts';
import { parseModelConfig } from '../linear/config-parse.ts';
import type { FitOptions, FitReport } from '../model.ts';
import { runExternalTrainer } from './external-trainer.ts';
import { onnxRuntimeSettings } from './hf-onnx-model.ts';
import { ImportedModel } from './imported-model.ts';

/** Registered name of externally trained models. */
export const EXTERNAL_V1 = 'external.v1';

/** Config of external.v1. */
export const externalConfigSchema = z.strictObject({
  ...onnxRuntimeSettings,
  /** Program and arguments; `{train}`, `{dev}`, `{manifest}`, `{out}`, `{seed}`, `{task}` are replaced by paths and values. */
  command: z.array(z.string().min(1)).min(1),
  /** Working directory of the command (default: the current one). */
  cwd: z.string().min(1).nullable().default(null),
  /** Extra environment variables for the command (numbers and booleans are written as text). */
  env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  /** The command is killed (and training fails) after this many seconds. */
  timeoutSeconds: z.number().positive().default(3600),
});

/** A model trained by an external command and run through onnxruntime. */
export class ExternalModel extends ImportedModel {
  readonly name = EXTERNAL_V1;
  private readonly cfg: z.output<typeof externalConfigSchema>;

  /** An untrained model; throws ConfigError for an invalid config. */
  constructor(config: Record<string, unknown> = {}) {
    const cfg = parseModelConfig(externalConfigSchema, config, EXTERNAL_V1);
    super(cfg);
    this.cfg = cfg;
  }

  /** Loads a directory written by {@link ExternalModel.save}. */
  static load(dir: string, config: Record<string, unknown>): Promise<ExternalModel> {
    return new ExternalModel(config).loadSaved(dir);
  }

  /** The filled configuration. */
  config(): Record<string, unknown> {
    return { ...this.cfg, env: { ...this.cfg.env }, command: [...this.cfg.command] };
  }

  /** Exports `train`/`dev`, runs the command (its output lines are progress) and loads the model it wrote. */
  async fit(train: Example[], dev: Example[] = [], options: FitOptions = {}): Promise<FitReport> {
    let epochs = 0;
    const files = await runExternalTrainer(this.cfg, {
      task: this.task,
      train,
      dev,
      seed: options.seed ?? 13,
      signal: options.signal,
      onProgress: (event) => {
        epochs = Math.max(epochs, event.epoch);
        options.onProgress?.(event);
      },
    });
    const runtime = await this.open(files);
    return { epochs, info: { command: this.cfg.command.join(' '), labels: runtime.labels.length } };
  }
}
