/**
 * Behavioural tests (CheckList-style), declared under `behaviour:` in `sapphire.yaml`:
 *
 * - `invariance`: perturb source texts (swap entity names, change casing or punctuation, append, …); predictions
 *   must not change, apart from the offsets the edit moved (a swapped name keeps its label at its new offsets).
 * - `directional`: perturb source texts and expect the class to change, stay, or become a given class, or the
 *   confidence of a class or of the entities to go up or down.
 * - `mft` (minimum functionality): fill a template with values and check each filled text like an earmark.
 *
 * Source texts come from a dataset (`data: name[:split]`, sampled down to `limit` with `seed`) or a `texts` list.
 */
import { z } from 'zod';
import { didYouMean } from '../core/config.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { Example, Span, TaskKind } from '../data/types.ts';
import { type Model, type PredictedSpan, type Prediction, predictMany } from '../models/model.ts';
import {
  checkExpectations,
  describeSpan,
  type Expectations,
  expectationsSchema,
  markEntities,
  type Range,
  wholeWordOccurrences,
} from './earmarks.ts';

const PERTURBATION_KEYS = ['swapEntities', 'casing', 'punctuation', 'append', 'prepend', 'replace'] as const;

/** Zod schema of a perturbation: exactly one of swapEntities, casing, punctuation, append, prepend, replace. */
export const perturbationSchema = z
  .strictObject({
    /** Per label, names to swap in for its entities (and for any of these names found in the text). */
    swapEntities: z
      .record(z.string().regex(/^\S+$/, 'labels cannot contain spaces'), z.array(z.string().min(1)).min(2))
      .optional(),
    casing: z.enum(['lower', 'upper', 'title']).optional(),
    /** strip: delete punctuation not between two letters or digits; add: end the text with "." */
    punctuation: z.enum(['strip', 'add']).optional(),
    append: z.string().min(1).optional(),
    prepend: z.string().min(1).optional(),
    /** Replace whole-word occurrences of `from` with `to`. */
    replace: z.strictObject({ from: z.string().min(1), to: z.string() }).optional(),
  })
  .superRefine((p, ctx) => {
    const given = PERTURBATION_KEYS.filter((k) => p[k] !== undefined);
    if (given.length !== 1)
      ctx.addIssue({
        code: 'custom',
        input: p,
        message:
          given.length === 0
            ? `give one of ${PERTURBATION_KEYS.join(', ')}`
            : `give only one perturbation per test (found ${given.join(', ')}); write one test for each`,
      });
  });

/** A perturbation of a behavioural test. */
export type Perturbation = z.output<typeof perturbationSchema>;

const TEST_NAME = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]*$/,
    'test names use letters, digits, "-", "_" and "." (e.g. brand-swap)',
  );

const commonFields = {
  name: TEST_NAME,
  description: z.string().optional(),
  /** Exit non-zero (`sapphire test`) when more than this share of the cases fails; null: only report. */
  maxFailureRate: z.number().min(0).max(1).nullable().default(null),
  /** At most this many cases (source examples sampled, or template fillings). */
  limit: z.int().min(1).default(200),
  /** Seed for sampling examples and picking swapped names. */
  seed: z.int().min(0).default(13),
};

const sourceFields = {
  /** Source examples: `dataset[:split]`. */
  data: z.string().min(1).optional(),
  /** Or source texts listed here. */
  texts: z.array(z.string().min(1)).min(1).optional(),
  perturb: perturbationSchema,
};

function checkSource(test: { data?: string; texts?: string[] }, ctx: z.RefinementCtx): void {
  if ((test.data === undefined) === (test.texts === undefined))
    ctx.addIssue({
      code: 'custom',
      path: [test.data === undefined ? 'data' : 'texts'],
      input: test,
      message: 'give either data (dataset[:split]) or texts (a list), not both and not neither',
    });
}

const invarianceSchema = z
  .strictObject({ type: z.literal('invariance'), ...commonFields, ...sourceFields })
  .superRefine(checkSource);

const directionSchema = z.enum(['up', 'down']);

