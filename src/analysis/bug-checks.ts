/**
 * Bugs versus errors: checks that reveal implementation bugs in a model or its pipeline, reported
 * apart from ordinary model errors. Each check runs on a sample of the examples:
 *
 * - `valid-output`: one prediction per input; spans with integer offsets inside the text,
 *   start < end, a label from the label set, a score in [0, 1] and (unless overlaps are allowed)
 *   no overlap with another span of the same example; class labels from the label set with scores
 *   in [0, 1], at most one label for single-label classification. Spans that do not start and end
 *   on token boundaries, scores not sorted best first and a single-label choice that is not the
 *   top-scored class are reported as `warning:` details and do not fail the check.
 * - `batch-equals-single`: predicting a batch gives the same as predicting each input alone
 *   (scores within 1e-6).
 * - `repeat-determinism`: predicting the same batch twice gives identical results.
 * - `tokenization-lossless`: the tokenizer's tokens carry their own text (`text.slice(start, end)`),
 *   come in order without overlapping, and cover every non-whitespace character; examples' stored
 *   tokens are checked the same way.
 *
 * {@link seedDeterminismCheck} trains twice with the same seed and compares the predictions.
 */
import { ConfigError } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import type { Example, TaskKind, Token } from '../data/types.ts';
import {
  type LabelScore,
  type Model,
  type ModelInput,
  type Prediction,
  predictMany,
} from '../models/model.ts';
import { tokenize as defaultTokenize } from '../text/tokenizer.ts';

/** The outcome of one bug check. */
export interface BugCheck {
  name: string;
  passed: boolean;
  /** One line: what was checked and what was found. */
  summary: string;
  /** The first few offending examples (details starting with `warning:` do not fail the check). */
  examples: { exampleId: string; detail: string }[];
}

/** Options for {@link runBugChecks}. */
export interface BugCheckOptions {
  task: TaskKind;
  /** The project's label set; labels outside it are reported (not checked when absent). */
  labels?: readonly string[];
  /** Number of examples checked, drawn with a fixed seed when there are more (default 200). */
  sample?: number;
  /** Seed of the sample (default 0). */
  seed?: number;
  /** Whether predicted entities may overlap (nested NER); default false. */
  allowOverlaps?: boolean;
  /** The tokenizer under test (default: Sapphire's tokenizer). */
  tokenize?: (text: string) => Token[];
  /** Most offending examples listed per check (default 10). */
  maxDetails?: number;
}

/** Default number of examples the bug checks run on. */
export const DEFAULT_BUG_CHECK_SAMPLE = 200;
const DEFAULT_MAX_DETAILS = 10;
const BATCH_TOLERANCE = 1e-6;
const REPEAT_TOLERANCE = 0;
const WARNING = 'warning: ';

type Detail = { exampleId: string; detail: string };

function sampleExamples(examples: readonly Example[], size: number, seed: number): Example[] {
  if (examples.length <= size) return [...examples];
  const indices = createRng(seed).shuffle(examples.map((_, i) => i));
  return indices
    .slice(0, Math.max(0, size))
    .sort((a, b) => a - b)
    .map((i) => examples[i]!);
}

/** The model input for an example: its text, with its tokens when it has them. */
export function inputOf(example: Example): ModelInput {
  return example.tokens ? { text: example.text, tokens: example.tokens } : { text: example.text };
}

function finish(name: string, what: string, found: Detail[], maxDetails: number): BugCheck {
  const errors = found.filter((d) => !d.detail.startsWith(WARNING));
  const warnings = found.length - errors.length;
  const affected = (ds: Detail[]) => new Set(ds.map((d) => d.exampleId)).size;
  const parts: string[] = [];
  if (errors.length > 0) parts.push(`${errors.length} problem(s) in ${affected(errors)} example(s)`);
  if (warnings > 0) parts.push(`${warnings} warning(s)`);
  const summary = `${what}: ${parts.length > 0 ? parts.join(', ') : 'ok'}`;
  // Errors are listed before warnings so the failures are always visible.
  const listed = [...errors, ...found.filter((d) => d.detail.startsWith(WARNING))].slice(0, maxDetails);
  return { name, passed: errors.length === 0, summary, examples: listed };
}

function isProbability(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1;
}

function tokenBoundaries(tokens: readonly Token[]): { starts: Set<number>; ends: Set<number> } {
  return { starts: new Set(tokens.map((t) => t.start)), ends: new Set(tokens.map((t) => t.end)) };
}

