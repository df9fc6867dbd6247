import { z } from 'zod';
import { parseModelConfig } from './config-parse.ts';
import type { FeaturizerConfig } from './featurizer.ts';

const ngramRange = z
  .tuple([z.number().int().min(1).max(10), z.number().int().min(1).max(10)])
  .refine(([min, max]) => min <= max, { message: 'must be [min, max] with min <= max' })
  .nullable();

const featuresSchema = z.strictObject({
  lowercase: z.boolean().default(true),
  wordNgrams: ngramRange.default([1, 2]),
  charNgrams: ngramRange.default([2, 5]),
  hashBits: z.number().int().min(10).max(28).default(20),
  sublinearTf: z.boolean().default(false),
  minDf: z.number().int().min(1).default(1),
  wordWeight: z.number().positive().default(1),
  charWeight: z.number().positive().default(1),
});

const trainerSchema = z.strictObject({
  /** Logistic (SGD): passes over the training set. */
  epochs: z.number().int().min(1).max(1000).default(5),
  /** Logistic (SGD): initial learning rate, decayed linearly to 0. */
  learningRate: z.number().positive().max(100).default(2),
  /** Logistic (SGD): epochs without a better dev score before stopping. */
  patience: z.number().int().min(1).default(3),
  /** Hinge (dual coordinate descent): stopping tolerance on the projected gradient. */
  tolerance: z.number().positive().default(0.1),
  /** Hinge (dual coordinate descent): most passes per class. */
  maxIterations: z.number().int().min(1).default(1000),
  /** Hinge: value of the constant intercept feature (0 for no intercept). */
  bias: z.number().min(0).default(1),
});

const calibrationSchema = z.strictObject({
  /** Hinge: probabilities are softmax (or sigmoid) of `marginScale × margin`. */
  marginScale: z.number().positive().default(3),
  /** Hinge: fit `marginScale` on dev by minimising log loss when a dev set is given. */
  fitOnDev: z.boolean().default(true),
});

const multilabelSchema = z.strictObject({
  /** Fraction of train held out to tune per-label thresholds when no dev set is given. */
  holdout: z.number().gt(0).lt(1).default(0.2),
  /** Below this many training examples, thresholds are tuned on train itself instead of a held-out slice. */
  minExamplesForHoldout: z.number().int().min(2).default(50),
});

/** The zod schema of the linear.v1 config (strict: unknown keys fail). */
export const linearConfigSchema = z
  .strictObject({
    task: z.enum(['classify', 'multilabel']).default('classify'),
    loss: z.enum(['logistic', 'hinge']).default('hinge'),
    /** Inverse L2 regularisation strength; the default depends on the loss (hinge 1, logistic 30). */
    C: z.number().positive().optional(),
    features: featuresSchema.prefault({}),
    trainer: trainerSchema.prefault({}),
    calibration: calibrationSchema.prefault({}),
    multilabel: multilabelSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (!cfg.features.wordNgrams && !cfg.features.charNgrams) {
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: 'needs wordNgrams or charNgrams (both are null)',
      });
    }
  });

/** The filled linear.v1 config. */
export type LinearConfig = Omit<z.output<typeof linearConfigSchema>, 'C' | 'features'> & {
  C: number;
  features: FeaturizerConfig;
};

/** Default `C` for each loss (tuned on banking77; see bench/classify-banking77.ts). */
export const DEFAULT_C = { hinge: 1, logistic: 30 } as const;

/** Validates a raw linear.v1 config and fills every default; throws ConfigError with field paths. */
export function parseLinearConfig(raw: Record<string, unknown>): LinearConfig {
  const parsed = parseModelConfig(linearConfigSchema, raw, 'linear.v1');
  return { ...parsed, C: parsed.C ?? DEFAULT_C[parsed.loss] } as LinearConfig;
}
