/**
 * The reference profile saved with every trained model (`reference-profile.json` in the model folder): what the
 * training data and the model's predictions on held-out data looked like — label distribution, input lengths,
 * confidences, vocabulary and entity surfaces — so that a server can tell whether live traffic still looks like it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SapphireError } from '../core/errors.ts';
import { FNV_OFFSET, mix32, stepHash } from '../core/hash32.ts';
import type { Example, TaskKind } from '../data/types.ts';
import type { Prediction } from '../models/model.ts';

/** File name of the profile inside a model folder. */
export const REFERENCE_PROFILE_FILE = 'reference-profile.json';

/** Format tag and version written into every profile. */
export const REFERENCE_PROFILE_FORMAT = 'sapphire.reference-profile/1';

/** Most frequent training tokens kept as the vocabulary (rarer ones count as out-of-vocabulary). */
export const MAX_PROFILE_VOCABULARY = 100_000;

/** Most frequent training entity surfaces kept (NER). */
export const MAX_PROFILE_ENTITIES = 50_000;

/** Confidence histogram bins over [0, 1]. */
export const CONFIDENCE_BINS = 100;

/** What a model was trained on and how it answered on held-out data. */
export interface ReferenceProfile {
  format: typeof REFERENCE_PROFILE_FORMAT;
  task: TaskKind;
  architecture: string;
  createdAt: string;
  /** The set the predictions were made on: `dev`, else `test`, else `train`. */
  referenceSet: string;
  counts: { train: number; reference: number };
  /** Predicted labels (classes, or entity types for NER) on the reference set. */
  labels: Record<string, number>;
  /** Gold labels of the training set. */
  trainLabels: Record<string, number>;
  /** Token counts per text of the reference set: length → texts. */
  lengths: Record<string, number>;
  /** Confidences on the reference set (top class, or each entity) in {@link CONFIDENCE_BINS} equal bins. */
  confidence: number[];
  /** Mean confidence on the reference set (null without predictions). */
  meanConfidence: number | null;
  /** Training tokens (lowercased words), most frequent first, at most {@link MAX_PROFILE_VOCABULARY}. */
  vocabulary: string[];
  /** Share of the reference set's tokens not in `vocabulary` (0 when the reference set is the training set). */
  oovRate: number;
  /** NER: training entity surfaces as `LABEL\ttext` (lowercased), most frequent first. */
  entities: string[];
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Matches a text with any non-ASCII character: such texts are lowercased before {@link scanMonitorTokens}. */
export const NON_ASCII = /[\u0080-\uffff]/;

/** Whether a UTF-16 code unit belongs to a word: ASCII letters and digits by table, the rest by Unicode class. */
function isWordCode(code: number, text: string, at: number): boolean {
  if (code < 128)
    return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
  // Surrogate pairs: judge the whole code point.
  return LETTER_OR_DIGIT.test(String.fromCodePoint(text.codePointAt(at) ?? code));
}

/**
 * The tokens monitoring counts: lowercased runs of letters and digits. Training profiles and live sketches use
 * this one function, so out-of-vocabulary rates compare like with like (whatever the model's own tokenizer is).
 * A hand-written scan (ASCII by table) rather than a Unicode regex: it runs on every served prediction.
 *
 * @example
 * monitorTokens("Where's my NEW card?"); // ['where', 's', 'my', 'new', 'card']
 */
export function monitorTokens(text: string): string[] {
  const out: string[] = [];
  forEachMonitorToken(text, (token) => out.push(token));
  return out;
}

/**
 * Calls `visit` with each token of {@link monitorTokens} and its {@link hash32}, computed during the one scan (the
 * live sketches' hot path: no second pass over the characters).
 */
export function forEachMonitorToken(text: string, visit: (token: string, hash: number) => void): void {
  const lower = text.toLowerCase();
  scanMonitorTokens(lower, (start, end, hash) => visit(lower.slice(start, end), hash));
}

/**
 * The allocation-free scan behind {@link forEachMonitorToken}: calls `visit` with each token's start and end and the
 * {@link hash32} of the lowercased token; the caller slices (and lowercases) only the tokens it keeps. ASCII
 * capitals are lowercased on the fly, so a pure-ASCII text needs no lowercased copy; any other text must be
 * lowercased by the caller first ({@link NON_ASCII} tells which).
 */
export function scanMonitorTokens(
  lower: string,
  visit: (start: number, end: number, hash: number) => void,
): void {
  let start = -1;
  let h = FNV_OFFSET;
  for (let i = 0; i < lower.length; i++) {
    const raw = lower.charCodeAt(i);
    const code = raw >= 65 && raw <= 90 ? raw + 32 : raw;
    // A low surrogate continues the code point its high surrogate started.
    const prev = i > 0 ? lower.charCodeAt(i - 1) : 0;
    const word =
      code >= 0xdc00 && code <= 0xdfff
        ? start >= 0 && prev >= 0xd800 && prev <= 0xdbff
        : isWordCode(code, lower, i);
    if (word) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET;
      }
      h = stepHash(h, code);
    } else if (start >= 0) {
      visit(start, i, mix32(h));
      start = -1;
    }
  }
  if (start >= 0) visit(start, lower.length, mix32(h));
}

/**
 * The confidences monitoring watches in one prediction: each chosen class's probability (as a served answer
 * reports them), or each entity's score.
 */
export function predictionConfidences(prediction: Prediction): number[] {
  if (prediction.spans) return prediction.spans.map((s) => s.score);
  const scores = prediction.scores ?? [];
  const out: number[] = [];
  for (const label of prediction.labels ?? []) {
    const score = scores.find((s) => s.label === label)?.score;
    if (score !== undefined) out.push(score);
  }
  return out;
}

