/** Config schemas of the neural text classifiers `embedding-bag.v1` and `text-cnn.v1` (strict: unknown keys fail). */
import { z } from 'zod';
import { parseModelConfig } from '../../features/parse-config.ts';
import { optimisationShape, VectorsConfigSchema } from '../training-config.ts';

const ngramRange = z
  .tuple([z.number().int().min(1).max(10), z.number().int().min(1).max(10)])
  .refine(([min, max]) => min <= max, { message: 'must be [min, max] with min <= max' })
  .nullable();

/** Fields both classifiers share: task, vocabulary, optimisation, early stopping, threads. */
const baseShape = {
  task: z.enum(['classify', 'multilabel']).default('classify'),
  /** Look words up lowercased. */
  lowercase: z.boolean().default(true),
  /** Word embedding size (taken from the vectors when `vectors` is given and this is not set). */
  dim: z.number().int().min(1).max(2048).default(100),
  /** Training words seen fewer times than this map to the unknown word (unless the vectors cover them). */
  minWordCount: z.number().int().min(1).max(1000).default(1),
  /** Dropout before the output layer. */
  dropout: z.number().min(0).max(0.9).default(0.2),
  ...optimisationShape({ epochs: 10, batchSize: 32, learningRate: 0.01, patience: 3 }),
  /** Multi-label: probability threshold of every label, and whether to tune one per label on dev. */
  multilabel: z
    .strictObject({
      threshold: z.number().gt(0).lt(1).default(0.5),
      tuneOnDev: z.boolean().default(true),
    })
    .prefault({}),
  /** Pretrained word vectors to initialise the word embeddings from. */
  vectors: VectorsConfigSchema.optional(),
};

/** Zod schema of the `embedding-bag.v1` config. */
export const EmbeddingBagConfigSchema = z.strictObject({
  ...baseShape,
  /** Hashed character n-grams of each word (with `<` `>` boundary marks), e.g. [3, 5]; null: none. */
  charNgrams: ngramRange.default(null),
  /** Add hashed word bigrams to the bag. */
  wordBigrams: z.boolean().default(true),
  /** Rows of the hashed n-gram table (used when charNgrams or wordBigrams is on). */
  buckets: z.number().int().min(1).max(10_000_000).default(50_000),
});

/** Zod schema of the `text-cnn.v1` config. */
export const TextCnnConfigSchema = z.strictObject({
  ...baseShape,
  /** Convolution widths (odd: the engine's convolutions use "same" padding). */
  widths: z
    .array(
      z
        .number()
        .int()
        .min(1)
        .max(15)
        .refine((n) => n % 2 === 1, { message: 'widths must be odd (1, 3, 5, …)' }),
    )
    .min(1)
    .max(8)
    .default([3, 5]),
  /** Filters per width. */
  filters: z.number().int().min(1).max(4096).default(100),
  dropout: z.number().min(0).max(0.9).default(0.5),
  /** Adam learning rate: lower than the embedding bag's (0.01 stalls the CNN on Banking77; 0.002 does not). */
  learningRate: z.number().positive().max(10).default(0.002),
});

/** Filled `embedding-bag.v1` config. */
export type EmbeddingBagConfig = z.output<typeof EmbeddingBagConfigSchema>;
/** Filled `text-cnn.v1` config. */
export type TextCnnConfig = z.output<typeof TextCnnConfigSchema>;
/** Filled config of either classifier, tagged by architecture. */
export type ClassifierConfig =
  | ({ kind: 'embedding-bag' } & EmbeddingBagConfig)
  | ({ kind: 'text-cnn' } & TextCnnConfig);

/** Validates a raw config of `architecture` and fills every default; throws ConfigError with field paths. */
export function parseClassifierConfig(
  kind: 'embedding-bag' | 'text-cnn',
  raw: Record<string, unknown>,
): ClassifierConfig {
  if (kind === 'embedding-bag') {
    return { kind, ...parseModelConfig(EmbeddingBagConfigSchema, raw, 'embedding-bag.v1') };
  }
  return { kind, ...parseModelConfig(TextCnnConfigSchema, raw, 'text-cnn.v1') };
}
