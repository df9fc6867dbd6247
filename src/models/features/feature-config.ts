import { z } from 'zod';

/** Per-word feature templates; each can also be used on window neighbours through `windowFeatures`. */
export const WORD_TEMPLATES = [
  'word',
  'lower',
  'shape',
  'shortShape',
  'prefix',
  'suffix',
  'flags',
  'digitNorm',
  'cluster',
] as const;

/** A per-word feature template name. */
export type WordTemplate = (typeof WORD_TEMPLATES)[number];

const GazetteerSchema = z.strictObject({
  /** Name used in feature strings (`g:<name>=B`). */
  name: z.string().regex(/^[\w.-]+$/, 'use letters, digits, _, . or -'),
  /** Phrases; each is tokenised with the default tokenizer. */
  phrases: z.array(z.string().trim().min(1)).min(1),
  caseSensitive: z.boolean().default(false),
});

const ClusterSchema = z
  .strictObject({
    /** File of word → cluster: JSON object, or Brown `paths` lines `bits<TAB>word[<TAB>count]`. */
    path: z.string().min(1).optional(),
    /** Inline map word → cluster id. */
    map: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    /** Derive bit-string clusters from a word-vector file by bisecting k-means (see `bisectingVectorClusters`). */
    fromVectors: z
      .strictObject({
        path: z.string().min(1),
        /** Number of binary splits: at most 2^depth clusters. */
        depth: z.number().int().min(1).max(20).default(10),
      })
      .optional(),
    /** Also emit prefixes of these lengths of the cluster id (useful for bit-string clusters). */
    prefixes: z.array(z.number().int().min(1).max(64)).default([]),
  })
  .refine(
    (c) => [c.path, c.map, c.fromVectors].filter((x) => x !== undefined).length === 1,
    'give exactly one of "path", "map" or "fromVectors"',
  );

const VectorSchema = z
  .strictObject({
    /** JSON file `{ word: number[] }` or text file `word v1 v2 …` per line. */
    path: z.string().min(1).optional(),
    /** Inline map word → vector. */
    map: z.record(z.string(), z.array(z.number())).optional(),
    /** Multiplier applied to every vector component. */
    scale: z.number().positive().default(1),
  })
  .refine((c) => (c.path === undefined) !== (c.map === undefined), 'give exactly one of "path" or "map"');

/** Zod schema of the token feature configuration shared by the sequence taggers. */
export const FeatureConfigSchema = z.strictObject({
  /** Word as written (`w=`). */
  word: z.boolean().default(true),
  /** Lowercased word (`l=`). */
  lower: z.boolean().default(true),
  /** Long shape, e.g. `Xxxxx` (`s=`). */
  shape: z.boolean().default(true),
  /** Short shape, e.g. `Xx` (`ss=`). */
  shortShape: z.boolean().default(true),
  /** Prefixes of 1…n characters (0 disables). */
  prefixes: z.number().int().min(0).max(8).default(4),
  /** Suffixes of 1…n characters (0 disables). */
  suffixes: z.number().int().min(0).max(8).default(4),
  /** Orthographic flags: title, upper, digit, punct, hyphen, mention, hashtag, url, … */
  flags: z.boolean().default(true),
  /** Lowercased word with digits mapped to 0. */
  digitNorm: z.boolean().default(false),
  /** Neighbours at ±1 … ±window get `windowFeatures`. */
  window: z.number().int().min(0).max(5).default(2),
  /** Templates applied to each window neighbour. */
  windowFeatures: z.array(z.enum(WORD_TEMPLATES)).default(['lower', 'shortShape']),
  /** Extra templates applied to the immediate neighbours (±1) only. */
  nearFeatures: z.array(z.enum(WORD_TEMPLATES)).default([]),
  /** Lowercased bigrams (previous, current) and (current, next). */
  bigrams: z.boolean().default(true),
  /** Phrase lists: a token gets `g:<name>=B` or `=I` when it starts or continues a listed phrase. */
  gazetteers: z.array(GazetteerSchema).default([]),
  /** Word clusters (e.g. Brown clusters): cluster id features for the `cluster` template. */
  clusters: ClusterSchema.nullable().default(null),
  /** Dense word vectors: one real-valued feature per dimension for the current token. */
  vectors: VectorSchema.nullable().default(null),
  /** Features seen fewer times than this in training are dropped. */
  minCount: z.number().int().min(1).default(1),
});

/** The filled token feature configuration. */
export type FeatureConfig = z.output<typeof FeatureConfigSchema>;
