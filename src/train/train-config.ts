import { z } from 'zod';

/**
 * The training config file (`sapphire train <config.yaml>`): which architecture with which settings,
 * on which dataset version and splits, with which seed.
 *
 * @example
 * // crf.yaml
 * // model: { architecture: crf.v1, c2: 0.05 }
 * // data: { dataset: fashion-titles }
 * // seed: 13
 */
export const trainConfigSchema = z.strictObject({
  /** `architecture` (a registered name such as `crf.v1`) plus that architecture's own settings. */
  model: z.looseObject({ architecture: z.string().min(1) }),
  data: z
    .strictObject({
      /** Dataset name (newest version) or `name@hash-prefix`. */
      dataset: z.string().min(1),
      train: z.string().min(1).default('train'),
      /** Dev split for early stopping and model selection; `null` for none. */
      dev: z.string().min(1).nullable().default('dev'),
      /** Test split evaluated after training; `null` for none. */
      test: z.string().min(1).nullable().default('test'),
    })
    .strict(),
  seed: z.number().int().min(0).default(13),
  /** Where to write the model directory (relative to the project); default `models/<run id>`. */
  output: z.string().min(1).nullable().default(null),
  /** Free-form name for the run. */
  name: z.string().min(1).nullable().default(null),
  tags: z.array(z.string().min(1)).default([]),
});

/** A filled training config. */
export type TrainConfig = z.output<typeof trainConfigSchema>;

/** Splits a training config's `model` section into the architecture name and its own settings. */
export function modelSection(config: TrainConfig): {
  architecture: string;
  settings: Record<string, unknown>;
} {
  const { architecture, ...settings } = config.model;
  return { architecture, settings };
}