const directionalExpectSchema = z
  .strictObject({
    /** changes: the predicted class differs; same: it does not; {to: X}: it becomes X. */
    class: z.union([z.enum(['changes', 'same']), z.strictObject({ to: z.string().min(1) })]).optional(),
    /** NER: the predicted entities (mapped through the edit) change or stay the same. */
    entities: z.enum(['changes', 'same']).optional(),
    /**
     * up: the confidence does not drop by more than `tolerance`; down: it does not rise by more than it (CheckList's
     * monotonic expectation). Of `label` (default: the originally predicted class), or of each original entity.
     */
    confidence: z
      .strictObject({
        direction: directionSchema,
        label: z.string().min(1).optional(),
        tolerance: z.number().min(0).max(1).default(0),
      })
      .optional(),
  })
  .superRefine((e, ctx) => {
    if (e.class === undefined && e.entities === undefined && e.confidence === undefined)
      ctx.addIssue({ code: 'custom', input: e, message: 'give class, entities or confidence' });
  });

const directionalSchema = z
  .strictObject({
    type: z.literal('directional'),
    ...commonFields,
    ...sourceFields,
    expect: directionalExpectSchema,
  })
  .superRefine(checkSource);

const PLACEHOLDER = /\{([A-Za-z_][\w-]*)\}/g;

const mftSchema = z
  .strictObject({
    type: z.literal('mft'),
    ...commonFields,
    limit: z.int().min(1).default(500),
    /** Text with `{placeholders}`, e.g. "{brand} running shoes". */
    template: z.string().min(1),
    /** Values for each placeholder; every combination is a case (sampled down to `limit`). */
    fill: z.record(z.string().regex(/^[A-Za-z_][\w-]*$/), z.array(z.string()).min(1)),
    /** Earmark expectations; `{placeholders}` in their strings are filled too. */
    expect: expectationsSchema,
  })
  .superRefine((t, ctx) => {
    const used = new Set([...t.template.matchAll(PLACEHOLDER)].map((m) => m[1]!));
    const filled = Object.keys(t.fill);
    for (const name of used)
      if (!filled.includes(name))
        ctx.addIssue({
          code: 'custom',
          path: ['fill'],
          input: t.fill,
          message: `the template uses {${name}} but fill has no values for it${didYouMean(name, filled)}`,
        });
    for (const name of filled)
      if (!used.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['fill', name],
          input: t.fill,
          message: `the template has no {${name}} placeholder`,
        });
  });

const TEST_TYPES = ['invariance', 'directional', 'mft'] as const;

/** Zod schema of one behavioural test (by its `type`). */
export const behaviourTestSchema = z.discriminatedUnion(
  'type',
  [invarianceSchema, directionalSchema, mftSchema],
  {
    error: (issue) => {
      const input = issue.input as Record<string, unknown> | undefined;
      if (typeof input !== 'object' || input === null || Array.isArray(input))
        return 'expected a mapping with type, name and the test’s fields';
      if (input.type === undefined) return `is required: give type: ${TEST_TYPES.join(' | ')}`;
      const type = String(input.type);
      return `unknown test type "${type}"; use one of ${TEST_TYPES.join(', ')}${didYouMean(type, TEST_TYPES)}`;
    },
  },
);

/** One behavioural test as declared in `sapphire.yaml`, defaults filled. */
export type BehaviourTest = z.output<typeof behaviourTestSchema>;

/**
 * Zod schema of the `behaviour:` section of the problem card: a list of tests with unique names.
 *
 * @example
 * behaviourTestsSchema.parse([{ type: 'invariance', name: 'lower', texts: ['Nike shoes'], perturb: { casing: 'lower' } }]);
 */
export const behaviourTestsSchema = z.array(behaviourTestSchema).superRefine((tests, ctx) => {
  const seen = new Map<string, number>();
  tests.forEach((t, i) => {
    const first = seen.get(t.name);
    if (first === undefined) seen.set(t.name, i);
    else
      ctx.addIssue({
        code: 'custom',
        path: [i, 'name'],
        input: t.name,
        message: `duplicate test name "${t.name}" (already used by behaviour.${first})`,
      });
  });
});