/** The labels monitoring counts in one prediction: chosen classes, or entity types. */
export function predictionLabels(prediction: Prediction): string[] {
  if (prediction.spans) return prediction.spans.map((s) => s.label);
  return prediction.labels ?? [];
}

/** The key an entity surface is counted under: `LABEL\tlowercased text`. */
export function entityKey(label: string, surface: string): string {
  return `${label}\t${surface.toLowerCase()}`;
}

function inc(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function topKeys(counts: Map<string, number>, max: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([k]) => k);
}

/** Input to {@link buildReferenceProfile}. */
export interface ProfileInput {
  task: TaskKind;
  architecture: string;
  train: readonly Example[];
  /** The held-out set the model predicted, by name (`dev`, `test`), with its predictions; null: profile the training set. */
  reference: { name: string; examples: readonly Example[]; predictions: readonly Prediction[] } | null;
  /** Predictions on the training set, used when there is no held-out set. */
  trainPredictions?: readonly Prediction[];
}

/**
 * Computes the reference profile of a trained model from its training examples and its predictions on a
 * held-out set (dev, else test; the training set itself when there is neither).
 *
 * @example
 * const profile = buildReferenceProfile({ task: 'classify', architecture: 'linear.v1', train, reference: { name: 'dev', examples: dev, predictions } });
 */
export function buildReferenceProfile(input: ProfileInput): ReferenceProfile {
  const tokenCounts = new Map<string, number>();
  const trainLabels = new Map<string, number>();
  const entities = new Map<string, number>();
  for (const e of input.train) {
    for (const t of monitorTokens(e.text)) inc(tokenCounts, t);
    if (input.task === 'ner')
      for (const s of e.spans ?? []) {
        inc(trainLabels, s.label);
        inc(entities, entityKey(s.label, e.text.slice(s.start, s.end)));
      }
    else for (const l of e.labels ?? []) inc(trainLabels, l);
  }
  const vocabulary = topKeys(tokenCounts, MAX_PROFILE_VOCABULARY);
  const vocab = new Set(vocabulary);
  const ref = input.reference ?? {
    name: 'train',
    examples: input.train,
    predictions: input.trainPredictions ?? [],
  };
  const labels = new Map<string, number>();
  const lengths = new Map<string, number>();
  const confidence: number[] = new Array(CONFIDENCE_BINS).fill(0);
  let confidenceSum = 0;
  let confidenceCount = 0;
  let tokens = 0;
  let oov = 0;
  ref.examples.forEach((e, i) => {
    const words = monitorTokens(e.text);
    inc(lengths, String(words.length));
    tokens += words.length;
    for (const w of words) if (!vocab.has(w)) oov++;
    const prediction = ref.predictions[i];
    if (!prediction) return;
    for (const l of predictionLabels(prediction)) inc(labels, l);
    for (const c of predictionConfidences(prediction)) {
      confidence[confidenceBin(c)]!++;
      confidenceSum += c;
      confidenceCount++;
    }
  });
  return {
    format: REFERENCE_PROFILE_FORMAT,
    task: input.task,
    architecture: input.architecture,
    createdAt: new Date().toISOString(),
    referenceSet: ref.name,
    counts: { train: input.train.length, reference: ref.examples.length },
    labels: Object.fromEntries([...labels].sort()),
    trainLabels: Object.fromEntries([...trainLabels].sort()),
    lengths: Object.fromEntries([...lengths].sort((a, b) => Number(a[0]) - Number(b[0]))),
    confidence,
    meanConfidence: confidenceCount > 0 ? confidenceSum / confidenceCount : null,
    vocabulary,
    oovRate: tokens > 0 ? oov / tokens : 0,
    entities: topKeys(entities, MAX_PROFILE_ENTITIES),
  };
}

/** The histogram bin of a confidence in [0, 1]. */
export function confidenceBin(value: number): number {
  const bin = Math.floor((Number.isFinite(value) ? value : 0) * CONFIDENCE_BINS);
  return Math.min(CONFIDENCE_BINS - 1, Math.max(0, bin));
}

/** Writes the profile into a model folder. */
export async function saveReferenceProfile(dir: string, profile: ReferenceProfile): Promise<void> {
  await writeFile(join(dir, REFERENCE_PROFILE_FILE), `${JSON.stringify(profile)}\n`);
}

/**
 * Reads the profile of a model folder: null when the folder has none (a model trained before profiles existed,
 * or registered from a folder made elsewhere); DATA_INVALID naming the file when it is malformed.
 */
export async function loadReferenceProfile(dir: string): Promise<ReferenceProfile | null> {
  const file = join(dir, REFERENCE_PROFILE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: Partial<ReferenceProfile>;
  try {
    parsed = JSON.parse(text) as Partial<ReferenceProfile>;
  } catch (error) {
    throw new SapphireError('DATA_INVALID', `${file} is not valid JSON: ${(error as Error).message}`, {
      file,
      hint: 'retrain the model to write a fresh reference profile',
    });
  }
  if (
    parsed.format !== REFERENCE_PROFILE_FORMAT ||
    !Array.isArray(parsed.vocabulary) ||
    !Array.isArray(parsed.confidence) ||
    typeof parsed.labels !== 'object' ||
    typeof parsed.lengths !== 'object'
  )
    throw new SapphireError(
      'DATA_INVALID',
      `${file} is not a ${REFERENCE_PROFILE_FORMAT} reference profile`,
      { file, hint: 'retrain the model with this version of sapphire to write a fresh reference profile' },
    );
  return parsed as ReferenceProfile;
}
