import { z } from 'zod';
import { FeatureConfigSchema } from '../features/feature-config.ts';
import { parseModelConfig } from '../features/parse-config.ts';
import { TAG_SCHEMES } from '../features/tag-scheme.ts';

/** Zod schema of the `crf.v1` config (strict: unknown keys fail). */
export const CrfConfigSchema = z.strictObject({
  task: z.literal('ner').default('ner'),
  /** Token tagging scheme used inside the model. */
  scheme: z.enum(TAG_SCHEMES).default('BIO'),
  /** L1 coefficient (> 0 trains with OWL-QN; with c2 > 0 this is the elastic net). */
  c1: z.number().min(0).default(0.1),
  /** L2 coefficient: the objective adds c2 · ‖w‖². */
  c2: z.number().min(0).default(0.5),
  /** Maximum number of L-BFGS iterations. */
  maxIterations: z.number().int().min(1).max(100_000).default(100),
  /** Stop when ‖g‖ / max(1, ‖w‖) < epsilon. */
  epsilon: z.number().positive().max(1).default(1e-5),
  /** Stop when the objective improved by less than `delta` (relative) over the last `period` iterations. */
  period: z.number().int().min(0).max(1000).default(10),
  delta: z.number().min(0).max(1).default(1e-5),
  /** Number of L-BFGS correction pairs. */
  memory: z.number().int().min(1).max(100).default(6),
  /** Pair every attribute with every tag (default: only attribute–tag pairs seen in training). */
  possibleStates: z.boolean().default(false),
  /** With a dev set: evaluate dev entity F1 every this many iterations and keep the best weights. */
  devEvalEvery: z.number().int().min(1).max(100_000).default(10),
  /** With a dev set: stop after this many evaluations without improvement (0: never stop early). */
  patience: z.number().int().min(0).max(1000).default(3),
  features: FeatureConfigSchema.prefault({}),
});

/** The filled `crf.v1` config. */
export type CrfConfig = z.output<typeof CrfConfigSchema>;

/** Validates a `crf.v1` config and fills its defaults; throws ConfigError naming the bad field path. */
export function parseCrfConfig(input: unknown): CrfConfig {
  return parseModelConfig(CrfConfigSchema, input, 'crf.v1');
}