// ─── perturbations ──────────────────────────────────────────────────────────────────────────────

/** A replacement of `text.slice(start, end)` by `replacement` (an insertion when start === end). */
export interface TextEdit {
  start: number;
  end: number;
  replacement: string;
}

/** A perturbed text and the edits (sorted, non-overlapping, in original offsets) that made it. */
export interface PerturbedText {
  text: string;
  edits: TextEdit[];
}

/** Applies sorted, non-overlapping edits to a text. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = '';
  let at = 0;
  for (const edit of edits) {
    out += text.slice(at, edit.start) + edit.replacement;
    at = edit.end;
  }
  return out + text.slice(at);
}

/**
 * Maps a position of the original text into the edited text; `side` says where insertions at exactly that
 * position go (a span's start moves after them, its end stays before them). Undefined inside a replaced range.
 */
export function mapPosition(
  pos: number,
  edits: readonly TextEdit[],
  side: 'start' | 'end',
): number | undefined {
  let shift = 0;
  for (const edit of edits) {
    const isInsert = edit.start === edit.end;
    if (edit.end < pos || (edit.end === pos && (!isInsert || side === 'start'))) {
      shift += edit.replacement.length - (edit.end - edit.start);
      continue;
    }
    if (edit.start < pos && pos < edit.end) return undefined;
    break;
  }
  return pos + shift;
}

/** Maps a span through edits: its new offsets, or null when an edit cuts through it or removes all of it. */
export function mapSpan<S extends Range>(span: S, edits: readonly TextEdit[]): S | null {
  const start = mapPosition(span.start, edits, 'start');
  const end = mapPosition(span.end, edits, 'end');
  if (start === undefined || end === undefined || end <= start) return null;
  return { ...span, start, end };
}