function scoreProblems(scores: readonly LabelScore[], labelSet: Set<string> | null): string[] {
  const out: string[] = [];
  scores.forEach((s, j) => {
    if (typeof s?.label !== 'string' || s.label === '') out.push(`scores[${j}] has no label`);
    else if (labelSet && !labelSet.has(s.label))
      out.push(`scores[${j}] label "${s.label}" is not in the label set`);
    if (!isProbability(s?.score)) out.push(`scores[${j}] score ${String(s?.score)} is not in [0, 1]`);
  });
  for (let j = 1; j < scores.length; j++) {
    if (scores[j]!.score > scores[j - 1]!.score) {
      out.push(`${WARNING}scores are not sorted best first (scores[${j}] > scores[${j - 1}])`);
      break;
    }
  }
  return out;
}

function predictionProblems(
  example: Example,
  prediction: Prediction | undefined,
  options: BugCheckOptions,
  tokenizer: (text: string) => Token[],
): string[] {
  if (prediction === null || typeof prediction !== 'object') return ['no prediction returned'];
  const labelSet = options.labels ? new Set(options.labels) : null;
  const out: string[] = [];
  if (options.task === 'ner') {
    const spans = prediction.spans ?? [];
    const length = example.text.length;
    let boundaries: ReturnType<typeof tokenBoundaries> | undefined;
    spans.forEach((s, j) => {
      const where = `spans[${j}]`;
      const { start, end, label, score } = s ?? ({} as Partial<typeof s>);
      if (!Number.isInteger(start) || !Number.isInteger(end)) {
        out.push(`${where} offsets [${String(start)}, ${String(end)}) are not integers`);
        return;
      }
      if (start! >= end!) out.push(`${where} is empty or reversed: start ${start} ≥ end ${end}`);
      if (start! < 0 || end! > length)
        out.push(`${where} [${start}, ${end}) is outside the text (length ${length})`);
      if (typeof label !== 'string' || label === '') out.push(`${where} has no label`);
      else if (labelSet && !labelSet.has(label))
        out.push(`${where} label "${label}" is not in the label set`);
      if (!isProbability(score)) out.push(`${where} score ${String(score)} is not in [0, 1]`);
      if (start! < end! && start! >= 0 && end! <= length) {
        boundaries ??= tokenBoundaries(example.tokens ?? tokenizer(example.text));
        if (!boundaries.starts.has(start!) || !boundaries.ends.has(end!)) {
          out.push(
            `${WARNING}${where} ${JSON.stringify(example.text.slice(start, end))} [${start}, ${end}) is not on token boundaries`,
          );
        }
      }
    });
    if (!options.allowOverlaps) {
      const ordered = spans
        .map((s, j) => ({ s, j }))
        .filter(({ s }) => Number.isInteger(s?.start) && Number.isInteger(s?.end) && s.start < s.end)
        .sort((a, b) => a.s.start - b.s.start || a.s.end - b.s.end);
      for (let k = 1; k < ordered.length; k++) {
        const prev = ordered[k - 1]!;
        const cur = ordered[k]!;
        if (cur.s.start < prev.s.end) {
          out.push(
            `spans[${prev.j}] [${prev.s.start}, ${prev.s.end}) and spans[${cur.j}] [${cur.s.start}, ${cur.s.end}) overlap`,
          );
        }
      }
    }
    return out;
  }
  const labels = prediction.labels ?? [];
  labels.forEach((label, j) => {
    if (typeof label !== 'string' || label === '') out.push(`labels[${j}] is not a non-empty string`);
    else if (labelSet && !labelSet.has(label)) out.push(`label "${label}" is not in the label set`);
  });
  if (options.task === 'classify' && labels.length > 1) {
    out.push(`${labels.length} labels predicted for single-label classification`);
  }
  if (new Set(labels).size < labels.length) out.push('a label is predicted twice');
  const scores = prediction.scores ?? [];
  out.push(...scoreProblems(scores, labelSet));
  if (options.task === 'classify' && labels.length === 1 && scores.length > 0) {
    const top = Math.max(...scores.map((s) => s.score));
    const chosen = scores.find((s) => s.label === labels[0]);
    if (chosen === undefined || chosen.score < top) {
      out.push(`${WARNING}predicted label "${labels[0]}" is not the top-scored class`);
    }
  }
  return out;
}

function formatNumber(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : String(x);
}

function describeSpans(p: Prediction): string {
  const spans = p.spans ?? [];
  if (spans.length === 0) return 'no entities';
  return spans.map((s) => `${s.label}[${s.start},${s.end})@${formatNumber(s.score)}`).join(' ');
}

