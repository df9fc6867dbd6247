import { z } from 'zod';
import { FeatureConfigSchema } from '../features/feature-config.ts';
import { parseModelConfig } from '../features/parse-config.ts';
import { TAG_SCHEMES } from '../features/tag-scheme.ts';

/** Zod schema of the `perceptron.v1` config (strict: unknown keys fail). */
export const PerceptronConfigSchema = z.strictObject({
  task: z.literal('ner').default('ner'),
  /** Token tagging scheme used inside the model. */
  scheme: z.enum(TAG_SCHEMES).default('BIO'),
  /** Passes over the training set. */
  epochs: z.number().int().min(1).max(1000).default(10),
  /** Shuffle the training order every epoch (seeded by FitOptions.seed). */
  shuffle: z.boolean().default(true),
  /** With a dev set: stop after this many epochs without dev F1 improvement (0: never stop early). */
  patience: z.number().int().min(0).max(1000).default(3),
  features: FeatureConfigSchema.prefault({}),
});

/** The filled `perceptron.v1` config. */
export type PerceptronConfig = z.output<typeof PerceptronConfigSchema>;

/** Validates a `perceptron.v1` config and fills its defaults; throws ConfigError naming the bad field path. */
export function parsePerceptronConfig(input: unknown): PerceptronConfig {
  return parseModelConfig(PerceptronConfigSchema, input, 'perceptron.v1');
}