const PUNCT = /\p{P}/u;
const ALNUM = /[\p{L}\p{N}]/u;
const APOSTROPHE = /['’]/u;

function casingEdits(text: string, casing: 'lower' | 'upper' | 'title'): TextEdit[] {
  const edits: TextEdit[] = [];
  const chars = [...text];
  let offset = 0;
  let inWord = false;
  let previous = '';
  for (const ch of chars) {
    let next: string;
    if (casing === 'lower') next = ch.toLowerCase();
    else if (casing === 'upper') next = ch.toUpperCase();
    else next = inWord ? ch.toLowerCase() : ch.toUpperCase();
    // Title case starts a word after anything but a letter, a digit or an apostrophe inside a word (don't).
    inWord = ALNUM.test(ch) || (inWord && APOSTROPHE.test(ch) && ALNUM.test(previous));
    // Characters whose case mapping changes their length (ß → SS) are kept, so every offset stays put.
    if (next !== ch && next.length === ch.length)
      edits.push({ start: offset, end: offset + ch.length, replacement: next });
    offset += ch.length;
    previous = ch;
  }
  return edits;
}

function punctuationEdits(text: string, mode: 'strip' | 'add'): TextEdit[] {
  if (mode === 'add') {
    const last = [...text].pop() ?? '';
    return last === '' || PUNCT.test(last)
      ? []
      : [{ start: text.length, end: text.length, replacement: '.' }];
  }
  const edits: TextEdit[] = [];
  for (let i = 0; i < text.length; i++) {
    if (!PUNCT.test(text[i]!)) continue;
    const between = i > 0 && i < text.length - 1 && ALNUM.test(text[i - 1]!) && ALNUM.test(text[i + 1]!);
    if (!between) edits.push({ start: i, end: i + 1, replacement: '' });
  }
  return edits;
}

function replaceEdits(text: string, from: string, to: string): TextEdit[] {
  return wholeWordOccurrences(text, from).map((start) => ({
    start,
    end: start + from.length,
    replacement: to,
  }));
}

/**
 * The edits that swap entity names: the example's gold entities of a listed label (when it has spans), otherwise
 * whole-word occurrences of the listed names; each surface is replaced by another name of its list, the same one
 * for every occurrence.
 */
function swapEdits(
  text: string,
  table: Record<string, string[]>,
  spans: readonly Span[] | undefined,
  rng: Rng,
): TextEdit[] {
  const targets: Range[] = [];
  const listOf = new Map<string, string[]>();
  for (const [label, names] of Object.entries(table)) {
    const gold = spans?.filter((s) => s.label === label) ?? [];
    const found: Range[] =
      gold.length > 0
        ? gold
        : [...names]
            .sort((a, b) => b.length - a.length)
            .flatMap((name) =>
              wholeWordOccurrences(text, name).map((start) => ({ start, end: start + name.length })),
            );
    for (const range of found) {
      if (targets.some((t) => t.start < range.end && range.start < t.end)) continue;
      targets.push(range);
      listOf.set(`${range.start}:${range.end}`, names);
    }
  }
  targets.sort((a, b) => a.start - b.start);
  const chosen = new Map<string, string>();
  return targets.map((range) => {
    const surface = text.slice(range.start, range.end);
    const names = listOf.get(`${range.start}:${range.end}`)!;
    let replacement = chosen.get(surface);
    if (replacement === undefined) {
      const others = names.filter((n) => n.toLowerCase() !== surface.toLowerCase());
      replacement = others[rng.int(others.length)]!;
      chosen.set(surface, replacement);
    }
    return { ...range, replacement };
  });
}

/**
 * Perturbs a text; null when the perturbation does not apply to it (no name to swap, nothing to change).
 *
 * @example
 * perturbText('Nike shoes', { swapEntities: { BRAND: ['Nike', 'Puma'] } }, { rng: createRng(1) })?.text; // 'Puma shoes'
 */
export function perturbText(
  text: string,
  perturbation: Perturbation,
  context: { spans?: readonly Span[]; rng: Rng },
): PerturbedText | null {
  let edits: TextEdit[];
  if (perturbation.swapEntities)
    edits = swapEdits(text, perturbation.swapEntities, context.spans, context.rng);
  else if (perturbation.casing) edits = casingEdits(text, perturbation.casing);
  else if (perturbation.punctuation) edits = punctuationEdits(text, perturbation.punctuation);
  else if (perturbation.append !== undefined)
    edits = [{ start: text.length, end: text.length, replacement: perturbation.append }];
  else if (perturbation.prepend !== undefined)
    edits = [{ start: 0, end: 0, replacement: perturbation.prepend }];
  else if (perturbation.replace)
    edits = replaceEdits(text, perturbation.replace.from, perturbation.replace.to);
  else edits = [];
  const perturbed = applyEdits(text, edits);
  return edits.length === 0 || perturbed === text ? null : { text: perturbed, edits };
}

// ─── comparisons ────────────────────────────────────────────────────────────────────────────────

/** What changed between the prediction on a text and on its perturbation, with the original entities mapped. */
export interface PredictionDiff {
  /** Entities expected after the edit (the original ones, moved) but not predicted. */
  lost: PredictedSpan[];
  /** Entities predicted after the edit that the original prediction did not have. */
  gained: PredictedSpan[];
  /** Class labels before and after. */
  labelsBefore: string[];
  labelsAfter: string[];
}

const key = (s: Range & { label: string }): string => `${s.start}:${s.end}:${s.label}`;

/**
 * Compares the predictions before and after a perturbation: entities are compared at their mapped offsets; where
 * an edit cuts through an original entity, entities around that edit are left out of the comparison.
 */
export function diffPredictions(
  before: Prediction,
  after: Prediction,
  edits: readonly TextEdit[],
): PredictionDiff {
  const blurred: Range[] = [];
  const expected: PredictedSpan[] = [];
  for (const span of before.spans ?? []) {
    const mapped = mapSpan(span, edits);
    if (mapped) {
      expected.push(mapped);
      continue;
    }
    for (const edit of edits) {
      if (edit.start < span.end && span.start < edit.end) {
        const start = mapPosition(edit.start, edits, 'start')!;
        blurred.push({ start, end: start + edit.replacement.length });
      }
    }
  }
  const inBlur = (s: Range) => blurred.some((b) => s.start < b.end && b.start < s.end);
  const kept = expected.filter((s) => !inBlur(s));
  const afterSpans = (after.spans ?? []).filter((s) => !inBlur(s));
  const afterKeys = new Set(afterSpans.map(key));
  const keptKeys = new Set(kept.map(key));
  return {
    lost: kept.filter((s) => !afterKeys.has(key(s))),
    gained: afterSpans.filter((s) => !keptKeys.has(key(s))),
    labelsBefore: [...(before.labels ?? [])].sort(),
    labelsAfter: [...(after.labels ?? [])].sort(),
  };
}

const sameLabels = (d: PredictionDiff): boolean =>
  d.labelsBefore.length === d.labelsAfter.length && d.labelsBefore.every((l, i) => l === d.labelsAfter[i]);

function describeDiff(diff: PredictionDiff, textAfter: string, task: TaskKind): string[] {
  if (task !== 'ner')
    return [
      `labels: ${diff.labelsBefore.join(', ') || '(none)'} → ${diff.labelsAfter.join(', ') || '(none)'}`,
    ];
  return [
    ...diff.lost.map((s) => `lost ${describeSpan(textAfter, s)}`),
    ...diff.gained.map((s) => `gained ${describeSpan(textAfter, s)}`),
  ];
}

function scoreOf(prediction: Prediction, label: string): number {
  const score = prediction.scores?.find((s) => s.label === label)?.score;
  if (score !== undefined) return score;
  return prediction.labels?.includes(label) ? 1 : 0;
}

/** Why a directional case failed (empty when it passed), or null when the expectation does not apply to it. */
function directionalProblems(
  expect: z.output<typeof directionalExpectSchema>,
  before: Prediction,
  after: Prediction,
  edits: readonly TextEdit[],
  texts: { before: string; after: string },
  task: TaskKind,
): string[] | null {
  const problems: string[] = [];
  const diff = diffPredictions(before, after, edits);
  if (expect.class !== undefined) {
    const same = sameLabels(diff);
    const shown = `${diff.labelsBefore.join(', ') || '(none)'} → ${diff.labelsAfter.join(', ') || '(none)'}`;
    if (expect.class === 'changes' && same) problems.push(`class should change but stayed: ${shown}`);
    else if (expect.class === 'same' && !same) problems.push(`class should stay but changed: ${shown}`);
    else if (typeof expect.class === 'object' && !diff.labelsAfter.includes(expect.class.to))
      problems.push(`class should become ${expect.class.to}: ${shown}`);
  }
  if (expect.entities !== undefined) {
    const same = diff.lost.length === 0 && diff.gained.length === 0;
    if (expect.entities === 'changes' && same) problems.push('entities should change but stayed the same');
    else if (expect.entities === 'same' && !same)
      problems.push(...describeDiff(diff, texts.after, task).map((d) => `entities changed: ${d}`));
  }
  if (expect.confidence) {
    const { direction, tolerance } = expect.confidence;
    const worse = (b: number, a: number) => (direction === 'up' ? a < b - tolerance : a > b + tolerance);
    const arrow = direction === 'up' ? 'should not drop' : 'should not rise';
    const onlyConfidence = expect.class === undefined && expect.entities === undefined;
    if (task === 'ner') {
      const spans = (before.spans ?? []).filter(
        (s) => expect.confidence!.label === undefined || s.label === expect.confidence!.label,
      );
      if (spans.length === 0 && onlyConfidence) return null;
      for (const span of spans) {
        const mapped = mapSpan(span, edits);
        const afterScore = mapped ? ((after.spans ?? []).find((s) => key(s) === key(mapped))?.score ?? 0) : 0;
        if (worse(span.score, afterScore))
          problems.push(
            `confidence of ${describeSpan(texts.before, span)} ${arrow}: ${span.score.toFixed(2)} → ${afterScore.toFixed(2)}`,
          );
      }
    } else {
      const label = expect.confidence.label ?? before.labels?.[0] ?? before.scores?.[0]?.label;
      if (label === undefined) return onlyConfidence ? null : problems;
      const b = scoreOf(before, label);
      const a = scoreOf(after, label);
      if (worse(b, a)) problems.push(`confidence of ${label} ${arrow}: ${b.toFixed(2)} → ${a.toFixed(2)}`);
    }
  }
  return problems;
}

// ─── running tests ──────────────────────────────────────────────────────────────────────────────

/** A text and what the model predicted for it. */
export interface PredictedText {
  text: string;
  prediction: Prediction;
  /** The text with its predicted entities marked (NER), for display. */
  marked?: string;
}

/** One failed case: the source (invariance, directional), the tested text and what went wrong. */
export interface BehaviouralFailure {
  /** The unperturbed text and its prediction (absent for templates). */
  before?: PredictedText;
  after: PredictedText;
  /** What went wrong, one line each. */
  differences: string[];
}

/** Outcome of one behavioural test. */
export interface BehaviouralTestResult {
  name: string;
  type: BehaviourTest['type'];
  description?: string;
  /** Cases checked (source examples the perturbation applied to, or template fillings). */
  cases: number;
  failures: number;
  /** failures / cases (0 when there were no cases). */
  failureRate: number;
  /** Source examples the perturbation did not apply to (nothing to swap or change). */
  skipped: number;
  maxFailureRate: number | null;
  /** True when maxFailureRate is set and the failure rate is above it. */
  exceeded: boolean;
  /** The first failures, with before and after. */
  examples: BehaviouralFailure[];
}

/** Options for {@link runBehaviouralTests}. */
export interface BehaviouralOptions {
  /** Failures kept as examples per test (default 5). */
  examplesPerTest?: number;
}

/** Resolves a test's `data: dataset[:split]` to examples. */
export type ExamplesFor = (data: string) => Promise<Example[]> | Example[];

/** Picks at most `limit` items, a seeded sample in their original order when there are more. */
export function sampleInOrder<T>(items: readonly T[], limit: number, seed: number): T[] {
  if (items.length <= limit) return [...items];
  const rng = createRng(seed).fork('sample');
  const indices = rng
    .shuffle(items.map((_, i) => i))
    .slice(0, limit)
    .sort((a, b) => a - b);
  return indices.map((i) => items[i]!);
}

/**
 * Every filling of a template (the cartesian product of its values, in order), sampled down to `limit`.
 *
 * @example
 * expandTemplate('{brand} {item}', { brand: ['Nike', 'Puma'], item: ['cap'] }, 10, 13);
 * // [{ text: 'Nike cap', values: { brand: 'Nike', item: 'cap' } }, { text: 'Puma cap', … }]
 */
export function expandTemplate(
  template: string,
  fill: Record<string, string[]>,
  limit: number,
  seed: number,
): { text: string; values: Record<string, string> }[] {
  const names = Object.keys(fill);
  const total = names.reduce((n, name) => n * fill[name]!.length, 1);
  const all = Array.from({ length: total }, (_, i) => i);
  return sampleInOrder(all, limit, seed).map((index) => {
    const values: Record<string, string> = {};
    let rest = index;
    for (let k = names.length - 1; k >= 0; k--) {
      const list = fill[names[k]!]!;
      values[names[k]!] = list[rest % list.length]!;
      rest = Math.floor(rest / list.length);
    }
    return { text: fillTemplate(template, values), values };
  });
}

/** Replaces every `{name}` whose value is given; other braces are left alone. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
}

function fillExpectations(expect: Expectations, values: Record<string, string>): Expectations {
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') return fillTemplate(v, values);
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(expect) as Expectations;
}

function predicted(text: string, prediction: Prediction, task: TaskKind): PredictedText {
  return task === 'ner'
    ? { text, prediction, marked: markEntities(text, prediction.spans ?? []) }
    : { text, prediction };
}

function summarise(
  test: BehaviourTest,
  cases: number,
  skipped: number,
  failures: BehaviouralFailure[],
  keep: number,
): BehaviouralTestResult {
  const failureRate = cases === 0 ? 0 : failures.length / cases;
  return {
    name: test.name,
    type: test.type,
    ...(test.description !== undefined ? { description: test.description } : {}),
    cases,
    failures: failures.length,
    failureRate,
    skipped,
    maxFailureRate: test.maxFailureRate,
    exceeded: test.maxFailureRate !== null && failureRate > test.maxFailureRate,
    examples: failures.slice(0, keep),
  };
}

async function runMft(
  model: Model,
  test: Extract<BehaviourTest, { type: 'mft' }>,
  keep: number,
): Promise<BehaviouralTestResult> {
  const filled = expandTemplate(test.template, test.fill, test.limit, test.seed);
  const predictions = filled.length
    ? await predictMany(
        model,
        filled.map((f) => ({ text: f.text })),
      )
    : [];
  const failures: BehaviouralFailure[] = [];
  filled.forEach((f, i) => {
    const prediction = predictions[i] ?? {};
    const expect = fillExpectations(test.expect, f.values);
    const differences = checkExpectations(f.text, prediction, expect).map(
      (b) => `${b.path}: ${b.expectation}: expected ${b.expected}, got ${b.actual}`,
    );
    if (differences.length > 0)
      failures.push({ after: predicted(f.text, prediction, model.task), differences });
  });
  return summarise(test, filled.length, 0, failures, keep);
}

async function runPerturbation(
  model: Model,
  test: Extract<BehaviourTest, { type: 'invariance' | 'directional' }>,
  examplesFor: ExamplesFor,
  keep: number,
): Promise<BehaviouralTestResult> {
  const source: Pick<Example, 'text' | 'spans'>[] =
    test.texts !== undefined ? test.texts.map((text) => ({ text })) : await examplesFor(test.data!);
  const sampled = sampleInOrder(source, test.limit, test.seed);
  const rng = createRng(test.seed).fork('perturb');
  const pairs: { text: string; perturbed: PerturbedText }[] = [];
  for (const example of sampled) {
    const perturbed = perturbText(example.text, test.perturb, { spans: example.spans, rng });
    if (perturbed) pairs.push({ text: example.text, perturbed });
  }
  const before = pairs.length
    ? await predictMany(
        model,
        pairs.map((p) => ({ text: p.text })),
      )
    : [];
  const after = pairs.length
    ? await predictMany(
        model,
        pairs.map((p) => ({ text: p.perturbed.text })),
      )
    : [];
  const failures: BehaviouralFailure[] = [];
  let cases = 0;
  pairs.forEach((pair, i) => {
    const b = before[i] ?? {};
    const a = after[i] ?? {};
    const texts = { before: pair.text, after: pair.perturbed.text };
    let differences: string[] | null;
    if (test.type === 'invariance') {
      const diff = diffPredictions(b, a, pair.perturbed.edits);
      const changed =
        model.task === 'ner' ? diff.lost.length > 0 || diff.gained.length > 0 : !sameLabels(diff);
      differences = changed ? describeDiff(diff, texts.after, model.task) : [];
    } else {
      differences = directionalProblems(test.expect, b, a, pair.perturbed.edits, texts, model.task);
    }
    if (differences === null) return;
    cases++;
    if (differences.length > 0)
      failures.push({
        before: predicted(pair.text, b, model.task),
        after: predicted(pair.perturbed.text, a, model.task),
        differences,
      });
  });
  return summarise(test, cases, sampled.length - cases, failures, keep);
}

/**
 * Runs behavioural tests against a model and reports, per test, its cases, failures, failure rate and the first
 * failures with the prediction before and after.
 *
 * @example
 * const results = await runBehaviouralTests(model, card.behaviour, (ref) => loadSplit(store, ref));
 * for (const r of results) console.log(r.name, r.failureRate);
 */
export async function runBehaviouralTests(
  model: Model,
  tests: readonly BehaviourTest[],
  examplesFor: ExamplesFor,
  options: BehaviouralOptions = {},
): Promise<BehaviouralTestResult[]> {
  const keep = options.examplesPerTest ?? 5;
  const results: BehaviouralTestResult[] = [];
  for (const test of tests) {
    results.push(
      test.type === 'mft'
        ? await runMft(model, test, keep)
        : await runPerturbation(model, test, examplesFor, keep),
    );
  }
  return results;
}