function describeClasses(p: Prediction): string {
  const labels = p.labels ? `[${p.labels.join(', ')}]` : '(no labels)';
  const scores = (p.scores ?? []).map((s) => `${s.label}@${formatNumber(s.score)}`).join(' ');
  return scores ? `${labels} ${scores}` : labels;
}

function close(a: number, b: number, tolerance: number): boolean {
  return a === b || Math.abs(a - b) <= tolerance;
}

/**
 * Describes how two predictions for the same input differ (labels, spans, scores within `tolerance`),
 * or returns null when they agree.
 *
 * @example
 * predictionDifference({ labels: ['a'] }, { labels: ['b'] }, 0); // 'first: [a]; second: [b]'
 */
export function predictionDifference(
  first: Prediction | undefined,
  second: Prediction | undefined,
  tolerance: number,
  names: [string, string] = ['first', 'second'],
): string | null {
  const a = first ?? {};
  const b = second ?? {};
  const sa = a.spans ?? [];
  const sb = b.spans ?? [];
  const spansDiffer =
    sa.length !== sb.length ||
    sa.some((s, i) => {
      const t = sb[i]!;
      return (
        s.start !== t.start || s.end !== t.end || s.label !== t.label || !close(s.score, t.score, tolerance)
      );
    });
  if (spansDiffer) return `${names[0]}: ${describeSpans(a)}; ${names[1]}: ${describeSpans(b)}`;
  const la = a.labels ?? null;
  const lb = b.labels ?? null;
  const ca = a.scores ?? [];
  const cb = b.scores ?? [];
  const labelsDiffer =
    (la === null) !== (lb === null) ||
    (la !== null && lb !== null && (la.length !== lb.length || la.some((l, i) => l !== lb[i])));
  const scoresDiffer =
    ca.length !== cb.length ||
    ca.some((s, i) => s.label !== cb[i]!.label || !close(s.score, cb[i]!.score, tolerance));
  if (labelsDiffer || scoresDiffer)
    return `${names[0]}: ${describeClasses(a)}; ${names[1]}: ${describeClasses(b)}`;
  return null;
}

function tokenizationProblems(text: string, tokens: readonly Token[]): string[] {
  const out: string[] = [];
  let previousEnd = 0;
  const covered = new Uint8Array(text.length);
  tokens.forEach((t, j) => {
    const { start, end } = t;
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(end) ||
      start < 0 ||
      end > text.length ||
      start >= end
    ) {
      out.push(
        `token ${j} ${JSON.stringify(t.text)} has offsets [${start}, ${end}) outside the text or empty`,
      );
      return;
    }
    if (text.slice(start, end) !== t.text) {
      out.push(
        `token ${j} text ${JSON.stringify(t.text)} differs from the text at [${start}, ${end}): ${JSON.stringify(text.slice(start, end))}`,
      );
    }
    if (start < previousEnd)
      out.push(`token ${j} [${start}, ${end}) overlaps or precedes the previous token`);
    previousEnd = Math.max(previousEnd, end);
    covered.fill(1, start, end);
  });
  // Lost characters, grouped into runs of adjacent ones: [start, end) in UTF-16 offsets.
  const runs: [number, number][] = [];
  let lostCount = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (!/\s/u.test(String.fromCodePoint(cp)) && !covered[i]) {
      lostCount++;
      const last = runs[runs.length - 1];
      if (last && last[1] === i) last[1] = i + width;
      else runs.push([i, i + width]);
    }
    i += width;
  }
  if (runs.length > 0) {
    const shown = runs
      .slice(0, 5)
      .map(([start, end]) => `${JSON.stringify(text.slice(start, end))} at ${start}`)
      .join(', ');
    out.push(`${lostCount} non-space character(s) in no token: ${shown}${runs.length > 5 ? ', …' : ''}`);
  }
  return out;
}

function labelled(exampleId: string, details: readonly string[]): Detail[] {
  return details.map((detail) => ({ exampleId, detail }));
}

/**
 * Runs the bug checks on a fitted model over a sample of examples; each check is reported separately.
 *
 * @example
 * const checks = await runBugChecks(model, dev, { task: 'ner', labels: card.labels });
 * checks.filter((c) => !c.passed).map((c) => c.summary);
 */
