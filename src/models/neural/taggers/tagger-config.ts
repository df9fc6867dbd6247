/** Config schemas of the neural NER taggers `bilstm-crf.v1` and `idcnn-crf.v1` (strict: unknown keys fail). */
import { z } from 'zod';
import { parseModelConfig } from '../../features/parse-config.ts';
import { TAG_SCHEMES } from '../../features/tag-scheme.ts';
import { optimisationShape, VectorsConfigSchema } from '../training-config.ts';

const odd = (what: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(15)
    .refine((n) => n % 2 === 1, { message: `${what} must be odd (3, 5, …)` });

/** Fields every neural tagger shares: input features, optimisation, early stopping. */
const baseShape = {
  task: z.literal('ner').default('ner'),
  /** Token tagging scheme used inside the model. */
  scheme: z.enum(TAG_SCHEMES).default('BIO'),
  /** Look words up lowercased in the word vocabulary (character features still see the case). */
  lowercase: z.boolean().default(true),
  /** Word embedding size (taken from the vectors when `vectors` is given and this is not set). */
  wordDim: z.number().int().min(1).max(2048).default(100),
  /** Training words seen fewer times than this map to the unknown word (unless pretrained vectors cover them). */
  minWordCount: z.number().int().min(1).max(1000).default(1),
  /** Probability of replacing a training word by the unknown word, so that row learns something. */
  wordDropout: z.number().min(0).max(0.5).default(0.05),
  /** Character embedding size. */
  charDim: z.number().int().min(1).max(512).default(25),
  /** Char-CNN filters per word (0 turns character features off). */
  charFilters: z.number().int().min(0).max(1024).default(30),
  /** Char-CNN kernel width (odd). */
  charWidth: odd('charWidth').default(3),
  /** Characters of a word the char-CNN reads (longer words are truncated). */
  maxWordChars: z.number().int().min(1).max(100).default(20),
  /** Dropout on the encoder input and output. */
  dropout: z.number().min(0).max(0.9).default(0.5),
  ...optimisationShape({ epochs: 30, batchSize: 16, learningRate: 0.005, patience: 5 }),
  /** Pretrained word vectors to initialise the word embeddings from. */
  vectors: VectorsConfigSchema.optional(),
  /**
   * With `vectors`: also put up to this many pretrained words (in the file's order, usually most frequent
   * first) into the vocabulary, so words never seen in training keep their vector at prediction time
   * (0: only training words and dev words with a vector).
   */
  vectorWords: z.number().int().min(0).max(5_000_000).default(0),
};

/** Zod schema of the `bilstm-crf.v1` config. */
export const BiLstmCrfConfigSchema = z.strictObject({
  ...baseShape,
  /** LSTM units per direction. */
  hidden: z.number().int().min(1).max(4096).default(100),
});

/** Zod schema of the `idcnn-crf.v1` config. */
export const IdCnnCrfConfigSchema = z.strictObject({
  ...baseShape,
  /** Convolution filters of every layer. */
  filters: z.number().int().min(1).max(4096).default(128),
  /** Kernel width of every convolution (odd). */
  width: odd('width').default(3),
  /** Dilations of the layers of one block. */
  dilations: z.array(z.number().int().min(1).max(64)).min(1).max(16).default([1, 2, 4]),
  /** How many times the block is applied (its weights are shared between iterations). */
  iterations: z.number().int().min(1).max(16).default(3),
});

/** The filled `bilstm-crf.v1` config. */
export type BiLstmCrfConfig = z.output<typeof BiLstmCrfConfigSchema>;
/** The filled `idcnn-crf.v1` config. */
export type IdCnnCrfConfig = z.output<typeof IdCnnCrfConfigSchema>;
/** The filled config of either neural tagger. */
export type NeuralTaggerConfig = BiLstmCrfConfig | IdCnnCrfConfig;
/** The encoders a neural tagger can have. */
export type EncoderKind = 'bilstm' | 'idcnn';

/** Validates a neural tagger config and fills its defaults; throws ConfigError naming the bad field path. */
export function parseNeuralTaggerConfig(
  kind: EncoderKind,
  input: unknown,
  where: string,
): NeuralTaggerConfig {
  return kind === 'bilstm'
    ? parseModelConfig(BiLstmCrfConfigSchema, input, where)
    : parseModelConfig(IdCnnCrfConfigSchema, input, where);
}
