/**
 * The sketches of one model version over one time bucket: what was predicted (heavy hitters of labels and
 * entities), how many distinct texts and tokens, confidence and input-length quantiles, and out-of-vocabulary
 * tokens against the model's reference profile. Bounded memory whatever the traffic, serialisable, mergeable.
 */
import { SapphireError } from '../core/errors.ts';
import { hash32 } from '../core/hash32.ts';
import { entityKey, type ReferenceProfile } from '../train/reference-profile.ts';
import { HashSet32 } from './sketches/hash-set32.ts';
import { HyperLogLog, type HyperLogLogState } from './sketches/hyperloglog.ts';
import { QuantileSketch, type QuantileSketchState } from './sketches/quantiles.ts';
import { SpaceSaving, type SpaceSavingState } from './sketches/space-saving.ts';
import { scanAscii, scanLowered, scratch, tokenString } from './token-scan.ts';

/** Counters per sketch: labels are exact up to this many distinct labels. */
export const SKETCH_CAPACITY = { labels: 512, entities: 128, newEntities: 64, oovTokens: 128 } as const;

/** HyperLogLog precision of the distinct counters (2^12 registers: 1.6% standard error). */
export const HLL_PRECISION = 12;

/** A served answer as monitoring reads it (a ServedResult fits): chosen labels or entities with confidences. */
export interface MonitoredAnswer {
  labels?: readonly { label: string; score: number }[];
  entities?: readonly { label: string; text: string; score: number }[];
}

/** A reference profile prepared for lookups on the hot path. */
export interface ProfileIndex {
  profile: ReferenceProfile;
  /**
   * The vocabulary as 32-bit token hashes: a token is looked up by the hash computed while scanning, without
   * slicing or rehashing it (a random unseen token collides with a 100k vocabulary with probability ~2e-5).
   */
  vocabulary: ReadonlySet<number>;
  entities: ReadonlySet<string>;
  /** The same vocabulary as an open-addressing table of hashes (built on first use when absent). */
  vocabularyTable?: HashSet32;
}

/** The index's vocabulary table, built once. */
function vocabularyTable(index: ProfileIndex): HashSet32 {
  index.vocabularyTable ??= new HashSet32(index.vocabulary);
  return index.vocabularyTable;
}

/** Prepares a profile's vocabulary and entity sets for {@link PredictionSketch.observe}. */
export function indexProfile(profile: ReferenceProfile): ProfileIndex {
  const vocabulary = new Set(profile.vocabulary.map((token) => hash32(token)));
  return {
    profile,
    vocabulary,
    entities: new Set(profile.entities),
    vocabularyTable: new HashSet32(vocabulary),
  };
}

/** Serialisable state of a {@link PredictionSketch}. */
export interface PredictionSketchState {
  format: 1;
  items: number;
  tokens: number;
  /** Tokens checked against a vocabulary (0 while the model had no profile). */
  checkedTokens: number;
  oovTokens: number;
  labels: SpaceSavingState;
  entities: SpaceSavingState;
  newEntities: SpaceSavingState;
  oov: SpaceSavingState;
  texts: HyperLogLogState;
  vocabulary: HyperLogLogState;
  confidence: QuantileSketchState;
  length: QuantileSketchState;
}

/**
 * Streaming sketches of predictions: heavy hitters (Space-Saving) of labels, entities, entities unseen in training
 * and out-of-vocabulary tokens; HyperLogLog distinct texts and tokens; DDSketch quantiles of confidence and of
 * input length in tokens; exact counts of items, tokens and OOV tokens.
 *
 * @example
 * const sketch = new PredictionSketch();
 * sketch.observe('where is my card', { labels: [{ label: 'card_arrival', score: 0.93 }] }, index);
 * sketch.merge(PredictionSketch.fromState(otherReplica));
 */
export class PredictionSketch {
  items = 0;
  tokens = 0;
  checkedTokens = 0;
  oovTokens = 0;
  readonly labels: SpaceSaving;
  readonly entities: SpaceSaving;
  readonly newEntities: SpaceSaving;
  readonly oov: SpaceSaving;
  readonly texts: HyperLogLog;
  readonly vocabulary: HyperLogLog;
  readonly confidence: QuantileSketch;
  readonly length: QuantileSketch;