export async function runBugChecks(
  model: Model,
  examples: readonly Example[],
  options: BugCheckOptions,
): Promise<BugCheck[]> {
  if (model.task !== options.task) {
    throw new ConfigError(`model ${model.name} solves task ${model.task}, not ${options.task}`, {
      path: 'task',
      hint: "check the model against the problem card's task",
    });
  }
  const sample = sampleExamples(examples, options.sample ?? DEFAULT_BUG_CHECK_SAMPLE, options.seed ?? 0);
  const maxDetails = options.maxDetails ?? DEFAULT_MAX_DETAILS;
  const tokenizer = options.tokenize ?? defaultTokenize;
  const inputs = sample.map(inputOf);
  const batch = await predictMany(model, inputs);
  const n = sample.length;

  const validity: Detail[] = [];
  if (batch.length !== n) {
    validity.push({ exampleId: '(batch)', detail: `${batch.length} predictions returned for ${n} inputs` });
  }
  sample.forEach((example, i) => {
    if (i < batch.length)
      validity.push(...labelled(example.id, predictionProblems(example, batch[i], options, tokenizer)));
  });

  const batchDiffs: Detail[] = [];
  for (const [i, example] of sample.entries()) {
    const single = await predictMany(model, [inputs[i]!]);
    const diff =
      single.length !== 1
        ? `${single.length} predictions returned for one input`
        : predictionDifference(batch[i], single[0], BATCH_TOLERANCE, ['batch', 'single']);
    if (diff) batchDiffs.push({ exampleId: example.id, detail: diff });
  }

  const again = await predictMany(model, inputs);
  const repeatDiffs: Detail[] = [];
  if (again.length !== batch.length) {
    repeatDiffs.push({ exampleId: '(batch)', detail: `${batch.length} then ${again.length} predictions` });
  }
  sample.forEach((example, i) => {
    const diff = predictionDifference(batch[i], again[i], REPEAT_TOLERANCE, ['first', 'second']);
    if (diff) repeatDiffs.push({ exampleId: example.id, detail: diff });
  });

  const tokenDiffs: Detail[] = [];
  for (const example of sample) {
    tokenDiffs.push(...labelled(example.id, tokenizationProblems(example.text, tokenizer(example.text))));
    if (example.tokens) {
      tokenDiffs.push(
        ...labelled(
          example.id,
          tokenizationProblems(example.text, example.tokens).map((d) => `stored tokens: ${d}`),
        ),
      );
    }
  }

  return [
    finish(
      'valid-output',
      `${n} predictions checked for invalid spans, labels and scores`,
      validity,
      maxDetails,
    ),
    finish('batch-equals-single', `${n} inputs predicted in a batch and one by one`, batchDiffs, maxDetails),
    finish('repeat-determinism', `${n} inputs predicted twice`, repeatDiffs, maxDetails),
    finish('tokenization-lossless', `${n} texts tokenized`, tokenDiffs, maxDetails),
  ];
}

/** Options for {@link seedDeterminismCheck}. */
export interface SeedDeterminismOptions {
  /** Most training examples used (a seeded sample; default 200). */
  maxTrain?: number;
  /** Most probe examples predicted (a seeded sample; default 200). */
  maxProbe?: number;
  /** Most differing examples listed (default 10). */
  maxDetails?: number;
}

/**
 * Trains two fresh models with the same seed on a small sample and checks that they predict the
 * same (exactly) on the probe examples.
 *
 * @example
 * const check = await seedDeterminismCheck(() => createModel('crf.v1', { task: 'ner' }), train, dev, 7);
 * check.passed; // true for a deterministic trainer
 */
export async function seedDeterminismCheck(
  create: () => Model,
  train: readonly Example[],
  probe: readonly Example[],
  seed: number,
  options: SeedDeterminismOptions = {},
): Promise<BugCheck> {
  const trainSample = sampleExamples(train, options.maxTrain ?? DEFAULT_BUG_CHECK_SAMPLE, seed);
  const probeSample = sampleExamples(probe, options.maxProbe ?? DEFAULT_BUG_CHECK_SAMPLE, seed);
  const first = create();
  const second = create();
  await first.fit(
    trainSample.map((e) => ({ ...e })),
    undefined,
    { seed },
  );
  await second.fit(
    trainSample.map((e) => ({ ...e })),
    undefined,
    { seed },
  );
  const inputs = probeSample.map(inputOf);
  const a = await predictMany(first, inputs);
  const b = await predictMany(second, inputs);
  const diffs: Detail[] = [];
  probeSample.forEach((example, i) => {
    const diff = predictionDifference(a[i], b[i], REPEAT_TOLERANCE, ['first fit', 'second fit']);
    if (diff) diffs.push({ exampleId: example.id, detail: diff });
  });
  return finish(
    'seed-determinism',
    `two fits with seed ${seed} on ${trainSample.length} examples, ${probeSample.length} predictions compared`,
    diffs,
    options.maxDetails ?? DEFAULT_MAX_DETAILS,
  );
}