  constructor(
    parts: Partial<
      Pick<
        PredictionSketch,
        'labels' | 'entities' | 'newEntities' | 'oov' | 'texts' | 'vocabulary' | 'confidence' | 'length'
      >
    > = {},
  ) {
    this.labels = parts.labels ?? new SpaceSaving(SKETCH_CAPACITY.labels);
    this.entities = parts.entities ?? new SpaceSaving(SKETCH_CAPACITY.entities);
    this.newEntities = parts.newEntities ?? new SpaceSaving(SKETCH_CAPACITY.newEntities);
    this.oov = parts.oov ?? new SpaceSaving(SKETCH_CAPACITY.oovTokens);
    this.texts = parts.texts ?? new HyperLogLog(HLL_PRECISION);
    this.vocabulary = parts.vocabulary ?? new HyperLogLog(HLL_PRECISION);
    this.confidence = parts.confidence ?? new QuantileSketch();
    this.length = parts.length ?? new QuantileSketch();
  }

  /** Observes one served answer on one text; with a profile, tokens and entities are checked against training. */
  observe(text: string, answer: MonitoredAnswer, profile: ProfileIndex | null): void {
    this.items++;
    // One pass over an ASCII text hashes it and finds its tokens; other texts are lowercased and scanned again.
    let count = scanAscii(text);
    let source = text;
    if (count < 0) {
      this.texts.addHash(hash32(text));
      source = text.toLowerCase();
      count = scanLowered(source);
    } else this.texts.addHash(scratch.textHash);
    const hashes = scratch.hashes;
    const vocabulary = profile ? vocabularyTable(profile) : null;
    for (let t = 0; t < count; t++) {
      const hash = hashes[t]!;
      this.vocabulary.addHash(hash >>> 0);
      if (vocabulary && !vocabulary.has(hash)) {
        this.oovTokens++;
        this.oov.add(tokenString(source, scratch.starts[t]!, scratch.ends[t]!, hash));
      }
    }
    this.tokens += count;
    this.length.add(count);
    if (vocabulary) this.checkedTokens += count;
    if (answer.entities) {
      for (const e of answer.entities) {
        this.labels.add(e.label);
        this.confidence.add(e.score);
        const key = entityKey(e.label, e.text);
        this.entities.add(key);
        if (profile && !profile.entities.has(key)) this.newEntities.add(key);
      }
    } else if (answer.labels) {
      for (const l of answer.labels) {
        this.labels.add(l.label);
        this.confidence.add(l.score);
      }
    }
  }

  /** Adds another sketch (another bucket or replica) into this one. */
  merge(other: PredictionSketch): this {
    this.items += other.items;
    this.tokens += other.tokens;
    this.checkedTokens += other.checkedTokens;
    this.oovTokens += other.oovTokens;
    this.labels.merge(other.labels);
    this.entities.merge(other.entities);
    this.newEntities.merge(other.newEntities);
    this.oov.merge(other.oov);
    this.texts.merge(other.texts);
    this.vocabulary.merge(other.vocabulary);
    this.confidence.merge(other.confidence);
    this.length.merge(other.length);
    return this;
  }

  /** The state as JSON-safe data (what replicas publish to the store). */
  toState(): PredictionSketchState {
    return {
      format: 1,
      items: this.items,
      tokens: this.tokens,
      checkedTokens: this.checkedTokens,
      oovTokens: this.oovTokens,
      labels: this.labels.toState(),
      entities: this.entities.toState(),
      newEntities: this.newEntities.toState(),
      oov: this.oov.toState(),
      texts: this.texts.toState(),
      vocabulary: this.vocabulary.toState(),
      confidence: this.confidence.toState(),
      length: this.length.toState(),
    };
  }

  /** A sketch from {@link toState}'s output; BAD_INPUT when the state is not one. */
  static fromState(state: unknown): PredictionSketch {
    const s = state as Partial<PredictionSketchState> | null;
    if (s?.format !== 1 || typeof s.items !== 'number')
      throw new SapphireError('BAD_INPUT', 'malformed monitoring sketch state: expected format 1', {
        hint: 'the state was written by another version of sapphire; it is skipped',
      });
    const sketch = new PredictionSketch({
      labels: SpaceSaving.fromState(s.labels!),
      entities: SpaceSaving.fromState(s.entities!),
      newEntities: SpaceSaving.fromState(s.newEntities!),
      oov: SpaceSaving.fromState(s.oov!),
      texts: HyperLogLog.fromState(s.texts!),
      vocabulary: HyperLogLog.fromState(s.vocabulary!),
      confidence: QuantileSketch.fromState(s.confidence!),
      length: QuantileSketch.fromState(s.length!),
    });
    sketch.items = s.items;
    sketch.tokens = s.tokens ?? 0;
    sketch.checkedTokens = s.checkedTokens ?? 0;
    sketch.oovTokens = s.oovTokens ?? 0;
    return sketch;
  }
}
